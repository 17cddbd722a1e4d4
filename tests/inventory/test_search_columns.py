"""The inventory search columns: what each kind's denormalise writes from a spec, and the data migrations
that fill them for rows made before the columns existed (their own copy of the extraction)."""
import importlib
import json

import pytest
from django.apps import apps

from changes.choices import SyncStatus
from rules import kind as rule_kind
from rules.models import Rule
from schedules import kind as schedule_kind
from schedules.models import Schedule

pytestmark = pytest.mark.django_db

RULE_SPEC = {
    "Rule": {"Name": "orders", "EventBusName": "shop", "State": "ENABLED",
             "EventPattern": json.dumps({"source": ["com.Shop.Orders"], "detail": {"total": [{"numeric": [">", 100]}]}},
                                        indent=2),
             "RoleArn": "arn:aws:iam::111111111111:role/Rule-Role"},
    "Targets": [{"Id": "a", "Arn": "arn:aws:lambda:us-east-1:111111111111:function:Billing",
                 "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:111111111111:DLQ"}},
                {"Id": "b", "Arn": "arn:aws:events:us-east-1:222222222222:event-bus/central",
                 "RoleArn": "arn:aws:iam::111111111111:role/Rule-Role"}],
    "Tags": [{"Key": "Team", "Value": "Payments"}, {"Key": "cost centre", "Value": "42"}],
}
RULE_COLUMNS = {
    "search_pattern": '{"source":["com.shop.orders"],"detail":{"total":[{"numeric":[">",100]}]}}',
    "search_targets": "arn:aws:lambda:us-east-1:111111111111:function:billing\n"
                      "arn:aws:events:us-east-1:222222222222:event-bus/central\n"
                      "arn:aws:sqs:us-east-1:111111111111:dlq",
    "search_roles": "arn:aws:iam::111111111111:role/rule-role",
    "search_tags": "team=payments\ncost centre=42",
}
SCHEDULE_SPEC = {
    "Name": "nightly", "GroupName": "reports", "ScheduleExpression": "cron(0 2 * * ? *)",
    "ScheduleExpressionTimezone": "Europe/Paris", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
    "Target": {"Arn": "arn:aws:sqs:eu-west-1:111111111111:Reports", "RoleArn": "arn:aws:iam::111111111111:role/Sched",
               "DeadLetterConfig": {"Arn": "arn:aws:sqs:eu-west-1:111111111111:Reports-DLQ"}},
}
SCHEDULE_COLUMNS = {
    "search_pattern": "cron(0 2 * * ? *)\neurope/paris",
    "search_targets": "arn:aws:sqs:eu-west-1:111111111111:reports\narn:aws:sqs:eu-west-1:111111111111:reports-dlq",
    "search_roles": "arn:aws:iam::111111111111:role/sched",
    "search_tags": "",
}


def columns(obj) -> dict[str, str]:
    return {name: getattr(obj, name) for name in RULE_COLUMNS}


def test_denormalise_fills_the_search_columns(envs):
    rule = Rule(environment=envs["a"], name="orders", event_bus_name="shop")
    rule_kind.denormalise(rule, RULE_SPEC)
    assert columns(rule) == RULE_COLUMNS
    schedule = Schedule(environment=envs["a"], name="nightly", group_name="reports")
    schedule_kind.denormalise(schedule, SCHEDULE_SPEC)
    assert columns(schedule) == SCHEDULE_COLUMNS
    rule_kind.denormalise(rule, None)  # no spec: nothing to search
    assert set(columns(rule).values()) == {""}


def test_the_data_migrations_backfill_existing_rows(envs):
    managed = Rule.objects.create(environment=envs["a"], name="orders", event_bus_name="shop", desired_spec=RULE_SPEC,
                                  live_spec={"Rule": {"Name": "orders"}}, version=1, sync_status=SyncStatus.IN_SYNC)
    found = Rule.objects.create(environment=envs["b"], name="orders", event_bus_name="shop", desired_spec=None,
                                live_spec=RULE_SPEC, sync_status=SyncStatus.UNMANAGED)
    bare = Rule.objects.create(environment=envs["a"], name="placeholder", desired_spec=None)
    schedule = Schedule.objects.create(environment=envs["a"], name="nightly", group_name="reports",
                                       desired_spec=SCHEDULE_SPEC, version=1, sync_status=SyncStatus.IN_SYNC)
    importlib.import_module("rules.migrations.0004_search_columns").backfill(apps, None)
    importlib.import_module("schedules.migrations.0005_search_columns").backfill(apps, None)
    managed.refresh_from_db(), found.refresh_from_db(), bare.refresh_from_db(), schedule.refresh_from_db()
    assert columns(managed) == RULE_COLUMNS  # from the desired spec
    assert columns(found) == RULE_COLUMNS  # an unmanaged rule: from what AWS has
    assert set(columns(bare).values()) == {""}
    assert columns(schedule) == SCHEDULE_COLUMNS
