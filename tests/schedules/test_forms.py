"""Every invalid input of the create-schedule flow gets its message at its own field, never a 500.

Form views through the Django test client; resource pickers and name checks talk to a moto server
over HTTP.
"""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from environments import aws
from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing"
FUTURE = (timezone.now() + timedelta(days=30)).strftime("%Y/%m/%d")
PAST = (timezone.now() - timedelta(days=3)).strftime("%Y/%m/%d")
NEXT_YEAR = timezone.now().year + 1
# The last Sunday of March next year: Europe/London's clocks jump from 01:00 to 02:00.
SPRING_FORWARD = max(date(NEXT_YEAR, 3, day) for day in range(25, 32)
                     if date(NEXT_YEAR, 3, day).weekday() == 6).strftime("%Y/%m/%d")


@pytest.fixture
def draft(client_for, environment):
    client = client_for("operator")
    return client, flow.start(client, environment)


def errors_after(client, draft_id, step, data):
    response = flow.post(client, draft_id, step, data)
    assert response.status_code == 200, f"expected the step to be shown again, got {response.status_code}"
    return response.context["form"].errors


DETAIL_CASES = [
    ("name", {"name": "bad name!"}, "may contain only letters, numbers"),
    ("name", {"name": "x" * 65}, "at most 64 characters"),
    ("name", {"name": ""}, "required"),
    ("description", {"description": "d" * 513}, "at most 512 characters"),
    ("new_group", {"group": "__new__", "new_group": ""}, "Enter the name of the new schedule group"),
    ("new_group", {"group": "__new__", "new_group": "bad group!"}, "may contain only"),
    ("minutes", {"minutes": "60"}, "Minutes: 60 is out of range"),
    ("hours", {"hours": "24"}, "Hours: 24 is out of range"),
    ("day_of_month", {"day_of_month": "32"}, "Day of month: 32 is out of range"),
    ("month", {"month": "13"}, "Month: 13 is out of range"),
    ("day_of_week", {"day_of_week": "8"}, "Day of the week: 8 is out of range"),
    ("year", {"year": "1969"}, "Year: 1969 is out of range"),
    ("day_of_week", {"day_of_month": "*", "day_of_week": "*"}, '"?" must be used in exactly one'),
    ("day_of_week", {"day_of_month": "?", "day_of_week": "?"}, "both are ?"),
    ("day_of_week", {"day_of_week": "3#1,6#3", "day_of_month": "?"}, "#"),
    ("day_of_month", {"day_of_month": "W", "day_of_week": "?"}, "W"),
    ("minutes", {"minutes": ""}, "a value is required"),
    ("minutes", {"minutes": "0/60"}, 'the step in "0/60" must be between 1 and 59'),
    ("hours", {"hours": "0/24"}, 'the step in "0/24" must be between 1 and 23'),
    ("day_of_month", {"day_of_month": "1/32"}, 'the step in "1/32" must be between 1 and 31'),
    ("month", {"month": "1/13"}, 'the step in "1/13" must be between 1 and 12'),
    ("rate_value", {"schedule_type": "rate", "rate_value": "0"}, "positive whole number"),
    ("rate_value", {"schedule_type": "rate", "rate_value": ""}, "Enter a whole number"),
    ("rate_value", {"schedule_type": "rate", "rate_value": "five"}, "Enter a whole number"),
    ("rate_unit", {"schedule_type": "rate", "rate_unit": "weeks"}, "Select a valid choice"),
    ("at_date", {"occurrence": "one-time", "at_date": "", "at_time": "10:00"}, "Enter the date"),
    ("at_time", {"occurrence": "one-time", "at_date": FUTURE, "at_time": ""}, "Enter the time"),
    ("at_date", {"occurrence": "one-time", "at_date": "2030/13/01", "at_time": "10:00"}, "not a date"),
    ("at_time", {"occurrence": "one-time", "at_date": FUTURE, "at_time": "25:00"}, "not a valid time"),
    ("at_date", {"occurrence": "one-time", "at_date": PAST, "at_time": "10:00"}, "in the past"),
    ("timezone", {"timezone": "Mars/Olympus"}, "\"Mars/Olympus\" is not a time zone name"),
    ("flexible_custom", {"flexible_window": "custom", "flexible_custom": ""}, "Enter the window in minutes"),
    ("flexible_custom", {"flexible_window": "custom", "flexible_custom": "0"}, "between 1 and 1440"),
    ("flexible_custom", {"flexible_window": "custom", "flexible_custom": "1441"}, "between 1 and 1440"),
    ("flexible_window", {"flexible_window": "7"}, "Select a valid choice"),
    ("start_date", {"start_date": PAST, "start_time": "08:00"}, "cannot be in the past"),
    ("start_date", {"start_date": "tomorrow"}, "not a date"),
    ("start_time", {"start_date": FUTURE, "start_time": "8 am"}, "not a 24-hour time"),
    ("start_time", {"start_date": SPRING_FORWARD, "start_time": "01:30", "timezone": "Europe/London"},
     "does not exist in Europe/London"),
    ("end_date", {"end_time": "10:00"}, "Enter the date too"),
    ("end_date", {"start_date": FUTURE, "start_time": "10:00", "end_date": FUTURE, "end_time": "09:00"},
     "must be after the start"),
    ("end_date", {"end_date": PAST, "end_time": "10:00"}, "must be in the future"),
]


