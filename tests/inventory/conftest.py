"""Objects as discovery leaves them (made directly in the database): unmanaged rows with what AWS has as
their live spec, no desired spec, version 0, and the kind's denormalised columns filled from the live spec;
and managed rows beside them. Two environments in two accounts, neither reached over the network."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from changes.choices import SyncStatus
from environments.models import Environment
from rules import kind as rule_kind
from rules.aws_reader import spec_from_api as rule_from_api
from rules.models import Rule
from schedules import kind as schedule_kind
from schedules.aws_reader import spec_from_api as schedule_from_api
from schedules.models import Schedule

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"


@pytest.fixture
def envs(db):
    return {"a": Environment.objects.create(name="Alpha", region="us-east-1", account_id=ACCOUNT_A,
                                            endpoint_url="http://127.0.0.1:9"),
            "b": Environment.objects.create(name="Bravo", region="eu-west-1", account_id=ACCOUNT_B,
                                            endpoint_url="http://127.0.0.1:9")}


def rule_live(environment, name, *, bus="default", pattern=None, schedule="", role="", targets=(), tags=(),
              managed_by=""):
    """What discovery reads for a rule (DescribeRule/ListRules + ListTargetsByRule + tags), in the spec's shape."""
    arn = f"arn:aws:events:{environment.region}:{environment.account_id}:rule/" + (
        name if bus == "default" else f"{bus}/{name}")
    api = {"Name": name, "EventBusName": bus, "State": "ENABLED", "Arn": arn,
           **({"EventPattern": json.dumps(pattern)} if pattern is not None else {}),
           **({"ScheduleExpression": schedule} if schedule else {}), **({"RoleArn": role} if role else {}),
           **({"ManagedBy": managed_by} if managed_by else {})}
    return rule_from_api(api, list(targets), [{"Key": k, "Value": v} for k, v in tags])


def discovered_rule(environment, name, *, owner_service="", stack=None, **live_fields) -> Rule:
    live = rule_live(environment, name, managed_by=owner_service, **live_fields)
    snapshot, extra = rule_kind.split_live(live)
    now = timezone.now()
    rule = Rule(environment=environment, name=name, event_bus_name=live["Rule"]["EventBusName"],
                sync_status=SyncStatus.UNMANAGED, desired_spec=None, live_spec=snapshot, version=0,
                owner_service=owner_service, stack_name=(stack or {}).get("name", ""),
                origin={"discovered_by_run": 7, **({"stack": stack} if stack else {})},
                first_seen=now - timedelta(days=2), last_seen=now, **extra)
    rule_kind.denormalise(rule, snapshot)
    rule.save()
    return rule


def managed_rule(environment, name, **live_fields) -> Rule:
    spec = rule_live(environment, name, **live_fields)
    desired = {k: v for k, v in spec.items() if k in ("Rule", "Targets", "Tags")}
    rule = Rule(environment=environment, name=name, event_bus_name=desired["Rule"]["EventBusName"],
                sync_status=SyncStatus.IN_SYNC, desired_spec=desired, live_spec=spec, version=1)
    rule_kind.denormalise(rule, desired)
    rule.save()
    return rule


def schedule_live(environment, name, *, group="default", expression="rate(1 hour)", zone="UTC", target_arn="",
                  role="", dlq=""):
    target = {"Arn": target_arn or f"arn:aws:sqs:{environment.region}:{environment.account_id}:q",
              "RoleArn": role or f"arn:aws:iam::{environment.account_id}:role/scheduler",
              **({"DeadLetterConfig": {"Arn": dlq}} if dlq else {})}
    return schedule_from_api({
        "Name": name, "GroupName": group, "ScheduleExpression": expression, "ScheduleExpressionTimezone": zone,
        "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED", "Target": target,
        "Arn": f"arn:aws:scheduler:{environment.region}:{environment.account_id}:schedule/{group}/{name}",
        "LastModificationDate": timezone.now()})


def discovered_schedule(environment, name, *, stack=None, **live_fields) -> Schedule:
    snapshot, extra = schedule_kind.split_live(schedule_live(environment, name, **live_fields))
    now = timezone.now()
    schedule = Schedule(environment=environment, name=name, group_name=snapshot["GroupName"],
                        sync_status=SyncStatus.UNMANAGED, desired_spec=None, live_spec=snapshot, version=0,
                        stack_name=(stack or {}).get("name", ""),
                        origin={"discovered_by_run": 7, **({"stack": stack} if stack else {})},
                        first_seen=now - timedelta(days=1), last_seen=now, **extra)
    schedule_kind.denormalise(schedule, snapshot, now=now)
    schedule.save()
    return schedule


def managed_schedule(environment, name, **live_fields) -> Schedule:
    snapshot, extra = schedule_kind.split_live(schedule_live(environment, name, **live_fields))
    desired = {k: v for k, v in snapshot.items() if k != "Arn"}
    schedule = Schedule(environment=environment, name=name, group_name=desired["GroupName"],
                        sync_status=SyncStatus.IN_SYNC, desired_spec=desired, live_spec=snapshot, version=1,
                        last_applied=timezone.now(), **extra)
    schedule_kind.denormalise(schedule, desired, now=timezone.now())
    schedule.save()
    return schedule
