"""Demo (local mode): a managed rule with an SQS target, so a new user can send a test event and watch it arrive.

Rule `demo-orders-to-sqs` on the default bus, pattern {"source": ["com.example.orders"]}, target SQS queue
`eventconsole-demo-orders` with the queue policy EventConsole writes for its rules (delivery.policies). The rule
is recorded as managed (as an adoption would: its desired spec is what AWS has) and polled once, so its page
shows it In sync. Idempotent: what exists is left as it is. Registered with environments.demo by TailConfig.
"""
from __future__ import annotations

import json

from botocore.exceptions import ClientError
from django.db import transaction

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from changes.choices import SyncStatus
from changes.polling import objects_poll
from delivery import policies
from environments import aws
from environments.demo import CREATED, EXISTS, queue_seed
from rules.models import Rule

RULE_NAME = "demo-orders-to-sqs"
QUEUE_NAME = "eventconsole-demo-orders"
SOURCE = "com.example.orders"
BUS = "default"


def _spec(queue_arn: str) -> dict:
    return {"Rule": {"Name": RULE_NAME, "EventBusName": BUS, "State": "ENABLED",
                     "Description": "Demo: orders to an SQS queue (send a test event, watch it in the live tail)",
                     "EventPattern": json.dumps({"source": [SOURCE]})},
            "Targets": [{"Id": "orders-queue", "Arn": queue_arn}], "Tags": []}


def demo_orders_rule_seed(environment) -> dict[str, str]:
    if not environment.is_emulated:
        return {}
    events, sqs = aws.client(environment, "events"), aws.client(environment, "sqs")
    report = {}
    url, queue_arn, report[f"sqs queue {QUEUE_NAME}"] = queue_seed(sqs, QUEUE_NAME)
    spec = _spec(queue_arn)
    try:
        rule_arn, state = events.describe_rule(Name=RULE_NAME, EventBusName=BUS)["Arn"], EXISTS
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        rule_arn, state = events.put_rule(**spec["Rule"])["RuleArn"], CREATED
        events.put_targets(Rule=RULE_NAME, EventBusName=BUS, Targets=spec["Targets"])
    report[f"rule {RULE_NAME}"] = state
    need = policies.needs(spec, rule_arn=rule_arn)[0]
    statement = policies.our_statement(need, need.sid, rule_arn=rule_arn)
    if state == CREATED:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(
            {"Version": policies.VERSION, "Statement": [statement]})})
    if not Rule.objects.filter(environment=environment, event_bus_name=BUS, name=RULE_NAME).exists():
        with transaction.atomic():
            rule = Rule.objects.create(
                environment=environment, event_bus_name=BUS, name=RULE_NAME, desired_spec=spec, version=1,
                sync_status=SyncStatus.PENDING, state="ENABLED", description=spec["Rule"]["Description"],
                targets_count=1, delivery_statements=[{"service": "sqs", "resource": queue_arn, "sid": need.sid}],
                origin={"demo": "seeded by seed_demo_aws"})
            audit_record(action=AuditAction.ADOPTED, object_type=ObjectType.RULE, object_id=rule.pk,
                         object_repr=rule.object_name, environment=environment, after=spec,
                         message=f"Demo seed: {RULE_NAME} is managed by EventConsole")
        report[f"managed rule {RULE_NAME}"] = CREATED
        objects_poll(environment, "rule")  # live state and status, as after an apply
    else:
        report[f"managed rule {RULE_NAME}"] = EXISTS
    return report
