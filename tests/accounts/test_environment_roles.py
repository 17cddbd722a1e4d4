"""Roles in one environment: granting and revoking (audited, from every path), the no-role page, what
the menu shows, and the server refusing an environment the first step of a flow did not offer."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.models import RoleGrant
from accounts.permissions import ALL, environments_where, user_can
from accounts.services import role_grant, role_revoke, user_create, user_set_environment_roles
from audit.models import AuditEvent
from changes import services
from changes.models import ChangeRequest
from changes.services import NotAllowed
from environments.models import Environment

pytestmark = pytest.mark.django_db

SUBMIT = "changes.submit_changerequest"


@pytest.fixture
def two(db):
    return (Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url="http://127.0.0.1:9"),
            Environment.objects.create(name="Production", region="eu-west-1", endpoint_url="http://127.0.0.1:9",
                                       is_production=True, approvals_required=1))


@pytest.fixture
def alice(db):
    return user_create(username="alice", password="x-1-long-enough", roles=[])


def _user_events(user):
    return list(AuditEvent.objects.filter(action="user.changed", object_id=str(user.pk)).order_by("id"))


def test_a_grant_holds_in_its_environment_only_and_revoking_takes_it_back(alice, two, users):
    sandbox, production = two
    role_grant(user=alice, role="Operators", environment=sandbox, actor=users["admin"])
    assert user_can(alice, SUBMIT, sandbox) and not user_can(alice, SUBMIT, production)
    assert environments_where(alice, SUBMIT) == frozenset({sandbox.pk})
    assert not user_can(alice, "environments.add_environment", sandbox)
    assert environments_where(users["operator"], SUBMIT) is ALL  # a role group: every environment
    role_revoke(user=alice, role="Operators", environment=sandbox, actor=users["admin"])
    assert not user_can(alice, SUBMIT, sandbox)
    assert not RoleGrant.objects.filter(user=alice).exists()


def test_every_grant_and_revoke_is_audited_with_who_and_where(alice, two, users):
    sandbox, _ = two
    role_grant(user=alice, role="Operators", environment=sandbox, actor=users["admin"])
    role_grant(user=alice, role="Operators", environment=sandbox, actor=users["admin"])  # no change: no event
    role_revoke(user=alice, role="Operators", environment=sandbox, actor=users["admin"])
    granted, revoked = _user_events(alice)[-2:]
    assert len([e for e in _user_events(alice) if "Sandbox" in e.message]) == 2
    assert granted.actor_id == users["admin"].pk and granted.environment_name == "Sandbox"
    assert granted.after["environment_roles"] == ["Operators in Sandbox"]
    assert revoked.before["environment_roles"] == ["Operators in Sandbox"]
    assert revoked.after["environment_roles"] == []


def test_set_roles_with_an_environment(alice, two):
    out = io.StringIO()
    call_command("set_roles", "alice", "Operators", "Viewers", "--environment", "Production", stdout=out)
    assert "Operators, Viewers in Production" in out.getvalue()
    assert sorted(RoleGrant.objects.filter(user=alice).values_list("role", "environment__name")) == [
        ("Operators", "Production"), ("Viewers", "Production")]
    call_command("set_roles", "alice", "Viewers", "--environment", "Production", stdout=out)
    assert list(RoleGrant.objects.filter(user=alice).values_list("role", flat=True)) == ["Viewers"]
    assert not alice.groups.exists()  # roles everywhere are untouched
    assert "Roles in Production set to Viewers" in _user_events(alice)[-1].message
    with pytest.raises(CommandError, match="No environment 'Staging'"):
        call_command("set_roles", "alice", "Viewers", "--environment", "Staging")
    with pytest.raises(CommandError, match="Unknown role"):
        call_command("set_roles", "alice", "Wizards", "--environment", "Production")


def test_the_admin_site_grants_and_revokes_per_environment_roles_and_audits_it(alice, two, client_for, users):
    sandbox, production = two
    admin = client_for("admin")
    url = reverse("admin:auth_user_change", args=[alice.pk])
    form = admin.get(url).context["adminform"].form
    data = {name: form[name].value() for name in ("username", "first_name", "last_name", "email")}
    data.update({"is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                 "role_grants-TOTAL_FORMS": "1", "role_grants-INITIAL_FORMS": "0",
                 "role_grants-0-role": "Reviewers", "role_grants-0-environment": production.pk})
    response = admin.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert user_can(get_user_model().objects.get(pk=alice.pk), "changes.review_changerequest", production)
    event = _user_events(alice)[-1]
    assert event.actor_id == users["admin"].pk
    assert event.before["environment_roles"] == [] and event.after["environment_roles"] == ["Reviewers in Production"]

    grant = RoleGrant.objects.get(user=alice)
    data.update({"role_grants-INITIAL_FORMS": "1", "role_grants-0-id": grant.pk, "role_grants-0-user": alice.pk,
                 "role_grants-0-DELETE": "on"})
    assert admin.post(url, {k: v for k, v in data.items() if v is not None}).status_code == 302
    assert not RoleGrant.objects.filter(user=alice).exists()
    assert _user_events(alice)[-1].after["environment_roles"] == []


def test_a_user_without_any_role_sees_a_page_saying_so_and_403_elsewhere(alice, users):
    users["admin"].email = "admin@example.com"
    users["admin"].save()
    client = Client()
    client.force_login(alice)
    home = client.get(reverse("dashboard:dashboard"))
    assert home.status_code == 200
    assert "You have no role in EventConsole yet" in home.content.decode()
    assert "admin@example.com" in home.content.decode()  # who to ask
    assert "environments" not in home.context  # not the dashboard
    for name in ("rules:rule_list", "schedules:schedule_list", "changes:review_list", "audit:event_list",
                 "environments:environment_list", "core:health"):
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert "You have no role in EventConsole yet" in response.content.decode()
    before = ChangeRequest.objects.count()
    assert client.post(reverse("rules:rule_add"), {}).status_code == 403
    assert ChangeRequest.objects.count() == before
    # Signing out still works.
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard:dashboard")).status_code == 302  # to the sign-in page now


def test_a_grant_is_enough_to_leave_the_no_role_page(alice, two):
    user_set_environment_roles(user=alice, environment=two[0], roles=["Viewers"])
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("dashboard:dashboard"))
    assert page.status_code == 200 and [e.name for e in page.context["environments"]] == ["Sandbox"]
    assert "Viewers in Sandbox" in page.content.decode()  # the menu shows roles per environment


def test_the_menu_shows_roles_everywhere_and_per_environment(users, two):
    user_set_environment_roles(user=users["viewer"], environment=two[1], roles=["Reviewers"])
    client = Client()
    client.force_login(users["viewer"])
    html = client.get(reverse("dashboard:dashboard")).content.decode()
    assert "(Viewers everywhere; Reviewers in Production)" in html


def test_the_server_refuses_an_environment_the_first_step_did_not_offer(alice, two):
    sandbox, production = two
    user_set_environment_roles(user=alice, environment=sandbox, roles=["Operators"])
    client = Client()
    client.force_login(alice)
    assert client.post(reverse("rules:rule_add"), {"environment": production.pk}).status_code == 403
    client.post(reverse("rules:rule_add"), {"environment": sandbox.pk})
    draft = ChangeRequest.objects.get(author=alice)
    page = client.get(reverse("rules:draft_step", args=[draft.pk, "detail"]))
    assert [e.name for e in page.context["form"].fields["environment"].queryset] == ["Sandbox"]
    client.post(reverse("rules:draft_step", args=[draft.pk, "detail"]),
                {"detail-environment": production.pk, "detail-name": "r1", "detail-event_bus": "default",
                 "detail-rule_type": "pattern", "_go": "save"})
    draft.refresh_from_db()
    assert draft.environment == sandbox  # never moved to Production
    # and the service refuses it too, whoever calls it
    with pytest.raises(NotAllowed):
        services.change_request_draft_save(draft, actor=alice, step="detail", spec={}, wizard={},
                                           environment=production)
    with pytest.raises(NotAllowed):
        services.change_request_draft_create(kind="rule", action="create", environment=production, author=alice)
    draft.refresh_from_db()
    assert draft.environment == sandbox


def test_a_group_can_hold_a_role_in_one_environment_for_all_its_members(alice, two, client_for, users):
    from django.contrib.auth.models import Group

    from accounts.services import group_set_environment_roles

    sandbox, production = two
    team = Group.objects.create(name="Payments team")
    alice.groups.add(team)
    group_set_environment_roles(group=team, environment=sandbox, roles=["Operators"], actor=users["admin"])
    alice = get_user_model().objects.get(pk=alice.pk)
    assert user_can(alice, SUBMIT, sandbox) and not user_can(alice, SUBMIT, production)
    event = AuditEvent.objects.filter(action="group.changed", object_id=str(team.pk)).latest("id")
    assert event.after == {"environment_roles": ["Operators in Sandbox"]} and event.actor_id == users["admin"].pk

    # The group's admin page grants too, audited in the group's snapshot.
    admin = client_for("admin")
    url = reverse("admin:auth_group_change", args=[team.pk])
    grant = RoleGrant.objects.get(group=team)
    response = admin.post(url, {"name": "Payments team", "role_grants-TOTAL_FORMS": "2",
                                "role_grants-INITIAL_FORMS": "1", "role_grants-0-id": grant.pk,
                                "role_grants-0-group": team.pk, "role_grants-0-role": "Operators",
                                "role_grants-0-environment": sandbox.pk, "role_grants-1-role": "Viewers",
                                "role_grants-1-environment": production.pk})
    assert response.status_code == 302
    alice = get_user_model().objects.get(pk=alice.pk)
    assert user_can(alice, "rules.view_rule", production) and not user_can(alice, SUBMIT, production)
    event = AuditEvent.objects.filter(action="group.changed", object_id=str(team.pk)).latest("id")
    assert event.after["environment_roles"] == ["Operators in Sandbox", "Viewers in Production"]
    client = Client()
    client.force_login(alice)
    assert "(Viewers in Production; Operators in Sandbox)" in client.get(reverse("dashboard:dashboard")).content.decode()


def test_the_services_refuse_whoever_calls_them_once_the_role_is_gone(alice, two, users):
    from changes.choices import ChangeState

    sandbox, production = two
    user_set_environment_roles(user=alice, environment=sandbox, roles=["Operators"])
    draft = services.change_request_draft_create(kind="rule", action="create", environment=sandbox, author=alice)
    failed = ChangeRequest.objects.create(kind="rule", action="update", environment=sandbox, author=alice,
                                          state=ChangeState.FAILED, spec={}, object_name="f")
    user_set_environment_roles(user=alice, environment=sandbox, roles=["Viewers"])  # no longer an operator there
    for call in (lambda: services.change_request_submit(draft, actor=alice),
                 lambda: services.change_request_withdraw(draft, actor=alice),
                 lambda: services.change_request_retry(failed, actor=alice),
                 lambda: services.change_request_back_to_draft(failed, actor=alice),
                 lambda: services.change_request_comment(failed, author=alice, body="hi")):
        with pytest.raises(NotAllowed):
            call()
    assert ChangeRequest.objects.get(pk=draft.pk).state == ChangeState.DRAFT
    assert ChangeRequest.objects.get(pk=failed.pk).state == ChangeState.FAILED
    assert ChangeRequest.objects.filter(author=alice).count() == 2 and not failed.comments.exists()
    # A reviewer in Production only may not retry a failed Sandbox change either.
    bob = user_create(username="bob", password="x-1-long-enough", roles=[])
    user_set_environment_roles(user=bob, environment=production, roles=["Reviewers"])
    with pytest.raises(NotAllowed):
        services.change_request_retry(failed, actor=bob)
    assert ChangeRequest.objects.get(pk=failed.pk).state == ChangeState.FAILED


def test_a_grant_made_outside_the_services_and_admin_is_recorded_too(alice, two):
    """A shell or a script saving RoleGrant directly still leaves the grant and its removal in the chain."""
    sandbox, _ = two
    grant = RoleGrant.objects.create(user=alice, role="Operators", environment=sandbox)
    grant.delete()
    events = list(AuditEvent.objects.filter(action="role_grant.changed").order_by("id"))
    assert [(e.before, e.after) for e in events] == [
        (None, {"user": "alice", "group": None, "environment": "Sandbox", "role": "Operators"}),
        ({"user": "alice", "group": None, "environment": "Sandbox", "role": "Operators"}, None),
    ]
    assert {e.environment_name for e in events} == {"Sandbox"}


def test_the_services_record_a_grant_once(alice, two):
    sandbox, _ = two
    role_grant(user=alice, role="Operators", environment=sandbox)
    assert AuditEvent.objects.filter(action="role_grant.changed").count() == 0  # the user's own event covers it
    assert [e.message for e in _user_events(alice)][-1] == "Roles in Sandbox set to Operators"
