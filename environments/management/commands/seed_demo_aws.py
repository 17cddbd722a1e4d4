from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from environments.demo import DEMO_ENVIRONMENTS, demo_environments_seed, demo_extras_seed, demo_resources_seed
from environments.models import Environment


class Command(BaseCommand):
    help = "Local mode: create the Sandbox and Production environments and the demo AWS resources (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--endpoint-url", default=None, help="Emulator endpoint (default: LOCAL_AWS_ENDPOINT_URL).")

    def handle(self, *args, endpoint_url=None, **options):
        if not settings.LOCAL_MODE:
            raise CommandError("Demo resources are only seeded in local mode (EVENTCONSOLE_LOCAL_MODE=true).")
        report = demo_environments_seed(endpoint_url=endpoint_url)
        for spec in DEMO_ENVIRONMENTS:  # Sandbox first: its Region (us-east-1) gets the global S3 bucket
            environment = Environment.objects.get(name=spec["name"])
            if not environment.is_emulated:
                self.stdout.write(f"skipped {environment}: it points at real AWS")
                continue
            seeded = {**demo_resources_seed(environment), **demo_extras_seed(environment)}
            for resource, state in seeded.items():
                report[f"{environment.name}: {resource}"] = state
        created = [name for name, state in report.items() if state == "created"]
        for name in created:
            self.stdout.write(f"created {name}")
        self.stdout.write(self.style.SUCCESS(
            f"Demo AWS seed: {len(created)} created, {len(report) - len(created)} already there."))
