from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLE_NAMES
from accounts.services import user_set_environment_roles, user_set_roles


class Command(BaseCommand):
    help = ("Put a user in exactly the given roles: python manage.py set_roles alice Operators Reviewers "
            "(every environment), or in one environment only: set_roles alice Operators --environment Sandbox")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("roles", nargs="*", help=f"any of {', '.join(ROLE_NAMES)}; none removes every role")
        parser.add_argument("--environment", metavar="NAME", default=None,
                            help="set the roles in this environment only (roles held everywhere are untouched)")

    def handle(self, *args, username, roles, environment=None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}. Create one first: python manage.py createsuperuser, "
                               "or the admin site's Users page.")
        where = "every environment"
        try:
            if environment is None:
                user_set_roles(user=user, roles=roles, actor=None)
            else:
                from environments.models import Environment

                found = Environment.objects.filter(name=environment).first()
                if found is None:
                    names = ", ".join(Environment.objects.order_by("name").values_list("name", flat=True)) or "none yet"
                    raise CommandError(f"No environment {environment!r}. Environments: {names}.")
                user_set_environment_roles(user=user, environment=found, roles=roles, actor=None)
                where = found.name
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{username}: {', '.join(roles) or 'no roles'} in {where}"))
