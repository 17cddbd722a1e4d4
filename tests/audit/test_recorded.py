"""What gets recorded: sign-in, failed sign-in, sign-out, user and group changes, environment changes."""
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEvent
from environments.models import Environment
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", "actor_name", "object_repr"))


def test_sign_in_failed_sign_in_and_sign_out(client, users):
    AuditEvent.objects.all()  # events so far come from creating users
    start = AuditEvent.objects.count()
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
