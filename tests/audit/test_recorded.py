"""What gets recorded: sign-in, failed sign-in, sign-out, and every change to users, groups (membership and
permissions) and environments, from the pages, the admin site, management commands or plain ORM code."""
import io
import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from environments.models import Environment
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", "actor_name", "object_repr"))


def test_sign_in_failed_sign_in_and_sign_out(client, users):
    start = AuditEvent.objects.count()
    assert start and not AuditEvent.objects.filter(action__startswith="auth.").exists()  # so far: creating the users
    client.post(reverse("login"), {"username": "viewer", "password": "nope"}, HTTP_USER_AGENT="pytest-browser")
    client.post(reverse("login"), {"username": "viewer", "password": PASSWORD})
    client.post(reverse("logout"))
    events = list(AuditEvent.objects.order_by("id")[start:])
    assert [(e.action, e.actor_name, e.object_repr) for e in events] == [
        ("auth.sign_in_failed", "system", "viewer"), ("auth.signed_in", "viewer", "viewer"),
        ("auth.signed_out", "viewer", "viewer")]
    assert events[0].user_agent == "pytest-browser" and events[0].ip_address == "127.0.0.1"
    assert events[0].request_id and events[1].request_id != events[0].request_id


def test_role_changes_are_recorded(users):
    from accounts.services import user_set_roles

    user_set_roles(user=users["viewer"], roles=["Operators"], actor=users["admin"])
    event = AuditEvent.objects.filter(action="user.changed", object_repr="viewer").first()  # newest (events are ordered newest first)
    assert event.actor_name == "admin"
    assert {"path": "groups", "old": ["Viewers"], "new": ["Operators"]} in event.diff


def test_user_and_group_changes_in_the_admin_site_are_recorded(client_for, users):
    admin = client_for("admin")
    user = users["viewer"]
    reviewers = Group.objects.get(name="Reviewers")
    response = admin.post(reverse("admin:auth_user_change", args=[user.pk]), {
        "username": "viewer", "email": "viewer@example.com", "is_active": "on", "groups": [reviewers.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        # the page's inline of roles in one environment (none here)
        "role_grants-TOTAL_FORMS": "0", "role_grants-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:3000]
    event = AuditEvent.objects.filter(action="user.changed", object_repr="viewer").first()  # newest (events are ordered newest first)
    assert event.actor_name == "admin"
    paths = {d["path"] for d in event.diff}
    assert {"email", "groups"} <= paths

    group = Group.objects.get(name="Viewers")
    admin.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": "Viewers", "permissions": [],
                                                                      "role_grants-TOTAL_FORMS": "0",
                                                                      "role_grants-INITIAL_FORMS": "0"})
    event = AuditEvent.objects.filter(action="group.changed", object_repr="Viewers").first()  # newest (events are ordered newest first)
    assert event.actor_name == "admin" and event.after["permissions"] == []


def test_environment_changes_are_recorded(client_for, db):
    admin = client_for("admin")
    admin.post(reverse("environments:environment_add"), {"name": "Staging", "region": "us-west-2",
                                                         "approvals_required": 0})
    environment = Environment.objects.get(name="Staging")
    admin.post(reverse("environments:environment_edit", args=[environment.pk]),
               {"name": "Staging", "region": "us-west-2", "approvals_required": 1, "is_production": "on"})
    admin.post(reverse("environments:environment_delete", args=[environment.pk]))
    events = list(AuditEvent.objects.filter(action="environment.changed").order_by("id"))
    assert [e.message for e in events] == ["Environment created", "Environment changed", "Environment deleted"]
    assert {"path": "approvals_required", "old": 0, "new": 1} in events[1].diff
    assert all(e.actor_name == "admin" for e in events)


# --- every change to environments, users and groups, from any path (audit.recorder) ------------------------

def new_events(start_id: int):
    return list(AuditEvent.objects.filter(id__gt=start_id).order_by("id"))


def last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def no_secrets(events) -> None:
    """No event holds a password hash (the test hasher's prefix) or the password itself."""
    for event in events:
        text = json.dumps([event.before, event.after, event.diff, event.data, event.message])
        assert "md5$" not in text and "pbkdf2" not in text and "s3cret-Passw0rd" not in text


ADMIN_ENV_FORM = {"name": "Production", "region": "eu-west-1", "account_id": "", "endpoint_url": "", "role_arn": "",
                  "is_production": "on", "description": "", "pattern_size_max": "2048",
                  "api_rate_limit": "20"}  # the admin's form has every field (the schema's api_rate_limit too)


def test_production_approvals_lowered_in_the_admin_site_are_recorded_once_with_before_and_after(client_for):
    production = Environment.objects.create(name="Production", region="eu-west-1", is_production=True,
                                            approvals_required=2)
    admin = client_for("admin")  # signing in is an event of its own
    start = last_id()
    response = admin.post(reverse("admin:environments_environment_change", args=[production.pk]),
                          {**ADMIN_ENV_FORM, "approvals_required": 0})
    assert response.status_code == 302, response.content[:2000]
    production.refresh_from_db()
    assert production.approvals_required == 0
    [event] = new_events(start)
    assert (event.action, event.actor_name, event.object_repr, event.environment_name) == (
        "environment.changed", "admin", "Production", "Production")
    assert event.before["approvals_required"] == 2 and event.after["approvals_required"] == 0
    assert {"path": "approvals_required", "old": 2, "new": 0} in event.diff

    admin.post(reverse("admin:environments_environment_delete", args=[production.pk]), {"post": "yes"})
    [deleted] = new_events(event.pk)
    assert deleted.message == "Environment deleted" and deleted.actor_name == "admin" and deleted.after is None


def test_environment_changes_outside_the_pages_are_recorded(db):
    start = last_id()
    environment = Environment.objects.create(name="Staging", region="us-west-2", approvals_required=1)
    environment.approvals_required = 0
    environment.save()
    environment.save()  # nothing changed: nothing recorded
    Environment.objects.get(pk=environment.pk).delete()
    events = new_events(start)
    assert [(e.message, e.actor_name) for e in events] == [
        ("Environment created", "system"), ("Environment changed", "system"), ("Environment deleted", "system")]
    assert events[1].diff == [{"path": "approvals_required", "old": 1, "new": 0}]
    assert all(e.environment_id == environment.pk for e in events)


def test_createsuperuser_and_changepassword_commands_are_recorded_without_the_password(db, monkeypatch):
    start = last_id()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-Passw0rd")
    call_command("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com", verbosity=0)
    created = new_events(start)
    assert [(e.action, e.object_repr, e.message) for e in created] == [("user.changed", "root", "User created")]
    assert created[0].after["is_superuser"] is True and "password" not in created[0].after

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "An0ther-s3cret-Passw0rd")
    call_command("changepassword", "root", stdout=io.StringIO())
    changed = new_events(created[-1].pk)
    assert [(e.object_repr, e.message, e.data) for e in changed] == [
        ("root", "User changed; password changed", {"changed": ["password"]})]
    no_secrets(created + changed)
    assert "An0ther" not in json.dumps([changed[0].before, changed[0].after, changed[0].data])