@pytest.mark.parametrize(("field", "change", "message"), DETAIL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(DETAIL_CASES)])
def test_specify_schedule_detail_reports_each_error_at_its_field(draft, environment, field, change, message):
    client, draft_id = draft
    errors = errors_after(client, draft_id, "detail", flow.detail(environment, **change))
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors[field]


def test_every_wrong_cron_input_is_reported_at_once(draft, environment):
    client, draft_id = draft
    data = flow.detail(environment, cron=("61", "25", "*", "13", "?", "3000"))
    errors = errors_after(client, draft_id, "detail", data)
    assert {"minutes", "hours", "month", "year"} <= set(errors)


def test_a_name_taken_in_aws_is_reported_at_the_name(draft, environment):
    client, draft_id = draft
    aws.client(environment, "scheduler").create_schedule(
        Name="taken", ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": LAMBDA, "RoleArn": flow.role_arn()})
    errors = errors_after(client, draft_id, "detail", flow.detail(environment, name="taken"))
    assert "already exists in group default in AWS" in errors["name"][0]


def test_garbage_never_gives_a_500(draft, environment):
    client, draft_id = draft
    for step in ("detail", "target", "settings"):
        response = flow.post(client, draft_id, step, {f"{step}-environment": "abc", f"{step}-rate_value": "1e9999",
                                                      f"{step}-task_count": "many", f"{step}-max_retries": "-1",
                                                      f"{step}-timezone": "\x00", f"{step}-input": "{" * 10})
        assert response.status_code == 200
    assert client.get(flow.step_url(draft_id, "nope")).status_code == 404
    assert client.post(flow.step_url(draft_id, "review"), {"_go": "submit"}).status_code == 302


TARGET_CASES = [
    ("service", flow.universal(service="", action=""), "Choose the AWS service"),
    ("action", flow.universal(action=""), "Choose the API action"),
    ("action", flow.universal(action="describeInstances"), "read-only action"),
    ("action", flow.universal(action="noSuchAction"), "Select a valid choice"),
    ("input", flow.universal(input_text="{not json"), "not valid JSON"),
    ("input", flow.universal(input_text="[1, 2]"), "must be a JSON object"),
    ("input", flow.universal(input_text="{}"), "missing InstanceIds, which the API requires"),
    # botocore's ParamValidator, in words, at the field (the example: both problems are reported)
    ("input", flow.universal(input_text='{"InstanceIds": "i-123", "Bogus": 1}'),
     'InstanceIds must be a list, not a string ("i-123")'),
    ("input", flow.universal(input_text='{"InstanceIds": "i-123", "Bogus": 1}'), "unknown member 'Bogus'"),
    ("input", flow.universal(service="sqs", action="sendMessage",
                             input_text='{"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", '
                                        '"MessageBody": "hi", "DelaySeconds": "5"}'),
     "DelaySeconds must be a whole number"),
    ("input", flow.universal(service="sqs", action="sendMessage", input_text='{"QueueUrl": "https://q"}'),
     "missing MessageBody"),
    ("input", flow.universal(service="sfn", action="startExecution", input_text='{"StateMachineArn": 5}'),
     "StateMachineArn must be a string"),
    ("input", flow.universal(input_text='{"InstanceIds": ["<string>"]}'), "replace the placeholder at InstanceIds[0]"),
    ("service", flow.universal(service="cognito-idp", action="adminDeleteUser"), "Select a valid choice"),
    ("input", flow.universal(service="rds", action="startDBInstance", input_text='{"Other": 1}'),
     "missing DBInstanceIdentifier"),
    ("input", flow.universal(input_text='{"InstanceIds": ["<aws.scheduler.nope>"]}'), "Unknown context attribute"),
    ("resource", flow.templated("lambda", ""), "Choose the lambda function, or enter its ARN"),
    ("resource_arn", flow.templated("lambda", "", resource_arn="arn:aws:sns:us-east-1:123456789012:Topic1"),
     "not a Lambda function ARN (it is a sns ARN)"),
    ("resource_arn", flow.templated("lambda", "", resource_arn="function-name"), "not a Lambda function ARN"),
    ("input", flow.templated("lambda", LAMBDA, input_text="{oops"), "Payload: This is not valid JSON"),
    ("message_group_id", flow.templated("sqs", "", resource_arn="arn:aws:sqs:us-east-1:123456789012:jobs.fifo"),
     "Message group ID (needed for a FIFO queue) is required"),
    ("detail_type", flow.templated("events", "", resource_arn="arn:aws:events:us-east-1:123456789012:event-bus/default",
                                   detail_type="", source="my.app"), "Detail type is required"),
    ("source", flow.templated("events", "", resource_arn="arn:aws:events:us-east-1:123456789012:event-bus/default",
                              detail_type="tick", source="aws.ec2"), "cannot start with aws."),
    ("partition_key", flow.templated("kinesis", "", resource_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s"),
     "Partition key is required"),
    ("task_definition", flow.templated("ecs", "", resource_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
                                       task_definition="", task_count="1", launch_type="FARGATE", subnets="subnet-1"),
     "Task definition is required"),
    ("task_count", flow.templated("ecs", "", resource_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
                                  task_count="11", launch_type="EC2"), "Task count must be between 1 and 10"),
    ("subnets", flow.templated("ecs", "", resource_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
                               task_count="1", launch_type="FARGATE", subnets=""), "at least one subnet"),
]


@pytest.mark.parametrize(("field", "data", "message"), TARGET_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TARGET_CASES)])
def test_select_target_reports_each_error_at_its_field(draft, field, data, message):
    client, draft_id = draft
    errors = errors_after(client, draft_id, "target", data)
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors[field]


