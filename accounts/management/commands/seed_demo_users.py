from django.core.management.base import BaseCommand, CommandError

from accounts.demo import demo_users_seed


class Command(BaseCommand):
    help = "Local mode: create one demo user per role and print their passwords (idempotent)."

    def handle(self, *args, **options):
        try:
            rows = demo_users_seed()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        for row in rows:
            self.stdout.write(f"{row['username']:<10} {row['password']:<16} {row['role']}")
