"""Peek at a dead-letter queue: its oldest messages, without deleting them (a live AWS call, within the
page's budget for AWS calls).

ReceiveMessage with VisibilityTimeout=0 leaves every message visible to the next reader, so nothing is
taken from the queue. Two things a person must know, said on the page:
- a standard queue has no strict order: "oldest" is the oldest of what SQS returned (by SentTimestamp);
- a peek is a receive: it adds one to each message's ApproximateReceiveCount, so a redrive policy on the
  dead-letter queue itself (maxReceiveCount) may move a message to that queue's own dead-letter queue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.exceptions import BotoCoreError, ClientError

from environments import aws

from . import words
from .depth import QueueRef, queue_url

PEEK_CALLS = 3  # ReceiveMessage calls per peek (each returns up to 10 messages)
PEEK_BATCH = 10  # the most ReceiveMessage returns at once


@dataclass
class Peeked:
    message_id: str
    sent: datetime | None
    receive_count: str
    described: words.Described
    body: str
    receipt_handle: str = ""


@dataclass
class PeekResult:
    messages: list[Peeked] = field(default_factory=list)
    calls: int = 0
    error: str = ""
    queue_url: str = ""


def _sent(attributes: dict) -> datetime | None:
    value = attributes.get("SentTimestamp")
    if isinstance(value, str) and value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    return None


def receive(sqs, url: str, *, visibility_timeout: int, wait_seconds: int = 0) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=PEEK_BATCH, VisibilityTimeout=visibility_timeout,
                               WaitTimeSeconds=wait_seconds, MessageAttributeNames=["All"],
                               AttributeNames=["All"]).get("Messages", [])


def to_peeked(kind: str, message: dict) -> Peeked:
    attributes = message.get("Attributes") or {}
    return Peeked(message_id=str(message.get("MessageId", "")), sent=_sent(attributes),
                  receive_count=str(attributes.get("ApproximateReceiveCount", "")),
                  described=words.describe(kind, message.get("MessageAttributes"), message.get("Body")),
                  body=message.get("Body") or "", receipt_handle=message.get("ReceiptHandle", ""))


def peek(queue, *, calls: int = PEEK_CALLS) -> PeekResult:
    """The oldest messages of `queue` (a DeadLetterQueue) that a few ReceiveMessage calls return, oldest
    first, each once; nothing is deleted. Errors (and a spent budget) come back in words."""
    result = PeekResult()
    ref = QueueRef.parse(queue.queue_arn)
    if ref is None:
        result.error = f"{queue.queue_arn[:200]} is not an SQS queue ARN."
        return result
    environment = queue.environment
    seen: dict[str, Peeked] = {}
    try:
        sqs = aws.client(environment, "sqs", interactive=True)
        url = queue.queue_url or aws.within_budget(lambda: queue_url(sqs, ref))
        result.queue_url = url
        for _ in range(calls):
            batch = aws.within_budget(lambda: receive(sqs, url, visibility_timeout=0))
            result.calls += 1
            new = 0
            for message in batch:
                peeked = to_peeked(queue.kind, message)
                if peeked.message_id not in seen:
                    seen[peeked.message_id] = peeked
                    new += 1
            if not batch or not new:
                break
    except aws.BudgetSpent as exc:
        result.error = f"{exc}: showing what arrived before it ran out." if seen else f"{exc}."
    except (BotoCoreError, ClientError) as exc:
        result.error = aws.describe_error(exc)
    far_future = datetime.max.replace(tzinfo=timezone.utc)
    result.messages = sorted(seen.values(), key=lambda p: (p.sent or far_future, p.message_id))
    return result
