"""Edit and Clone open the flow filled in from a desired spec: what was typed rebuilds the same spec.

The forms list groups, queues and roles from a moto server over HTTP.
"""
import pytest

from changes.choices import ChangeAction
from changes.services import change_request_draft_create
from schedules.spec import canonical_schedule_spec
from schedules.wizard import ScheduleWizardView, build_spec, wizard_from_spec

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ROLE = "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role"
SPECS = {
    "universal, retry off": {
        "Name": "Start_batch_server_11PM", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
        "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
                   "Input": '{"InstanceIds": ["i-1"]}',
                   "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 0}},
        "ActionAfterCompletion": "NONE", "State": "ENABLED"},
    "rate, timeframe, DLQ here, KMS, disabled": {
        "Name": "every-5", "GroupName": "default", "Description": "Every five minutes",
        "ScheduleExpression": "rate(5 minutes)", "ScheduleExpressionTimezone": "America/New_York",
        "StartDate": "2031-03-01T13:00:00Z", "EndDate": "2031-12-24T22:45:30Z",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 7},
        "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:jobs.fifo", "RoleArn": ROLE, "Input": "hello",
                   "SqsParameters": {"MessageGroupId": "g1"},
                   "RetryPolicy": {"MaximumEventAgeInSeconds": 5400, "MaximumRetryAttempts": 3},
                   "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:eventconsole-dlq"}},
        "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k-1", "ActionAfterCompletion": "NONE",
        "State": "DISABLED"},
    "one-time, event bus, DLQ elsewhere": {
        "Name": "once", "GroupName": "default", "ScheduleExpression": "at(2031-06-01T09:30:00)",
        "ScheduleExpressionTimezone": "Australia/Sydney", "FlexibleTimeWindow": {"Mode": "FLEXIBLE",
                                                                                "MaximumWindowInMinutes": 15},
        "Target": {"Arn": "arn:aws:events:us-east-1:123456789012:event-bus/default", "RoleArn": ROLE,
                   "Input": '{"tick": "<aws.scheduler.scheduled-time>"}',
                   "EventBridgeParameters": {"DetailType": "tick", "Source": "my.app"},
                   "DeadLetterConfig": {"Arn": "arn:aws:sqs:eu-west-1:210987654321:other-dlq"}},
        "ActionAfterCompletion": "DELETE", "State": "ENABLED"},
    "ECS run task": {
        "Name": "ecs", "GroupName": "default", "ScheduleExpression": "cron(0/15 8-17 ? * MON-FRI *)",
        "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/default", "RoleArn": ROLE,
                   "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/t:1",
                                     "TaskCount": 2, "LaunchType": "FARGATE", "NetworkConfiguration": {
                                         "awsvpcConfiguration": {"Subnets": ["subnet-1", "subnet-2"],
                                                                 "SecurityGroups": ["sg-1"],
                                                                 "AssignPublicIp": "ENABLED"}}}},
        "ActionAfterCompletion": "NONE", "State": "ENABLED"},
}


@pytest.mark.parametrize("action", [ChangeAction.CREATE, ChangeAction.UPDATE])
@pytest.mark.parametrize("name", list(SPECS))
def test_the_flow_rebuilds_the_spec_it_was_filled_from(users, environment, name, action):
    spec = canonical_schedule_spec(SPECS[name])
    change = change_request_draft_create(kind="schedule", action=action, environment=environment,
                                         author=users["operator"], spec={},
                                         wizard=wizard_from_spec(spec, environment=environment))
    if action == ChangeAction.UPDATE:
        change.base_spec = spec  # an edit starts from the schedule's desired spec
    wizard = ScheduleWizardView()
    wizard.change = change
    cleaned, first_invalid = wizard.cleaned_steps()
    errors = {s.slug: wizard.form_for(s).errors for s in wizard.steps if s.form_class}
    assert first_invalid is None, errors
    assert canonical_schedule_spec(build_spec(cleaned, change=change)) == spec
