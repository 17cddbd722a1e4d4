"""The permission part of the plan, on fixed examples (pure: no AWS).

Statement shapes follow AWS's documentation: a Lambda permission for EventBridge is stored with
`ArnLike AWS:SourceArn`; topic and queue statements use `ArnEquals aws:SourceArn`; Lambda statement
ids allow `[a-zA-Z0-9-_]` up to 100 characters (botocore's AddPermission model).
"""
import json
import re

from botocore.session import get_session

from delivery import policies
from rules.plan import plan

ACCOUNT, REGION = "123456789012", "us-east-1"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r1"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:t1"
GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/g1"


def spec(*targets, name="r1"):
    return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": '{"source":["aws.s3"]}'},
            "Targets": list(targets), "Tags": []}


def live_of(desired, delivery):
    return {**json.loads(json.dumps(desired)), "Arn": RULE_ARN, "Delivery": delivery}


def test_a_lambda_statement_with_the_rules_source_arn_is_enough():
    desired = spec({"Id": "T1", "Arn": FN})
    theirs = {"Sid": "x", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
              "Action": "lambda:InvokeFunction", "Resource": FN,
              "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*"}}}
    live = live_of(desired, {"lambda": {FN: {"Policy": {"Statement": [theirs]}}}, "Ours": []})
    assert plan(desired, live, region=REGION, account=ACCOUNT) == []


def test_a_statement_for_another_rule_does_not_count_and_its_sid_is_not_overwritten():
    desired = spec({"Id": "T1", "Arn": FN})
    other = {"Sid": "AWSEvents_r1_T1", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": "lambda:InvokeFunction", "Resource": FN,
             "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/bus2/r1"}}}
    live = live_of(desired, {"lambda": {FN: {"Policy": {"Statement": [other]}}}, "Ours": []})
    [call] = plan(desired, live, region=REGION, account=ACCOUNT)
    assert call.operation == "AddPermission" and call.params["StatementId"] != "AWSEvents_r1_T1"
    assert call.params["StatementId"].startswith("AWSEvents_r1_T1_") and call.params["SourceArn"] == RULE_ARN


def test_statement_ids_keep_to_the_lambda_pattern_and_length():
    model = get_session().get_service_model("lambda").operation_model("AddPermission").input_shape
    sid_shape = model.members["StatementId"]
    long_name = "a.b" * 30  # rule names may hold "."; statement ids may not
    [need] = policies.needs(spec({"Id": "T" * 60, "Arn": FN}, name=long_name),
                            rule_arn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{long_name}")
    for sid in need.sids(RULE_ARN):
        assert re.fullmatch(sid_shape.metadata["pattern"], sid) and len(sid) <= sid_shape.metadata["max"]


def test_a_target_with_its_own_role_needs_no_resource_policy_but_its_dlq_does():
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    needs = policies.needs(spec({"Id": "T1", "Arn": FN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/x",
                                 "DeadLetterConfig": {"Arn": queue}}), rule_arn=RULE_ARN)
    assert [(n.service, n.resource, n.dlq) for n in needs] == [("sqs", queue, True)]


def test_resources_in_another_account_are_left_to_their_owner():
    other = "arn:aws:sqs:us-east-1:111122223333:q"
    assert policies.needs(spec({"Id": "T1", "Arn": other}), rule_arn=RULE_ARN) == []


def test_an_sns_policy_is_rewritten_once_with_others_statements_kept():
    desired = spec({"Id": "A", "Arn": TOPIC}, {"Id": "B", "Arn": TOPIC})
    default = {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
               "Action": ["SNS:Publish"], "Resource": TOPIC,
               "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}
    live = live_of(desired, {"sns": {TOPIC: {"Policy": {"Version": "2008-10-17", "Statement": [default]}}},
                             "Ours": []})
    [call] = plan(desired, live, region=REGION, account=ACCOUNT)
    assert call.operation == "SetTopicAttributes" and call.params["AttributeName"] == "Policy"
    written = json.loads(call.params["AttributeValue"])
    assert written["Statement"][0] == default and written["Version"] == "2008-10-17"
    assert [s["Sid"] for s in written["Statement"][1:]] == ["EventConsole_default_r1_A", "EventConsole_default_r1_B"]


def test_ours_are_removed_when_the_rule_goes_and_only_ours():
    ours = [{"service": "lambda", "resource": FN, "sid": "AWSEvents_r1_T1"}]
    statement = {"Sid": "AWSEvents_r1_T1", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                 "Action": "lambda:InvokeFunction"}
    live = {**spec({"Id": "T1", "Arn": FN}), "Arn": RULE_ARN,
            "Delivery": {"lambda": {FN: {"Policy": {"Statement": [statement, {**statement, "Sid": "theirs"}]}}},
                         "Ours": ours}}
    calls = plan(None, live, region=REGION, account=ACCOUNT)
    assert [c.operation for c in calls] == ["RemoveTargets", "DeleteRule", "RemovePermission"]
    assert calls[-1].params == {"FunctionName": FN, "StatementId": "AWSEvents_r1_T1"}


def test_a_logs_policy_that_would_pass_the_size_quota_rolls_over_to_a_second_one():
    big = {"Version": "2012-10-17", "Statement": [
        {"Sid": f"s{i}", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/other-{i:03}:*"} for i in range(23)]}
    size = len(json.dumps(big, separators=(",", ":")))
    assert size <= policies.LOGS_POLICY_CHARS < size + 200  # no room for one more statement
    desired = spec({"Id": "L", "Arn": GROUP})
    live = live_of(desired, {"logs": {"Policies": [{"Name": policies.LOGS_POLICY, "Document": big}]}, "Ours": []})
    [call] = plan(desired, live, region=REGION, account=ACCOUNT)
    assert call.operation == "PutResourcePolicy" and call.params["policyName"] == f"{policies.LOGS_POLICY}-2"
    assert len(call.params["policyDocument"]) <= policies.LOGS_POLICY_CHARS


def test_a_log_group_covered_by_a_wildcard_policy_needs_nothing():
    desired = spec({"Id": "L", "Arn": GROUP})
    console = {"Version": "2012-10-17", "Statement": [{
        "Sid": "TrustEventsToStoreLogEvent", "Effect": "Allow",
        "Principal": {"Service": ["delivery.logs.amazonaws.com", "events.amazonaws.com"]},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/*:*"}]}
    live = live_of(desired, {"logs": {"Policies": [{"Name": "TrustEventsToStoreLogEvent", "Document": console}]},
                             "Ours": []})
    assert plan(desired, live, region=REGION, account=ACCOUNT) == []


def test_without_what_the_reader_learnt_of_the_policies_the_plan_is_the_rules_alone():
    desired = spec({"Id": "T1", "Arn": FN})
    assert [c.operation for c in plan(desired, None, region=REGION, account=ACCOUNT)] == ["PutRule", "PutTargets"]
