from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Walk the audit hash chain; name the first event that was altered or removed (exit status 1)."

    def handle(self, *args, **options):
        problem = audit_verify_chain()
        if problem is not None:
            raise CommandError(f"Audit chain broken at {problem}.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {AuditEvent.objects.count()} events."))
