"""Poll: a change made behind our back (in the AWS console) shows as drift within one poll."""
import json

import pytest
from botocore.awsrequest import AWSResponse

from audit.models import AuditEvent
from changes import services
from changes.choices import ChangeState, SyncStatus
from changes.polling import objects_poll
from environments import aws
from rules.models import Rule
from tests.rules.test_apply import submit_and_apply, worked_example_spec

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


@pytest.fixture
def applied_rule(users, environment, demo_resources):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    return Rule.objects.get(pk=change.rule_id)


def test_in_sync_rule_stays_in_sync(applied_rule, environment):
    report = objects_poll(environment, "rule")
    applied_rule.refresh_from_db()
    assert applied_rule.sync_status == SyncStatus.IN_SYNC and report.in_sync == 1
    assert applied_rule.last_polled is not None


def test_pattern_changed_in_aws_shows_as_drift_with_the_difference(applied_rule, environment, users):
    draft = services.change_request_draft_create(kind="rule", action="update", environment=environment,
                                                 author=users["operator"], spec=applied_rule.desired_spec,
                                                 target=applied_rule)
    events = aws.client(environment, "events")
    changed = {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["other"]}}}
    events.put_rule(Name=applied_rule.name, EventPattern=json.dumps(changed), State="ENABLED")

    objects_poll(environment, "rule")
    applied_rule.refresh_from_db()
    assert applied_rule.sync_status == SyncStatus.DRIFTED
    assert applied_rule.drift == [{"path": "Rule.EventPattern.detail.bucket.name",
                                   "old": ["processing-bucket-1"], "new": ["other"]}]
    assert AuditEvent.objects.filter(action="drift.detected", object_id=str(applied_rule.pk)).count() == 1
    draft.refresh_from_db()
    assert draft.state == ChangeState.STALE  # based on a version that no longer matches AWS

    # Polling again records no second drift event; putting it back clears the drift.
    objects_poll(environment, "rule")
    assert AuditEvent.objects.filter(action="drift.detected", object_id=str(applied_rule.pk)).count() == 1
    events.put_rule(Name=applied_rule.name, EventPattern=applied_rule.desired_spec["Rule"]["EventPattern"],
                    State="ENABLED")
    objects_poll(environment, "rule")
    applied_rule.refresh_from_db()
    assert applied_rule.sync_status == SyncStatus.IN_SYNC and applied_rule.drift == []
    assert AuditEvent.objects.filter(action="drift.cleared", object_id=str(applied_rule.pk)).exists()


def test_target_removed_and_rule_disabled_in_aws(applied_rule, environment):
    events = aws.client(environment, "events")
    events.remove_targets(Rule=applied_rule.name, Ids=["Target2"])
    events.disable_rule(Name=applied_rule.name)
    objects_poll(environment, "rule")
    applied_rule.refresh_from_db()
    paths = {d["path"] for d in applied_rule.drift}
    assert applied_rule.sync_status == SyncStatus.DRIFTED
    assert paths == {"Rule.State", "Targets.Target2"}


def test_rule_deleted_in_aws_is_missing(applied_rule, environment):
    events = aws.client(environment, "events")
    events.remove_targets(Rule=applied_rule.name, Ids=["Target1", "Target2"])
    events.delete_rule(Name=applied_rule.name)
    report = objects_poll(environment, "rule")
    applied_rule.refresh_from_db()
    assert applied_rule.sync_status == SyncStatus.MISSING and report.missing == 1


def test_tags_changed_in_aws_are_drift(applied_rule, environment):
    arn = "arn:aws:events:us-east-1:123456789012:rule/process-s3-objects-with-lambda"
    aws.client(environment, "events").tag_resource(ResourceARN=arn, Tags=[{"Key": "owner", "Value": "someone"}])
    objects_poll(environment, "rule")
    applied_rule.refresh_from_db()
    assert applied_rule.sync_status == SyncStatus.DRIFTED
    assert applied_rule.drift == [{"path": "Tags", "old": [], "new": [{"Key": "owner", "Value": "someone"}]}]


def _three_rules(users, environment, demo_resources):
    for index in range(3):
        spec = worked_example_spec(demo_resources, Name=f"rule-{index}", )
        spec["Tags"] = [{"Key": "n", "Value": str(index)}]
        submit_and_apply(users["operator"], environment, spec)


def test_poll_on_the_emulator_reads_tags_per_rule(users, environment, demo_resources):
    _three_rules(users, environment, demo_resources)
    report = objects_poll(environment, "rule")
    # ListRules (1 page) + ListTargetsByRule and ListTagsForResource per rule (moto has no GetResources for rules)
    # + one read per distinct target resource the three rules share: GetPolicy (Do_nothing), GetTopicAttributes (Topic1).
    assert report.objects == report.in_sync == 3 and report.api_calls == 1 + 3 * 2 + 2


def test_poll_with_the_tagging_api_is_one_call_per_rule_plus_paging(users, environment, demo_resources, settings):
    """Real AWS answers GetResources for events:rule; moto does not, so its answer is given at the factory,
    in place of the HTTP exchange (the request is still sent through botocore, and counted)."""
    _three_rules(users, environment, demo_resources)
    settings.POLL_TAGS_WITH_TAGGING_API = "always"
    arn = "arn:aws:events:us-east-1:123456789012:rule/rule-{}"
    mappings = [{"ResourceARN": arn.format(i), "Tags": [{"Key": "n", "Value": str(i)}]} for i in (0, 1)]

    class Body:
        def stream(self, **kwargs):
            yield json.dumps({"ResourceTagMappingList": mappings}).encode()

    def answer_get_resources(client, env, service):
        def answer(request, **kwargs):
            if request.headers.get("X-Amz-Target", b"").endswith(b".GetResources"):
                return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"}, Body())
            return None
        if service == "resourcegroupstaggingapi":
            client.meta.events.register("before-send", answer)

    aws.add_client_hook(answer_get_resources)
    try:
        report = objects_poll(environment, "rule")
    finally:
        aws.remove_client_hook(answer_get_resources)
    # ListRules (1 page) + GetResources (1 page) + ListTargetsByRule per rule + one policy read per distinct
    # target resource (Do_nothing, Topic1).
    assert report.api_calls == 1 + 1 + 3 + 2
    # rule-2's tag was left out of the (injected) answer: that is drift, and it is seen.
    assert report.in_sync == 2 and report.drifted == 1
    assert Rule.objects.get(name="rule-2").drift == [{"path": "Tags", "old": [{"Key": "n", "Value": "2"}], "new": []}]
