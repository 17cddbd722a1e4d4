from django.conf import settings
from django.urls import NoReverseMatch, reverse

from accounts.roles import ROLE_NAMES

NAVIGATION = [
    ("Rules", "rules:rule_list"),
    ("Schedules", "schedules:schedule_list"),
    ("Inventory", "inventory:search"),
    ("Reviews", "changes:review_list"),
    ("Audit", "audit:event_list"),
    ("Environments", "environments:environment_list"),
]


def _nav_items(request):
    items = []
    for label, name in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:  # that part of the console is not installed yet
            url = None
        items.append({"label": label, "url": url, "active": bool(url) and request.path.startswith(url)})
    return items


def console(request):
    """Values every page needs: navigation, the user's roles, and whether AWS is the local emulator."""
    user = getattr(request, "user", None)
    roles, role_rows = [], []
    if user is not None and user.is_authenticated:
        from accounts.permissions import roles_by_environment

        role_rows = roles_by_environment(user)  # [("every environment", [...]), ("Sandbox", [...])]
        everywhere = role_rows[0][1] if role_rows and role_rows[0][0] == "every environment" else []
        roles = [name for name in everywhere if name in ROLE_NAMES]
    return {"LOCAL_MODE": settings.LOCAL_MODE, "nav_items": _nav_items(request), "user_roles": roles,
            "role_rows": role_rows}
