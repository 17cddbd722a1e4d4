from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLE_NAMES
from accounts.services import user_set_roles


class Command(BaseCommand):
    help = "Put a user in exactly the given roles: python manage.py set_roles alice Operators Reviewers"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("roles", nargs="*", help=f"any of {', '.join(ROLE_NAMES)}; none removes every role")

    def handle(self, *args, username, roles, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}. Create one first: python manage.py createsuperuser, "
                               "or the admin site's Users page.")
        try:
            user_set_roles(user=user, roles=roles, actor=None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{username}: {', '.join(roles) or 'no roles'}"))
