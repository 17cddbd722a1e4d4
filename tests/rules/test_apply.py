"""Apply through the change engine against a moto server over HTTP: minimal, idempotent, failures in words.

Faults are injected at the client factory (a botocore event handler on the real clients) or by
the fault proxy between the factory and moto, never by patching our own functions.
"""
import json

import pytest

from audit.models import AuditEvent
from changes import apply, kinds, services
from changes.choices import AttemptStatus, ChangeAction, ChangeState, SyncStatus
from changes.models import ChangeRequest
from environments import aws
from environments.models import Environment
from rules.models import Rule
from tests.rules.flow import WORKED_EXAMPLE_PATTERN
from tests.support.faultproxy import FaultProxy
from tests.support.recording import recorded_calls

pytestmark = [pytest.mark.django_db, pytest.mark.aws]
calls = pytest.fixture(recorded_calls, name="calls")  # every AWS operation called, in order

WRITE_OPERATIONS = {"PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "TagResource", "UntagResource",
                    "EnableRule", "DisableRule"}


def worked_example_spec(resources, **rule):
    return {"Rule": {"Name": "process-s3-objects-with-lambda", "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": json.dumps(WORKED_EXAMPLE_PATTERN), **rule},
            "Targets": [{"Id": "Target1", "Arn": resources["lambda"]}, {"Id": "Target2", "Arn": resources["topic"]}],
            "Tags": []}


def submit_and_apply(user, environment, spec, *, action=ChangeAction.CREATE, target=None, final=True):
    change = services.change_request_draft_create(kind="rule", action=action, environment=environment, author=user,
                                                  spec=spec, target=target)
    services.change_request_submit(change, actor=user)  # Sandbox: approved at once (the task is not run here)
    assert change.state == ChangeState.APPROVED
    apply.change_request_apply(change.pk, final_attempt=final)
    change.refresh_from_db()
    return change


def test_creating_the_worked_example_takes_exactly_put_rule_put_targets_and_the_two_permissions(
        users, environment, demo_resources, calls):
    """PutRule and PutTargets, then what lets Do_nothing and Topic1 receive the events: the function's
    AddPermission and the topic's policy (tests/rules/test_permissions_apply.py checks their content)."""
    calls.clear()
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    assert change.state == ChangeState.APPLIED
    assert [c for c in calls if c in WRITE_OPERATIONS] == ["PutRule", "PutTargets"]
    attempt = change.apply_attempts.get()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert [c["operation"] for c in attempt.calls] == ["PutRule", "PutTargets", "AddPermission", "SetTopicAttributes"]
    # Each API call is in the audit history, made by the system on behalf of the approver.
    api_events = AuditEvent.objects.filter(action="apply.api_call", related_id=str(change.pk))
    assert api_events.count() == 4 and all(e.actor_name == "system" for e in api_events)


def test_applying_the_same_spec_again_makes_no_write_call(users, environment, demo_resources, calls):
    first = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    rule = Rule.objects.get(pk=first.rule_id)
    calls.clear()
    again = submit_and_apply(users["operator"], environment, rule.desired_spec, action=ChangeAction.UPDATE, target=rule)
    assert again.state == ChangeState.APPLIED
    assert not [c for c in calls if c in WRITE_OPERATIONS]
    assert again.plan == []
    # And running the apply task for an applied change again does nothing at all.
    calls.clear()
    apply.change_request_apply(again.pk)
    assert calls == []


def test_tags_are_one_tag_resource_call(users, environment, demo_resources, calls):
    spec = {**worked_example_spec(demo_resources), "Tags": [{"Key": "team", "Value": "ops"}]}
    calls.clear()
    submit_and_apply(users["operator"], environment, spec)
    assert [c for c in calls if c in WRITE_OPERATIONS] == ["PutRule", "PutTargets", "TagResource"]
    tags = aws.client(environment, "events").list_tags_for_resource(
        ResourceARN="arn:aws:events:us-east-1:123456789012:rule/process-s3-objects-with-lambda")["Tags"]
    assert tags == [{"Key": "team", "Value": "ops"}]


class _Http:
    status_code = 200
    headers: dict = {}


