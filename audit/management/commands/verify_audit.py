from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from audit.checkpoints import audit_checkpoint_write, checkpoint_path
from audit.services import audit_verify


class Command(BaseCommand):
    help = ("Walk the audit hash chain (keyed) and hold it against the checkpoints kept outside the database; name "
            "the first event that was altered, removed, forged or truncated (exit status 1). A clean run appends a "
            "new checkpoint.")

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--no-checkpoint", action="store_true", help="do not append a checkpoint after a clean run")

    def handle(self, *args, database, no_checkpoint, **options):
        result = audit_verify(using=database)
        if result.problem is not None:
            raise CommandError(f"Audit chain broken at {result.problem}.")
        if not no_checkpoint:
            audit_checkpoint_write(using=database)
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {result.count} events. {result.checkpoints} checkpoint(s) in {checkpoint_path()} "
            "match."))
