"""Rule list and detail pages, and the actions that open changes (edit, enable/disable, clone, delete)."""
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changes.choices import ChangeState, SyncStatus
from changes.models import ChangeRequest
from environments import aws
from rules.models import Rule
from tests.rules import flow
from tests.rules.test_apply import submit_and_apply, worked_example_spec

pytestmark = pytest.mark.django_db


def make_rules(environment, count, **fields):
    spec = {"Rule": {"Name": "x", "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": '{"source":["aws.s3"]}'}, "Targets": [], "Tags": []}
    Rule.objects.bulk_create([Rule(environment=environment, name=f"rule-{i:05d}", desired_spec=spec, version=1,
                                   state="ENABLED" if i % 3 else "DISABLED", targets_count=i % 5 + 1,
                                   sync_status=SyncStatus.IN_SYNC if i % 2 else SyncStatus.DRIFTED,
                                   description=f"rule number {i}", **fields) for i in range(count)])


@pytest.fixture
def env(db):
    from environments.models import Environment

    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                      account_id="123456789012")


def test_list_search_filter_sort_and_paginate(client_for, env):
    make_rules(env, 120)
    client = client_for("viewer")
    page = client.get(reverse("rules:rule_list"))
    assert page.status_code == 200
    assert len(page.context["table"].page.object_list) == 50
    assert page.context["table"].paginator.num_pages == 3
    found = client.get(reverse("rules:rule_list"), {"q": "number 7"}).context["table"]
    assert {r.record.name for r in found.page.object_list} >= {"rule-00007", "rule-00070"}
    disabled = client.get(reverse("rules:rule_list"), {"state": "DISABLED"}).context["table"]
    assert disabled.paginator.count == 40
    drifted = client.get(reverse("rules:rule_list"), {"status": "drifted"}).context["table"]
    assert drifted.paginator.count == 60
    ordered = client.get(reverse("rules:rule_list"), {"sort": "-name"}).context["table"]
    assert ordered.page.object_list[0].record.name == "rule-00119"
    partial = client.get(reverse("rules:rule_list"), {"q": "rule"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"rule-00000" in partial.content


def test_pending_change_and_apply_failed_statuses(client_for, env, users):
    make_rules(env, 3)
    rule = Rule.objects.get(name="rule-00001")
    ChangeRequest.objects.create(kind="rule", action="update", environment=env, rule=rule, author=users["operator"],
                                 state=ChangeState.SUBMITTED, object_name=rule.object_name)
    failed = Rule.objects.get(name="rule-00002")
    ChangeRequest.objects.create(kind="rule", action="update", environment=env, rule=failed, author=users["operator"],
                                 state=ChangeState.FAILED, object_name=failed.object_name)
    client = client_for("viewer")
    pending = client.get(reverse("rules:rule_list"), {"status": "pending_change"}).context["table"]
    assert [r.record.name for r in pending.page.object_list] == ["rule-00001"]
    failing = client.get(reverse("rules:rule_list"), {"status": "apply_failed"}).context["table"]
    assert [r.record.name for r in failing.page.object_list] == ["rule-00002"]
    assert b'data-status="pending_change"' in client.get(reverse("rules:rule_list")).content


@pytest.mark.parametrize("size", [10, 1000])
def test_list_queries_do_not_grow_with_the_number_of_rules(client_for, env, size):
    make_rules(env, size)
    client = client_for("viewer")
    client.get(reverse("rules:rule_list"))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("rules:rule_list")).status_code == 200
    # session, user, permissions, count, page, drafts, environments (filter + select): a fixed number.
    assert len(queries) <= 12, [q["sql"] for q in queries]


def test_detail_page_shows_pattern_diagram_targets_and_drift(client_for, env):
    make_rules(env, 1)
    rule = Rule.objects.get()
    rule.desired_spec = {"Rule": {"Name": rule.name, "EventBusName": "default", "State": "ENABLED",
                                  "EventPattern": json.dumps(flow.WORKED_EXAMPLE_PATTERN)},
                         "Targets": [{"Id": "Target1", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}],
                         "Tags": [{"Key": "team", "Value": "ops"}]}
    rule.sync_status = SyncStatus.DRIFTED
    rule.drift = [{"path": "Rule.State", "old": "ENABLED", "new": "DISABLED"}]
    rule.save()
    page = client_for("viewer").get(rule.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "processing-bucket-1" in body and "function:f" in body and "team=ops" in body
    assert 'data-testid="diagram"' in body and 'data-testid="drift"' in body and "Rule.State" in body
    # Viewers see no actions; an operator, who may submit in this environment, sees every one.
    actions = [f'action="{reverse("rules:rule_action", args=[rule.pk, action])}"'
               for action in ("edit", "enable", "clone")]  # rule-00000 is disabled: Enable, not Disable + [f'href="{reverse("rules:rule_delete", args=[rule.pk])}"']
    assert [a for a in actions if a in body] == []
    operator_body = client_for("operator").get(rule.get_absolute_url()).content.decode()
    assert [a for a in actions if a in operator_body] == actions


def test_history_tab_shows_the_rules_audit_events_with_actor_action_and_time(client_for, env, users):
    from audit.choices import AuditAction, ObjectType
    from audit.services import audit_record

    make_rules(env, 2)
    rule, other = Rule.objects.order_by("name")
    submitted = audit_record(action=AuditAction.SUBMITTED, object_type=ObjectType.RULE, object_id=rule.pk,
                             object_repr=rule.name, actor=users["operator"], environment=env,
                             message="first version")
    drift = audit_record(action=AuditAction.DRIFT_DETECTED, object_type=ObjectType.RULE, object_id=rule.pk,
                         object_repr=rule.name, environment=env, message="State changed in AWS")
    audit_record(action=AuditAction.DRIFT_CLEARED, object_type=ObjectType.RULE, object_id=other.pk,
                 object_repr=other.name, environment=env, message="about the other rule")

    page = client_for("viewer").get(rule.get_absolute_url(), {"tab": "history"})
    body = page.content.decode()
    assert 'id="history-pane" role="tabpanel"' in body
    assert 'class="tab-pane show active" id="history-pane"' in body  # the tab asked for is the one shown
    history = body.split('data-testid="history">')[1].split("</ol>")[0]
    plain = [" ".join(re.sub(r"<[^>]+>", "", "<li" + item).split()) for item in history.split("<li")[1:]]
    assert plain == [  # newest first: time (UTC, the console's zone), actor, action, message
        f"{drift.time:%Y-%m-%d %H:%M:%S} system drift detected: State changed in AWS",
        f"{submitted.time:%Y-%m-%d %H:%M:%S} operator change submitted: first version",
    ]
    assert f'href="/audit/history/rule/{rule.pk}/"' in body  # and the full history, one click away
    overview = client_for("viewer").get(rule.get_absolute_url()).content.decode()
    assert 'class="tab-pane show active" id="overview-pane"' in overview


@pytest.mark.aws
def test_edit_opens_the_flow_filled_in_and_submits_an_update(client_for, users, environment, demo_resources,
                                                             apply_inline):
    applied = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    rule = Rule.objects.get(pk=applied.rule_id)
    operator = client_for("operator")
    response = operator.post(reverse("rules:rule_action", args=[rule.pk, "edit"]))
    draft = ChangeRequest.objects.filter(state=ChangeState.DRAFT).get()
    assert response["Location"] == flow.step_url(draft.pk, "detail")
    assert draft.base_version == 1 and draft.action == "update"
    pattern_step = operator.get(flow.step_url(draft.pk, "pattern"))
    assert pattern_step.context["form"]["f_bucket_values"].value() == "processing-bucket-1"
    # Change only the description; the name cannot change.
    data = flow.detail(environment, description="Now with a description", name="renamed")
    flow.post(operator, draft.pk, "detail", data)
    review = operator.get(flow.step_url(draft.pk, "review"))
    assert [c.operation for c in review.context["plan"]] == ["PutRule"]
    assert review.context["spec"]["Rule"]["Name"] == "process-s3-objects-with-lambda"
    operator.post(flow.step_url(draft.pk, "review"), {"_go": "submit"})
    described = aws.client(environment, "events").describe_rule(Name="process-s3-objects-with-lambda")
    assert described["Description"] == "Now with a description"
    rule.refresh_from_db()
    assert rule.version == 2


@pytest.mark.aws
def test_disable_enable_clone_and_delete(client_for, users, environment, demo_resources, apply_inline):
    applied = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    rule = Rule.objects.get(pk=applied.rule_id)
    operator = client_for("operator")
    events = aws.client(environment, "events")

    operator.post(reverse("rules:rule_action", args=[rule.pk, "disable"]))
    assert events.describe_rule(Name=rule.name)["State"] == "DISABLED"
    assert ChangeRequest.objects.filter(action="disable").get().plan[0]["operation"] == "DisableRule"
    operator.post(reverse("rules:rule_action", args=[rule.pk, "enable"]))
    assert events.describe_rule(Name=rule.name)["State"] == "ENABLED"

    response = operator.post(reverse("rules:rule_action", args=[rule.pk, "clone"]))
    clone = ChangeRequest.objects.filter(state=ChangeState.DRAFT).get()
    assert response["Location"] == flow.step_url(clone.pk, "detail")
    assert clone.wizard["detail"]["detail-name"] == ["process-s3-objects-with-lambda-copy"]

    confirm = operator.get(reverse("rules:rule_delete", args=[rule.pk]))
    assert "Deleting removes the rule's 2 targets and then the rule itself" in confirm.content.decode()
    assert events.describe_rule(Name=rule.name)  # nothing happens on GET
    operator.post(reverse("rules:rule_delete", args=[rule.pk]))
    assert events.list_rules()["Rules"] == []
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_viewers_and_reviewers_cannot_open_changes(client_for, env):
    make_rules(env, 1)
    rule = Rule.objects.get()
    for role in ("viewer", "reviewer"):
        for action in ("edit", "disable", "clone", "delete"):
            assert client_for(role).post(reverse("rules:rule_action", args=[rule.pk, action])).status_code == 403
        assert client_for(role).post(reverse("rules:rule_add"), {"environment": env.pk}).status_code == 403
    assert not ChangeRequest.objects.exists()
