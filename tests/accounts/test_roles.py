"""Each role can do what it may and gets 403 for what it may not (table-driven)."""
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import ROLE_NAMES, ROLE_PERMISSIONS
from accounts.services import UnknownPermission, _permission, roles_sync, user_set_roles
from environments.models import Environment

pytestmark = pytest.mark.django_db

ROLES = ("operator", "reviewer", "viewer", "admin")


@pytest.fixture
def env_pk(db):
    # An environment whose endpoint answers nothing: Test connection must report it, not crash.
    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url="http://127.0.0.1:9").pk


# (what, method, url name, kwargs, data, roles allowed). Allowed: 200 (after redirects); otherwise 403.
ACTIONS = [
    ("dashboard", "get", "dashboard:dashboard", {}, None, ROLES),
    ("health page", "get", "core:health", {}, None, ROLES),
    ("environment list", "get", "environments:environment_list", {}, None, ROLES),
    ("environment detail", "get", "environments:environment_detail", {"pk": "env"}, None, ROLES),
    ("test connection", "post", "environments:environment_test", {"pk": "env"}, {}, ("operator", "reviewer", "admin")),
    ("add environment form", "get", "environments:environment_add", {}, None, ("admin",)),
    ("add environment", "post", "environments:environment_add", {},
     {"name": "Staging", "region": "us-west-2", "approvals_required": 0}, ("admin",)),
    ("edit environment form", "get", "environments:environment_edit", {"pk": "env"}, None, ("admin",)),
    ("edit environment", "post", "environments:environment_edit", {"pk": "env"},
     {"name": "Sandbox 2", "region": "us-east-1", "approvals_required": 0}, ("admin",)),
    ("delete environment confirm", "get", "environments:environment_delete", {"pk": "env"}, None, ("admin",)),
    ("delete environment", "post", "environments:environment_delete", {"pk": "env"}, {}, ("admin",)),
    ("admin site", "get", "admin:index", {}, None, ("admin",)),
    ("admin users", "get", "admin:auth_user_changelist", {}, None, ("admin",)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("what", "method", "name", "kwargs", "data", "allowed"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_role_matrix(client_for, env_pk, role, what, method, name, kwargs, data, allowed):
    url = reverse(name, kwargs={k: env_pk if v == "env" else v for k, v in kwargs.items()})
    response = getattr(client_for(role), method)(url, data or {}, follow=True)
    if role in allowed:
        assert response.status_code == 200, f"{role} should be able to {what}: {response.status_code}"
    else:
        assert response.status_code == 403, f"{role} must not {what}: got {response.status_code}"


def test_forbidden_write_changes_nothing(client_for, env_pk):
    client_for("operator").post(reverse("environments:environment_delete", args=[env_pk]))
    client_for("viewer").post(reverse("environments:environment_edit", args=[env_pk]),
                              {"name": "Hacked", "region": "us-east-1", "approvals_required": 0})
    assert Environment.objects.get(pk=env_pk).name == "Sandbox"


def test_every_role_permission_exists_and_groups_match_the_table():
    for dotted in {p for perms in ROLE_PERMISSIONS.values() for p in perms}:
        _permission(dotted)  # raises UnknownPermission when a role names a permission nobody defined
    roles_sync()
    for name in ROLE_NAMES:
        group = Group.objects.get(name=name)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert have == set(ROLE_PERMISSIONS[name])


def test_unknown_permission_is_reported():
    with pytest.raises(UnknownPermission):
        _permission("rules.fly_to_the_moon")


def test_admins_get_the_admin_site_and_lose_it_with_the_role(users):
    user = users["operator"]
    user_set_roles(user=user, roles=["Admins"])
    assert user.is_staff
    user_set_roles(user=user, roles=["Viewers"])
    user.refresh_from_db()
    assert not user.is_staff and [g.name for g in user.groups.all()] == ["Viewers"]
    with pytest.raises(ValueError, match="Unknown role"):
        user_set_roles(user=user, roles=["Wizards"])
