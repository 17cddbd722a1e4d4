"""A rule whose target has a dead-letter queue, a schedule with one, and the queues in moto (over HTTP)."""
import pytest

from environments import aws
from rules.models import Rule
from schedules.models import Schedule

from .examples import ACCOUNT


def rule_spec(dlq_arn: str, target_arn: str, **target) -> dict:
    return {"Rule": {"Name": "orders-to-lambda", "EventBusName": "orders-bus", "State": "ENABLED",
                     "EventPattern": '{"source":["aws.s3"]}'},
            "Targets": [{"Id": "Lambda1", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}, **target},
                        {"Id": "NoDlq", "Arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:Topic1"}],
            "Tags": []}


def schedule_spec(dlq_arn: str, target_arn: str, role_arn: str = f"arn:aws:iam::{ACCOUNT}:role/r") -> dict:
    return {"Name": "Start_batch_server_11PM", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
            "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "Target": {"Arn": target_arn, "RoleArn": role_arn, "Input": '{"action":"start"}',
                       "DeadLetterConfig": {"Arn": dlq_arn}}}


@pytest.fixture
def sqs(environment):
    return aws.client(environment, "sqs")


def make_queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


@pytest.fixture
def dlqs(environment, sqs):
    return make_dlqs(environment, sqs)


def make_dlqs(environment, sqs) -> dict:
    """Two dead-letter queues, a rule whose first target uses one, a schedule using the other."""
    rule_url, rule_dlq = make_queue(sqs, "orders-dlq")
    schedule_url, schedule_dlq = make_queue(sqs, "batch-server-dlq")
    _, target_queue = make_queue(sqs, "orders-target")
    spec = rule_spec(rule_dlq, target_queue)
    rule = Rule.objects.create(environment=environment, name="orders-to-lambda", event_bus_name="orders-bus",
                               desired_spec=spec, live_spec=spec, version=1, state="ENABLED", sync_status="in_sync")
    sspec = schedule_spec(schedule_dlq, target_queue)
    schedule = Schedule.objects.create(environment=environment, name="Start_batch_server_11PM", group_name="default",
                                       desired_spec=sspec, live_spec=sspec, version=1, state="ENABLED",
                                       expression="cron(0 23 * * ? *)", timezone="UTC", sync_status="in_sync")
    return {"rule": rule, "schedule": schedule, "rule_url": rule_url, "rule_dlq": rule_dlq,
            "schedule_url": schedule_url, "schedule_dlq": schedule_dlq, "target_queue": target_queue}
