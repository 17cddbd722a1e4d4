"""plan(desired, live) is pure and minimal."""
import json

from rules.plan import plan
from rules.spec import canonical_rule_spec

PATTERN = json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"]})
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing"
TOPIC = "arn:aws:sns:us-east-1:123456789012:Topic1"


def spec(**rule):
    base = {"Name": "r", "EventBusName": "default", "State": "ENABLED", "EventPattern": PATTERN}
    return {"Rule": {**base, **rule}, "Targets": [{"Id": "Target1", "Arn": LAMBDA}, {"Id": "Target2", "Arn": TOPIC}],
            "Tags": []}


def ops(calls):
    return [c.operation for c in calls]


def test_create_is_put_rule_and_put_targets():
    assert ops(plan(spec(), None, region="us-east-1", account="123456789012")) == ["PutRule", "PutTargets"]


def test_create_with_tags_tags_the_rule_arn():
    desired = {**spec(), "Tags": [{"Key": "team", "Value": "ops"}]}
    calls = plan(desired, None, region="us-east-1", account="123456789012")
    assert ops(calls) == ["PutRule", "PutTargets", "TagResource"]
    assert calls[2].params["ResourceARN"] == "arn:aws:events:us-east-1:123456789012:rule/r"
    # Without a known account the tags go in PutRule instead.
    calls = plan(desired, None, region="us-east-1", account="")
    assert ops(calls) == ["PutRule", "PutTargets"] and calls[0].params["Tags"] == desired["Tags"]


def test_in_sync_is_no_call_even_when_aws_reorders_and_minifies():
    live = canonical_rule_spec(spec())
    live["Rule"]["EventPattern"] = json.dumps(json.loads(PATTERN), indent=4)  # AWS returns its own spacing
    live["Targets"] = list(reversed(live["Targets"]))
    assert plan(spec(), live) == []


def test_only_state_changed_is_enable_or_disable():
    live = canonical_rule_spec(spec())
    assert ops(plan(spec(State="DISABLED"), live)) == ["DisableRule"]
    assert ops(plan(spec(), canonical_rule_spec(spec(State="DISABLED")))) == ["EnableRule"]


def test_changed_pattern_is_one_full_put_rule():
    calls = plan(spec(Description="new"), canonical_rule_spec(spec()))
    assert ops(calls) == ["PutRule"]
    assert calls[0].params["EventPattern"] and calls[0].params["Description"] == "new"


def test_targets_removed_changed_and_added():
    desired = spec()
    desired["Targets"] = [{"Id": "Target2", "Arn": TOPIC, "Input": '{"a": 1}'},
                          {"Id": "Target3", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}]
    calls = plan(desired, canonical_rule_spec(spec()))
    assert ops(calls) == ["RemoveTargets", "PutTargets"]
    assert calls[0].params["Ids"] == ["Target1"]
    assert [t["Id"] for t in calls[1].params["Targets"]] == ["Target2", "Target3"]


def test_tags_added_changed_and_removed():
    live = canonical_rule_spec({**spec(), "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})
    live["Arn"] = "arn:aws:events:us-east-1:123456789012:rule/r"
    desired = {**spec(), "Tags": [{"Key": "a", "Value": "9"}, {"Key": "c", "Value": "3"}]}
    calls = plan(desired, live)
    assert ops(calls) == ["TagResource", "UntagResource"]
    assert calls[0].params["Tags"] == [{"Key": "a", "Value": "9"}, {"Key": "c", "Value": "3"}]
    assert calls[1].params["TagKeys"] == ["b"]


def test_delete_removes_targets_then_the_rule():
    assert ops(plan(None, canonical_rule_spec(spec()))) == ["RemoveTargets", "DeleteRule"]
    assert plan(None, None) == []


def test_the_default_retry_policy_is_the_same_as_none():
    live = canonical_rule_spec(spec())
    desired = spec()
    desired["Targets"][0]["RetryPolicy"] = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    assert plan(desired, live) == []
    desired["Targets"][0]["RetryPolicy"] = {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 86400}
    assert ops(plan(desired, live)) == ["PutTargets"]
