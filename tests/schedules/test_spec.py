"""The one validator (schedules.spec), the canonical form, and the plan (schedules.plan). Pure: no AWS."""
import pytest

from schedules import targets
from schedules.plan import MISSING_GROUP, body, client_token, plan
from schedules.spec import canonical_schedule_spec, comparable, iso_utc, validate_schedule_spec

ROLE = "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role"


def spec(**fields):
    base = {"Name": "Start_batch_server_11PM", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
                       "Input": '{"InstanceIds": ["i-0123456789abcdef0"]}'}}
    base.update(fields)
    return base


def target(**fields):
    return {**spec()["Target"], **fields}


def test_the_worked_example_is_valid():
    assert validate_schedule_spec(spec()) == {}


INVALID = [
    ("Name", spec(Name="bad name!")),
    ("Name", spec(Name="x" * 65)),
    ("Name", spec(Name="")),
    ("GroupName", spec(GroupName="a/b")),
    ("Description", spec(Description="d" * 513)),
    ("ScheduleExpression", spec(ScheduleExpression="cron(0 23 * * *)")),  # five fields, like Unix cron
    ("ScheduleExpression", spec(ScheduleExpression="cron(0 23 * * * *)")),  # * in both day fields
    ("ScheduleExpression", spec(ScheduleExpression="rate(5 weeks)")),
    ("ScheduleExpression", spec(ScheduleExpression="at(2030-02-30T10:00:00)")),
    ("ScheduleExpression", spec(ScheduleExpression="bogus")),
    ("ScheduleExpressionTimezone", spec(ScheduleExpressionTimezone="Mars/Olympus")),
    ("StartDate", spec(StartDate="soon")),
    ("EndDate", spec(StartDate="2031-01-02T00:00:00Z", EndDate="2031-01-01T00:00:00Z")),
    ("FlexibleTimeWindow.Mode", spec(FlexibleTimeWindow={"Mode": "SOMETIMES"})),
    ("FlexibleTimeWindow.MaximumWindowInMinutes", spec(FlexibleTimeWindow={"Mode": "FLEXIBLE"})),
    ("FlexibleTimeWindow.MaximumWindowInMinutes", spec(FlexibleTimeWindow={"Mode": "FLEXIBLE",
                                                                           "MaximumWindowInMinutes": 1441})),
    ("FlexibleTimeWindow.MaximumWindowInMinutes", spec(FlexibleTimeWindow={"Mode": "OFF",
                                                                           "MaximumWindowInMinutes": 5})),
    ("Target.Arn", spec(Target=target(Arn="not-an-arn"))),
    ("Target.Arn", spec(Target=target(Arn="arn:aws:scheduler:::aws-sdk:ec2:describeInstances"))),
    ("Target.Arn", spec(Target=target(Arn="arn:aws:scheduler:::aws-sdk:ec2:fooBar"))),
    ("Target.Arn", spec(Target=target(Arn="arn:aws:scheduler:::aws-sdk:s3:getObject"))),
    ("Target.Input", spec(Target=target(Input="{oops"))),
    ("Target.Input", spec(Target=target(Input="{}"))),
    ("Target.Input", spec(Target=target(Input=""))),
    ("Target.RoleArn", spec(Target=target(RoleArn="my-role"))),
    ("Target.RoleArn", spec(Target={"Arn": "arn:aws:sqs:us-east-1:123456789012:q"})),
    ("Target.RetryPolicy.MaximumRetryAttempts", spec(Target=target(RetryPolicy={"MaximumRetryAttempts": 500}))),
    ("Target.RetryPolicy.MaximumEventAgeInSeconds", spec(Target=target(RetryPolicy={"MaximumEventAgeInSeconds": 59}))),
    ("Target.DeadLetterConfig.Arn", spec(Target=target(DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:1:q"}))),
    ("Target.DeadLetterConfig.Arn", spec(Target=target(
        DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:123456789012:q.fifo"}))),
    ("Target.Input", spec(Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "RoleArn": ROLE,
                                  "Input": "not json"})),
    ("Target.SqsParameters.MessageGroupId", spec(Target={"Arn": "arn:aws:sqs:us-east-1:123456789012:q.fifo",
                                                         "RoleArn": ROLE})),
    ("Target.KinesisParameters.PartitionKey", spec(Target={"Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
                                                           "RoleArn": ROLE})),
    ("Target.EventBridgeParameters.Source", spec(Target={
        "Arn": "arn:aws:events:us-east-1:123456789012:event-bus/default", "RoleArn": ROLE,
        "EventBridgeParameters": {"DetailType": "tick", "Source": "aws.scheduler"}})),
    ("Target.EcsParameters.TaskDefinitionArn", spec(Target={"Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
                                                            "RoleArn": ROLE, "EcsParameters": {"TaskCount": 1}})),
    ("Target.EcsParameters.TaskCount", spec(Target={"Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
                                                    "RoleArn": ROLE, "EcsParameters": {"TaskDefinitionArn": "td",
                                                                                       "TaskCount": 11}})),
    ("ActionAfterCompletion", spec(ActionAfterCompletion="EXPLODE")),
    ("State", spec(State="PAUSED")),
    ("KmsKeyArn", spec(KmsKeyArn="my-key")),
]


@pytest.mark.parametrize(("path", "bad"), INVALID, ids=[f"{p}-{i}" for i, (p, _) in enumerate(INVALID)])
def test_every_constraint_is_reported_at_its_field_path(path, bad):
    errors = validate_schedule_spec(bad)
    assert path in errors, errors


def test_context_attributes_are_allowed_in_inputs():
    universal = target(Arn="arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
                       Input='{"QueueUrl": "https://q", "MessageBody": "<aws.scheduler.scheduled-time>", '
                             '"MessageDeduplicationId": "<aws.scheduler.execution-id>"}')
    assert validate_schedule_spec(spec(Target=universal)) == {}
    lam = {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "RoleArn": ROLE,
           "Input": '{"attempt": <aws.scheduler.attempt-number>, "arn": "<aws.scheduler.schedule-arn>"}'}
    assert validate_schedule_spec(spec(Target=lam)) == {}


def test_rate_units_are_lax_as_scheduler_accepts_them():
    assert validate_schedule_spec(spec(ScheduleExpression="rate(1 days)")) == {}
    assert validate_schedule_spec(spec(ScheduleExpression="rate(5 minute)")) == {}


@pytest.mark.parametrize("action", ["getObject", "describeInstances", "listBuckets", "batchGetItem", "query", "scan",
                                   "receiveMessage", "invokeModel", "adminGetUser", "validateTemplate"])
def test_read_only_actions_are_refused(action):
    assert targets.is_read_only(action)


@pytest.mark.parametrize("action", ["startInstances", "stopDBInstance", "updateService", "sendMessage", "publish",
                                   "startExecution", "invoke", "putItem", "listenerThing", "scanner"])
def test_write_actions_are_allowed(action):
    assert not targets.is_read_only(action)  # a prefix counts only as a whole word: "scanner" is not "scan"


def test_universal_target_lists_at_least_the_console_actions():
    wanted = {"ec2": {"startInstances", "stopInstances", "rebootInstances"},
              "rds": {"startDBInstance", "stopDBInstance"}, "ecs": {"updateService"}, "lambda": {"invoke"},
              "sqs": {"sendMessage"}, "sns": {"publish"}, "sfn": {"startExecution"}}
    for service, actions in wanted.items():
        assert actions <= {a for a, _ in targets.actions(service)}, service
        for action in actions:
            assert targets.universal_arn(service, action) == f"arn:aws:scheduler:::aws-sdk:{service}:{action}"
    assert targets.required_members("ec2", "startInstances") == ("InstanceIds",)


def test_canonical_form_fills_in_what_aws_fills_in():
    got = canonical_schedule_spec({"Name": "n", "ScheduleExpression": "rate(5 minutes)",
                                   "FlexibleTimeWindow": {"Mode": "OFF"}, "Description": "",
                                   "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": ROLE,
                                              "RetryPolicy": {"MaximumRetryAttempts": 0}},
                                   "StartDate": "2031-01-01T09:00:00.123456+01:00"})
    assert got == {"Name": "n", "GroupName": "default", "ScheduleExpression": "rate(5 minutes)",
                   "ScheduleExpressionTimezone": "UTC", "State": "ENABLED", "ActionAfterCompletion": "NONE",
                   "FlexibleTimeWindow": {"Mode": "OFF"}, "StartDate": "2031-01-01T08:00:00Z",
                   "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": ROLE,
                              "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 0}}}
    assert comparable(spec(Target=target(Input='{"b": 1,  "a": 2}'))) == comparable(spec(Target=target(
        Input='{"a":2,"b":1}')))
    assert iso_utc("nonsense") == "nonsense"


def test_plan_creates_updates_with_the_full_body_deletes_and_stays_quiet_when_in_sync():
    desired = spec(Description="d")
    (create,) = plan(desired, None, change_id=7)
    assert (create.operation, create.params["ClientToken"]) == ("CreateSchedule", "eventconsole-change-7-create")
    assert create.params == {**body(desired), "ClientToken": "eventconsole-change-7-create"}
    live = {**canonical_schedule_spec(desired), "Arn": "arn", "LastModificationDate": "2026-01-01T00:00:00Z"}
    assert plan(desired, live, change_id=8) == []
    (update,) = plan({**desired, "ScheduleExpression": "cron(0 22 * * ? *)"}, live, change_id=8)
    assert update.operation == "UpdateSchedule"
    for key in ("Description", "ScheduleExpressionTimezone", "Target", "FlexibleTimeWindow", "State",
                "ActionAfterCompletion", "GroupName"):
        assert key in update.params
    (disable,) = plan({**desired, "State": "DISABLED"}, live, change_id=9)
    assert disable.operation == "UpdateSchedule" and disable.summary.startswith("Disable")
    (delete,) = plan(None, live, change_id=10)
    assert delete.params == {"Name": "Start_batch_server_11PM", "GroupName": "default",
                             "ClientToken": "eventconsole-change-10-delete"}
    assert plan(None, None) == []


def test_plan_creates_a_missing_group_first_and_never_an_existing_one():
    desired = spec(GroupName="batch")
    assert [c.operation for c in plan(desired, {MISSING_GROUP: "batch"}, change_id=1)] == [
        "CreateScheduleGroup", "CreateSchedule"]
    assert [c.operation for c in plan(desired, None, change_id=1)] == ["CreateSchedule"]


def test_client_tokens_fit_the_api():
    import re

    for change_id in (None, 1, 10**12):
        for operation in ("create", "update", "delete", "group"):
            token = client_token(change_id, operation)
            assert re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", token)
    assert client_token(5, "create") == client_token(5, "create") != client_token(6, "create")
