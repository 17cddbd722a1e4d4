"""What lets a rule's targets receive events, through the change engine against moto over HTTP.

Expected statements are written from AWS's documentation ("Using resource-based policies for Amazon
EventBridge"; Lambda AddPermission, which stores SourceArn as an `ArnLike AWS:SourceArn` condition)
and read back from moto's stored state with boto3, never from our code. moto does not deliver events
to Lambda or SNS and does not enforce these policies: what is tested is what AWS holds after each
apply, not that an event arrives.
"""
import json

import pytest

from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.polling import objects_poll
from environments import aws
from rules.models import Rule
from tests.rules.test_apply import submit_and_apply, worked_example_spec
from tests.support.recording import recorded_calls

pytestmark = [pytest.mark.django_db, pytest.mark.aws]
calls = pytest.fixture(recorded_calls, name="calls")

RULE = "process-s3-objects-with-lambda"
RULE_ARN = f"arn:aws:events:us-east-1:123456789012:rule/{RULE}"
EVENTS = {"Service": "events.amazonaws.com"}
POLICY_WRITES = {"AddPermission", "RemovePermission", "SetTopicAttributes", "SetQueueAttributes",
                 "PutResourcePolicy", "DeleteResourcePolicy"}


def lambda_statements(environment, function="Do_nothing"):
    try:
        policy = aws.client(environment, "lambda").get_policy(FunctionName=function)["Policy"]
    except aws.client(environment, "lambda").exceptions.ResourceNotFoundException:
        return []
    return json.loads(policy)["Statement"]


def topic_statements(environment, topic_arn):
    policy = aws.client(environment, "sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"]
    return json.loads(policy)["Statement"]


def queue_statements(environment, url):
    attributes = aws.client(environment, "sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    policy = attributes.get("Attributes", {}).get("Policy")
    return json.loads(policy)["Statement"] if policy else []


def by_sid(statements):
    return {s.get("Sid"): s for s in statements}


def _action(statement):
    action = statement["Action"]
    return action if isinstance(action, str) else action[0] if len(action) == 1 else sorted(action)


@pytest.fixture
def queue(environment):
    sqs = aws.client(environment, "sqs")
    url = sqs.create_queue(QueueName="Queue1")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"url": url, "arn": arn}