def test_set_roles_command_records_one_event(users):
    start = last_id()
    call_command("set_roles", "viewer", "Reviewers", stdout=io.StringIO())
    [event] = new_events(start)
    assert event.message == "Roles set to Reviewers" and event.actor_name == "system"
    assert {"path": "groups", "old": ["Viewers"], "new": ["Reviewers"]} in event.diff


def test_membership_and_permission_changes_from_either_side_are_recorded(users):
    viewer, admins = users["viewer"], Group.objects.get(name="Admins")
    start = last_id()
    admins.user_set.add(viewer)  # from the group's side
    [joined] = new_events(start)
    assert (joined.object_type, joined.object_repr) == ("user", "viewer")
    assert {"path": "groups", "old": ["Viewers"], "new": ["Admins", "Viewers"]} in joined.diff

    permission = Permission.objects.get(codename="delete_environment")
    admins.permissions.remove(permission)
    [group_event] = new_events(joined.pk)
    assert (group_event.object_type, group_event.object_repr) == ("group", "Admins")
    assert "environments.delete_environment" in group_event.before["permissions"]
    assert "environments.delete_environment" not in group_event.after["permissions"]

    viewer.user_permissions.add(permission)
    [direct] = new_events(group_event.pk)
    assert direct.object_repr == "viewer" and direct.after["permissions"] == ["environments.delete_environment"]

    admins.user_set.clear()
    cleared = new_events(direct.pk)
    assert sorted(e.object_repr for e in cleared) == ["admin", "viewer"]
    assert all("Admins" not in e.after["groups"] for e in cleared)


def test_password_change_and_user_permissions_in_the_admin_site_are_recorded(client_for, users):
    admin, viewer = client_for("admin"), users["viewer"]
    start = last_id()
    response = admin.post(reverse("admin:auth_user_password_change", args=[viewer.pk]),
                          {"password1": "s3cret-Passw0rd", "password2": "s3cret-Passw0rd", "usable_password": "true"})
    assert response.status_code == 302, response.content[:2000]
    [event] = new_events(start)
    assert (event.actor_name, event.object_repr, event.message) == ("admin", "viewer", "User changed; password changed")
    no_secrets([event])

    permission = Permission.objects.get(codename="test_connection")
    response = admin.post(reverse("admin:auth_user_change", args=[viewer.pk]), {
        "username": "viewer", "email": "", "is_active": "on", "groups": [Group.objects.get(name="Viewers").pk],
        "user_permissions": [permission.pk], "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
        "role_grants-TOTAL_FORMS": "0", "role_grants-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:2000]
    [event] = new_events(event.pk)  # one event for the whole form: the admin page records it itself
    assert event.actor_name == "admin"
    assert {"path": "permissions", "old": [], "new": ["environments.test_connection"]} in event.diff


def test_signing_in_records_no_user_change(client, users):
    start = last_id()
    client.post(reverse("login"), {"username": "viewer", "password": PASSWORD})
    assert [e.action for e in new_events(start)] == ["auth.signed_in"]  # last_login is not a change