def test_partial_put_targets_failure_is_surfaced_and_nothing_is_lost(users, environment, demo_resources):
    def refuse_put_targets(client, env, service):
        def answer(model, params, **kwargs):
            if model.name == "PutTargets":
                return _Http(), {"FailedEntryCount": 1, "FailedEntries": [
                    {"TargetId": "Target2", "ErrorCode": "ConcurrentModificationException",
                     "ErrorMessage": "Another update is in progress"}]}
            return None
        client.meta.events.register("before-call", answer)

    aws.add_client_hook(refuse_put_targets)
    try:
        change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    finally:
        aws.remove_client_hook(refuse_put_targets)
    assert change.state == ChangeState.FAILED
    assert "PutTargets refused 1 entry: Target2: ConcurrentModificationException" in change.last_error
    assert change.spec["Targets"][1]["Arn"] == demo_resources["topic"]  # the desired spec is intact
    assert Rule.objects.get(pk=change.rule_id).sync_status == SyncStatus.FAILED
    # Retry applies the same change and finishes the job with only the calls still needed.
    services.change_request_retry(change, actor=users["operator"])
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED and change.attempts == 2
    # The retry finishes the targets, then lets them receive events (the first attempt stopped before that).
    assert [c["operation"] for c in change.apply_attempts.last().calls] == ["PutTargets", "AddPermission",
                                                                           "SetTopicAttributes"]


def test_validation_error_from_aws_fails_with_the_message_in_words(users, environment, demo_resources):
    spec = worked_example_spec(demo_resources)
    spec["Targets"][0]["Arn"] = "not-an-arn"  # our validator would refuse it; go straight to apply
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=users["operator"], spec=spec)
    kinds.handler_for("rule").ensure_object(change)
    change.save()
    from changes.states import transition

    transition(change, ChangeState.SUBMITTED)
    transition(change, ChangeState.APPROVED)
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.FAILED
    assert change.last_error.startswith("AWS rejected the request as invalid (PutTargets: ValidationException")


def test_throttling_is_retried_with_backoff(users, demo_resources, aws_url, db):
    proxy = FaultProxy(aws_url).start()
    try:
        environment = Environment.objects.create(name="Throttled", region="us-east-1", endpoint_url=proxy.url,
                                                 account_id="123456789012")
        proxy.throttle(2)  # botocore's standard retry mode absorbs these
        change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
        assert change.state == ChangeState.APPLIED
        assert proxy.requests == proxy.forwarded + 2
    finally:
        proxy.stop()


def test_throttling_beyond_botocore_retries_leaves_the_change_for_the_task_to_retry(users, demo_resources, aws_url,
                                                                                    db, settings):
    proxy = FaultProxy(aws_url).start()
    try:
        environment = Environment.objects.create(name="Throttled", region="us-east-1", endpoint_url=proxy.url,
                                                 account_id="123456789012")
        change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                      author=users["operator"], spec=worked_example_spec(demo_resources))
        services.change_request_submit(change, actor=users["operator"])
        proxy.throttle(settings.AWS_RETRY_MAX_ATTEMPTS)  # the first read sees only throttling
        with pytest.raises(apply.RetryLater, match="throttling"):
            apply.change_request_apply(change.pk, final_attempt=False)
        change.refresh_from_db()
        assert change.state == ChangeState.APPROVED  # ready for the task's next attempt
        apply.change_request_apply(change.pk, final_attempt=True)
        change.refresh_from_db()
        assert change.state == ChangeState.APPLIED and change.attempts == 2
        statuses = list(change.apply_attempts.values_list("status", flat=True))
        assert statuses == [AttemptStatus.RETRYING, AttemptStatus.SUCCEEDED]
    finally:
        proxy.stop()


def test_delete_removes_targets_then_the_rule(users, environment, demo_resources, calls):
    first = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    rule = Rule.objects.get(pk=first.rule_id)
    calls.clear()
    change = submit_and_apply(users["operator"], environment, rule.desired_spec, action=ChangeAction.DELETE,
                              target=rule)
    assert change.state == ChangeState.APPLIED
    assert [c for c in calls if c in WRITE_OPERATIONS] == ["RemoveTargets", "DeleteRule"]
    assert not Rule.objects.filter(pk=rule.pk).exists()
    assert aws.client(environment, "events").list_rules()["Rules"] == []
    assert ChangeRequest.objects.get(pk=change.pk).object_name == "default/process-s3-objects-with-lambda"