def test_applying_the_worked_example_lets_do_nothing_and_topic1_receive_its_events(
        users, environment, demo_resources):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    assert change.state == ChangeState.APPLIED
    # Lambda: the console's statement id, the events principal, InvokeFunction, scoped to the rule.
    statement = by_sid(lambda_statements(environment))[f"AWSEvents_{RULE}_Target1"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == EVENTS
    assert _action(statement) == "lambda:InvokeFunction"
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": RULE_ARN}}
    # SNS: a statement merged into the topic's policy, the default statement kept.
    statements = by_sid(topic_statements(environment, demo_resources["topic"]))
    assert "__default_statement_ID" in statements
    ours = statements[f"EventConsole_default_{RULE}_Target2"]
    assert ours["Effect"] == "Allow" and ours["Principal"] == EVENTS and _action(ours) == "sns:Publish"
    assert ours["Resource"] == demo_resources["topic"]
    assert ours["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE_ARN}}
    rule = Rule.objects.get(pk=change.rule_id)
    assert rule.sync_status == SyncStatus.IN_SYNC
    assert sorted(s["sid"] for s in rule.delivery_statements) == sorted(
        [f"AWSEvents_{RULE}_Target1", f"EventConsole_default_{RULE}_Target2"])


def test_the_review_plan_lists_the_permission_calls(users, environment, demo_resources):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    assert [c["operation"] for c in change.plan] == ["PutRule", "PutTargets", "AddPermission", "SetTopicAttributes"]
    add = change.plan[2]
    assert add["params"] == {"FunctionName": demo_resources["lambda"], "StatementId": f"AWSEvents_{RULE}_Target1",
                             "Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
                             "SourceArn": RULE_ARN}
    assert "Do_nothing" in add["summary"] and "Topic1" in change.plan[3]["summary"]


def test_a_second_apply_makes_no_policy_call(users, environment, demo_resources, calls):
    first = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    rule = Rule.objects.get(pk=first.rule_id)
    calls.clear()
    again = submit_and_apply(users["operator"], environment, rule.desired_spec, action=ChangeAction.UPDATE,
                             target=rule)
    assert again.state == ChangeState.APPLIED and again.plan == []
    assert not POLICY_WRITES & set(calls)
    assert len([s for s in lambda_statements(environment) if s["Sid"].startswith("AWSEvents_")]) == 1


def test_a_permission_that_already_exists_is_not_added_again_nor_claimed(users, environment, demo_resources, calls):
    """A statement someone else wrote that lets this rule in is enough: nothing is added, and it is not
    EventConsole's to remove later."""
    aws.client(environment, "lambda").add_permission(
        FunctionName="Do_nothing", StatementId="their-own", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=RULE_ARN)
    calls.clear()
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    assert "AddPermission" not in calls and "SetTopicAttributes" in calls
    rule = Rule.objects.get(pk=change.rule_id)
    assert [s["service"] for s in rule.delivery_statements] == ["sns"]
    submit_and_apply(users["operator"], environment, None, action=ChangeAction.DELETE, target=rule)
    assert set(by_sid(lambda_statements(environment))) == {"their-own"}


def test_foreign_statements_survive_add_and_remove(users, environment, demo_resources, queue, calls):
    """Statements others put on the function, the topic and the queue beforehand are kept when ours are
    added and when ours are removed (the target removed, then the rule deleted)."""
    lam, sns, sqs = (aws.client(environment, s) for s in ("lambda", "sns", "sqs"))
    lam.add_permission(FunctionName="Do_nothing", StatementId="someone-else", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::some-bucket")
    topic_doc = json.loads(sns.get_topic_attributes(TopicArn=demo_resources["topic"])["Attributes"]["Policy"])
    foreign = {"Sid": "Foreign", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
               "Action": "sns:Publish", "Resource": demo_resources["topic"]}
    topic_doc["Statement"].append(foreign)
    sns.set_topic_attributes(TopicArn=demo_resources["topic"], AttributeName="Policy",
                             AttributeValue=json.dumps(topic_doc))
    queue_foreign = {"Sid": "QueueForeign", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                     "Action": "sqs:SendMessage", "Resource": queue["arn"]}
    sqs.set_queue_attributes(QueueUrl=queue["url"], Attributes={"Policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [queue_foreign]})})

    spec = worked_example_spec(demo_resources)
    spec["Targets"].append({"Id": "Target3", "Arn": queue["arn"]})
    spec["Targets"][0]["DeadLetterConfig"] = {"Arn": queue["arn"]}
    change = submit_and_apply(users["operator"], environment, spec)
    assert change.state == ChangeState.APPLIED
    assert set(by_sid(lambda_statements(environment))) == {"someone-else", f"AWSEvents_{RULE}_Target1"}
    assert set(by_sid(topic_statements(environment, demo_resources["topic"]))) == {
        "__default_statement_ID", "Foreign", f"EventConsole_default_{RULE}_Target2"}
    queue_sids = by_sid(queue_statements(environment, queue["url"]))
    assert set(queue_sids) == {"QueueForeign", f"EventConsole_default_{RULE}_Target3",
                               f"EventConsole_default_{RULE}_Target1_dlq"}
    for sid in (f"EventConsole_default_{RULE}_Target3", f"EventConsole_default_{RULE}_Target1_dlq"):
        assert queue_sids[sid]["Principal"] == EVENTS and _action(queue_sids[sid]) == "sqs:SendMessage"
        assert queue_sids[sid]["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE_ARN}}
    # The queue's two statements were written in one SetQueueAttributes call.
    assert [c["operation"] for c in change.plan].count("SetQueueAttributes") == 1

    # Remove Target2 (the topic) and Target3 (the queue as a target): only those statements of ours go.
    rule = Rule.objects.get(pk=change.rule_id)
    smaller = json.loads(json.dumps(rule.desired_spec))
    smaller["Targets"] = [t for t in smaller["Targets"] if t["Id"] == "Target1"]
    calls.clear()
    edit = submit_and_apply(users["operator"], environment, smaller, action=ChangeAction.UPDATE, target=rule)
    assert edit.state == ChangeState.APPLIED
    assert "AddPermission" not in calls and "RemovePermission" not in calls
    assert set(by_sid(topic_statements(environment, demo_resources["topic"]))) == {"__default_statement_ID", "Foreign"}
    assert set(by_sid(queue_statements(environment, queue["url"]))) == {
        "QueueForeign", f"EventConsole_default_{RULE}_Target1_dlq"}
    assert set(by_sid(lambda_statements(environment))) == {"someone-else", f"AWSEvents_{RULE}_Target1"}

    # Delete the rule: the rest of ours goes, the others' stay.
    rule.refresh_from_db()
    gone = submit_and_apply(users["operator"], environment, None, action=ChangeAction.DELETE, target=rule)
    assert gone.state == ChangeState.APPLIED
    assert set(by_sid(lambda_statements(environment))) == {"someone-else"}
    assert set(by_sid(queue_statements(environment, queue["url"]))) == {"QueueForeign"}
    assert set(by_sid(topic_statements(environment, demo_resources["topic"]))) == {"__default_statement_ID", "Foreign"}


def test_a_queue_without_a_policy_gets_one_and_loses_it_with_the_target(users, environment, demo_resources, queue):
    spec = worked_example_spec(demo_resources)
    spec["Targets"] = [{"Id": "Q", "Arn": queue["arn"]}]
    change = submit_and_apply(users["operator"], environment, spec)
    assert [s["Sid"] for s in queue_statements(environment, queue["url"])] == [f"EventConsole_default_{RULE}_Q"]
    rule = Rule.objects.get(pk=change.rule_id)
    submit_and_apply(users["operator"], environment, None, action=ChangeAction.DELETE, target=rule)
    assert queue_statements(environment, queue["url"]) == []


def test_a_log_group_target_gets_a_shared_resource_policy_deleted_with_the_last_statement(
        users, environment, demo_resources, calls):
    logs = aws.client(environment, "logs")
    logs.create_log_group(logGroupName="/aws/events/demo")
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/demo"
    logs.put_resource_policy(policyName="someone-elses", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
                                                "Action": "logs:PutLogEvents", "Resource": "*"}]}))
    spec = worked_example_spec(demo_resources)
    spec["Targets"] = [{"Id": "Logs", "Arn": group_arn}]
    change = submit_and_apply(users["operator"], environment, spec)
    assert change.state == ChangeState.APPLIED
    policies = {p["policyName"]: json.loads(p["policyDocument"])
                for p in logs.describe_resource_policies()["resourcePolicies"]}
    assert set(policies) == {"someone-elses", "EventConsole-EventBridge-to-Logs"}
    [statement] = policies["EventConsole-EventBridge-to-Logs"]["Statement"]
    assert statement["Principal"] == EVENTS and statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == f"{group_arn}:*"
    rule = Rule.objects.get(pk=change.rule_id)
    calls.clear()
    again = submit_and_apply(users["operator"], environment, rule.desired_spec, action=ChangeAction.UPDATE, target=rule)
    assert again.plan == [] and not POLICY_WRITES & set(calls)
    rule.refresh_from_db()
    submit_and_apply(users["operator"], environment, None, action=ChangeAction.DELETE, target=rule)
    names = {p["policyName"] for p in logs.describe_resource_policies()["resourcePolicies"]}
    assert names == {"someone-elses"}


def test_a_statement_deleted_behind_our_back_is_drift_in_words(users, environment, demo_resources):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    sns = aws.client(environment, "sns")
    doc = json.loads(sns.get_topic_attributes(TopicArn=demo_resources["topic"])["Attributes"]["Policy"])
    doc["Statement"] = [s for s in doc["Statement"] if not s["Sid"].startswith("EventConsole_")]
    sns.set_topic_attributes(TopicArn=demo_resources["topic"], AttributeName="Policy", AttributeValue=json.dumps(doc))
    objects_poll(environment, "rule")
    rule = Rule.objects.get(pk=change.rule_id)
    assert rule.sync_status == SyncStatus.DRIFTED
    assert {"path": "Targets.Target2 permission", "old": "allowed",
            "new": "Topic1 cannot receive events from this rule: its policy does not allow it"} in rule.drift
    # Re-applying the desired spec puts the statement back.
    fix = submit_and_apply(users["operator"], environment, rule.desired_spec, action=ChangeAction.UPDATE, target=rule)
    assert [c["operation"] for c in fix.plan] == ["SetTopicAttributes"]
    assert f"EventConsole_default_{RULE}_Target2" in by_sid(topic_statements(environment, demo_resources["topic"]))
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.IN_SYNC


def test_a_lambda_permission_removed_behind_our_back_is_drift_and_re_applying_restores_it(
        users, environment, demo_resources):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    aws.client(environment, "lambda").remove_permission(FunctionName="Do_nothing",
                                                        StatementId=f"AWSEvents_{RULE}_Target1")
    report = objects_poll(environment, "rule")
    assert report.drifted == 1 and report.changed == [f"default/{RULE}"]
    rule = Rule.objects.get(pk=change.rule_id)
    assert [d["new"] for d in rule.drift] == ["Do_nothing cannot receive events from this rule: its policy does not allow it"]
    fix = submit_and_apply(users["operator"], environment, rule.desired_spec, action=ChangeAction.UPDATE, target=rule)
    assert [c["operation"] for c in fix.plan] == ["AddPermission"]
    statement = by_sid(lambda_statements(environment))[f"AWSEvents_{RULE}_Target1"]
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": RULE_ARN}}
    assert objects_poll(environment, "rule").in_sync == 1


def test_a_rule_on_a_custom_bus_is_named_by_its_bus_in_the_source_arn(users, environment, demo_resources):
    aws.client(environment, "events").create_event_bus(Name="orders")
    spec = worked_example_spec(demo_resources, EventBusName="orders")
    submit_and_apply(users["operator"], environment, spec)
    arn = f"arn:aws:events:us-east-1:123456789012:rule/orders/{RULE}"
    statement = by_sid(lambda_statements(environment))[f"AWSEvents_{RULE}_Target1"]
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": arn}}
    ours = by_sid(topic_statements(environment, demo_resources["topic"]))[f"EventConsole_orders_{RULE}_Target2"]
    assert ours["Condition"] == {"ArnEquals": {"aws:SourceArn": arn}}
