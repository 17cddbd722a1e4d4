"""Metric fixtures: rules and schedules as EventConsole knows them (rows whose live state says they exist in
AWS), and datapoints published to the moto server's CloudWatch with AWS's own namespaces, metric names and
dimensions (moto emits no metric by itself)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from environments import aws
from rules.models import Rule
from schedules.models import Schedule


def rule_row(environment, name: str, bus: str = "default") -> Rule:
    spec = {"Rule": {"Name": name, "EventBusName": bus, "State": "ENABLED", "EventPattern": '{"source":["x"]}'},
            "Targets": [], "Tags": []}
    return Rule.objects.create(environment=environment, name=name, event_bus_name=bus, desired_spec=spec,
                               live_spec=spec, version=1, state="ENABLED")


def schedule_row(environment, name: str, group: str) -> Schedule:
    spec = {"Name": name, "GroupName": group, "ScheduleExpression": "rate(1 hour)", "State": "ENABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/r"}}
    return Schedule.objects.create(environment=environment, name=name, group_name=group, desired_spec=spec,
                                   live_spec=spec, version=1, state="ENABLED", expression="rate(1 hour)")


def five_minutes_ago(minutes: int) -> datetime:
    """The start of the 5-minute period `minutes` ago (UTC), plus one minute: a point inside that period."""
    moment = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0) + timedelta(minutes=1)


def publisher(environment):
    """publish(namespace, metric, {"RuleName": "r"}, value, when): put_metric_data on the moto server."""
    cloudwatch = aws.client(environment, "cloudwatch")

    def put(namespace: str, metric: str, dimensions: dict[str, str], value: float, when: datetime) -> None:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{
            "MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            "Timestamp": when, "Value": value, "Unit": "Count"}])
    return put


@pytest.fixture
def publish(environment):
    return publisher(environment)
