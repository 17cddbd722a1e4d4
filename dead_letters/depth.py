"""Which rule targets and schedules have a dead-letter queue, and how many messages each holds.

`environment_depth_fetch` (run by a worker: beat every DEAD_LETTER_DEPTH_INTERVAL_SECONDS, and on
demand from a page) first brings the list of queues in line with the specs (what AWS has, else what is
desired), then reads each distinct queue once (GetQueueUrl, GetQueueAttributes) and stores its depth on
every row that names it. A queue that cannot be read keeps its last depth and records the error in
words. Pages read only the stored rows.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.utils import timezone

from environments import aws
from rules.models import Rule
from schedules.models import Schedule

from .models import DeadLetterQueue

log = logging.getLogger(__name__)

DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed"]


@dataclass(frozen=True)
class QueueRef:
    """An SQS queue named by its ARN: arn:aws:sqs:<region>:<account>:<name>."""

    arn: str
    region: str
    account: str
    name: str

    @classmethod
    def parse(cls, arn: str) -> "QueueRef | None":
        parts = (arn or "").split(":")
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
            return None
        return cls(arn=arn, region=parts[3], account=parts[4], name=parts[5])


def _spec(obj) -> dict:
    spec = obj.live_spec if obj.live_spec is not None else obj.desired_spec
    return spec if isinstance(spec, dict) else {}


def rule_dead_letters(rule) -> list[tuple[str, str, str]]:
    """[(target Id, target ARN, queue ARN)] of the rule's targets that have a dead-letter queue."""
    found = []
    for target in _spec(rule).get("Targets") or []:
        if not isinstance(target, dict):
            continue
        arn = (target.get("DeadLetterConfig") or {}).get("Arn") if isinstance(target.get("DeadLetterConfig"), dict) else None
        if arn:
            found.append((str(target.get("Id") or "")[:64], str(target.get("Arn") or ""), str(arn)))
    return found


def schedule_dead_letter(schedule) -> tuple[str, str] | None:
    """(target ARN, queue ARN) of the schedule's dead-letter queue, or None."""
    target = _spec(schedule).get("Target")
    if not isinstance(target, dict) or not isinstance(target.get("DeadLetterConfig"), dict):
        return None
    arn = target["DeadLetterConfig"].get("Arn")
    return (str(target.get("Arn") or ""), str(arn)) if arn else None


def queues_sync(environment) -> list[DeadLetterQueue]:
    """Make the environment's DeadLetterQueue rows match its rules' and schedules' specs (database only)."""
    wanted: dict[tuple, tuple[str, str]] = {}
    for rule in Rule.objects.filter(environment=environment).only("pk", "live_spec", "desired_spec").iterator():
        for target_id, target_arn, queue_arn in rule_dead_letters(rule):
            wanted[("rule", rule.pk, target_id)] = (target_arn, queue_arn)
    for schedule in Schedule.objects.filter(environment=environment).only("pk", "live_spec", "desired_spec").iterator():
        found = schedule_dead_letter(schedule)
        if found:
            wanted[("schedule", schedule.pk, "")] = found
    with transaction.atomic():
        existing = {}
        for row in DeadLetterQueue.objects.select_for_update().filter(environment=environment):
            key = ("rule", row.rule_id, row.target_id) if row.rule_id else ("schedule", row.schedule_id, "")
            existing[key] = row
        for key, row in existing.items():
            if key not in wanted:
                row.delete()
        for key, (target_arn, queue_arn) in wanted.items():
            row = existing.get(key)
            if row is None:
                kind, pk, target_id = key
                # get_or_create: a depth read running at the same moment (beat and Read depth now) may create it first
                DeadLetterQueue.objects.get_or_create(
                    target_id=target_id, **({"rule_id": pk} if kind == "rule" else {"schedule_id": pk}),
                    defaults={"environment": environment, "target_arn": target_arn[:1600],
                              "queue_arn": queue_arn[:1600]})
            elif (row.queue_arn, row.target_arn) != (queue_arn, target_arn):
                if row.queue_arn != queue_arn:  # another queue: its depth is not known yet
                    row.queue_url, row.visible, row.in_flight, row.delayed, row.fetched = "", None, None, None, None
                row.queue_arn, row.target_arn = queue_arn[:1600], target_arn[:1600]
                row.save()
    return list(DeadLetterQueue.objects.filter(environment=environment))


def queue_url(sqs, ref: QueueRef) -> str:
    params = {"QueueName": ref.name}
    if ref.account:
        params["QueueOwnerAWSAccountId"] = ref.account
    return sqs.get_queue_url(**params)["QueueUrl"]


def _count(attributes: dict, name: str) -> int | None:
    value = attributes.get(name)
    return int(value) if isinstance(value, str) and value.isdigit() else None


def environment_depth_fetch(environment) -> dict[str, int]:
    """Sync the environment's dead-letter queues and read each one's depth. {"queues", "read", "failed"}."""
    rows = queues_sync(environment)
    by_queue: dict[str, list[DeadLetterQueue]] = {}
    for row in rows:
        by_queue.setdefault(row.queue_arn, []).append(row)
    read = failed = 0
    sqs = aws.client(environment, "sqs") if by_queue else None
    for queue_arn, queue_rows in by_queue.items():
        now = timezone.now()
        ref = QueueRef.parse(queue_arn)
        update: dict = {}
        if ref is None:
            update = {"error": f"{queue_arn[:200]} is not an SQS queue ARN: its depth cannot be read."}
            failed += 1
        else:
            try:
                url = queue_rows[0].queue_url or queue_url(sqs, ref)
                try:
                    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=DEPTH_ATTRIBUTES)["Attributes"]
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") not in ("AWS.SimpleQueueService.NonExistentQueue",
                                                                          "QueueDoesNotExist"):
                        raise
                    url = queue_url(sqs, ref)  # the stored URL may be stale: ask again once
                    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=DEPTH_ATTRIBUTES)["Attributes"]
            except (BotoCoreError, ClientError) as exc:
                update = {"error": f"The depth of {ref.name} could not be read: {aws.describe_error(exc)}"}
                failed += 1
            else:
                update = {"queue_url": url, "visible": _count(attributes, DEPTH_ATTRIBUTES[0]),
                          "in_flight": _count(attributes, DEPTH_ATTRIBUTES[1]),
                          "delayed": _count(attributes, DEPTH_ATTRIBUTES[2]), "fetched": now, "error": ""}
                read += 1
        DeadLetterQueue.objects.filter(pk__in=[row.pk for row in queue_rows]).update(**update)
    return {"queues": len(by_queue), "read": read, "failed": failed}