SETTINGS_CASES = [
    ("max_retries", {"max_retries": "186"}, "Retry attempts must be between 0 and 185"),
    ("max_retries", {"max_retries": ""}, "Enter the maximum number of retries"),
    ("max_age_hours", {"max_age_hours": "0", "max_age_minutes": "0"}, "1 minute to 24 hours"),
    ("max_age_hours", {"max_age_hours": "24", "max_age_minutes": "30"}, "1 minute to 24 hours"),
    ("max_age_hours", {"max_age_hours": "25"}, "less than or equal to 24"),
    ("max_age_minutes", {"max_age_minutes": "60"}, "less than or equal to 59"),
    ("dlq_queue", {"dlq_mode": "this"}, "Choose the queue"),
    ("dlq_arn", {"dlq_mode": "other", "dlq_arn": ""}, "Enter the queue's ARN"),
    ("dlq_arn", {"dlq_mode": "other", "dlq_arn": "arn:aws:sns:us-east-1:123456789012:t"}, "SQS standard queue ARN"),
    ("kms_key_arn", {"encryption": "on", "kms_key_arn": ""}, "Enter the ARN of the customer managed KMS key"),
    ("kms_key_arn", {"encryption": "on", "kms_key_arn": "my-key"}, "a KMS key or alias ARN"),
    ("role", {"role": ""}, "Choose the execution role"),
    ("role_arn", {"role_mode": "arn", "role_arn": ""}, "Enter the ARN of the execution role"),
    ("role_arn", {"role_mode": "arn", "role_arn": "arn:aws:iam::123:role/x"}, "an IAM role ARN"),
    ("action_after_completion", {"action_after_completion": "EXPLODE"}, "Select a valid choice"),
]


@pytest.mark.parametrize(("field", "change", "message"), SETTINGS_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SETTINGS_CASES)])
def test_settings_reports_each_error_at_its_field(draft, field, change, message):
    client, draft_id = draft
    errors = errors_after(client, draft_id, "settings", flow.settings(flow.role_arn(), **change))
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors[field]
