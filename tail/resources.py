"""The live tail's AWS side: the temporary rule and SQS queue, reading what arrives, removing them, the sweep.

Every call goes through environments.aws.client. What is ours is decided by name AND tag, never by name alone:
a rule or queue is only ever removed when its name starts with TEMPORARY_RULE_PREFIX and it carries the
`eventconsole:tail` tag (the sweep also needs its `eventconsole:expires` time to have passed).

Order matters. Creating: PutRule (tagged), CreateQueue (tagged, with the queue policy that lets only this
rule send), PutTargets. Removing: RemoveTargets, DeleteRule, then DeleteQueue: a rule left pointing at a
deleted queue would make the emulator refuse every PutEvents on the bus.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from delivery.policies import EVENTS, VERSION
from environments import aws
from rules.aws_reader import TEMPORARY_RULE_PREFIX, list_buses

TAG_TAIL = "eventconsole:tail"
TAG_EXPIRES = "eventconsole:expires"
TARGET_ID = "eventconsole-tail"
POLICY_SID = "EventConsoleLiveTail"
# Every event of the bus: AWS and our validator both accept an empty prefix, and every event has a source.
ALL_EVENTS = {"source": [{"prefix": ""}]}
RECEIVE_WAIT_SECONDS = 1  # each read long-polls this long (the page asks again as soon as it has an answer)
QUEUE_RETENTION_SECONDS = 3600  # nothing needs a tail's events for longer


def session_name(pk: int, token: str) -> str:
    return f"{TEMPORARY_RULE_PREFIX}{pk}-{token}"


def _tags(session) -> dict[str, str]:
    return {TAG_TAIL: str(session.pk), TAG_EXPIRES: session.expires_at.isoformat(timespec="seconds")}


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """Only EventBridge, and only for this rule, may send to the queue (as the console writes it)."""
    return {"Version": VERSION, "Statement": [{
        "Sid": POLICY_SID, "Effect": "Allow", "Principal": {"Service": EVENTS}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _gone(exc: ClientError) -> bool:
    return _code(exc) in ("ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue",
                          "QueueDoesNotExist", "NonExistentQueue")


@dataclass
class Created:
    rule_arn: str = ""
    queue_url: str = ""
    queue_arn: str = ""
    calls: list[str] = field(default_factory=list)


def create(session, *, progress=None) -> Created:
    """Create the session's rule, queue, policy and target. `progress(created)` is called after each step,
    so what exists is recorded even if a later call fails."""
    environment, name, bus = session.environment, session.name, session.event_bus_name
    events, sqs = aws.client(environment, "events"), aws.client(environment, "sqs")
    tags = _tags(session)
    done = Created()
    done.rule_arn = events.put_rule(
        Name=name, EventBusName=bus, EventPattern=session.pattern, State="ENABLED",
        Description=f"EventConsole live tail (temporary; removed by {tags[TAG_EXPIRES]})",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["RuleArn"]
    done.calls.append("PutRule")
    if progress:
        progress(done)
    done.queue_url = sqs.create_queue(QueueName=name, tags=tags, Attributes={
        "MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS)})["QueueUrl"]
    done.calls.append("CreateQueue")
    done.queue_arn = sqs.get_queue_attributes(QueueUrl=done.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    if progress:
        progress(done)
    sqs.set_queue_attributes(QueueUrl=done.queue_url, Attributes={
        "Policy": json.dumps(queue_policy(done.queue_arn, done.rule_arn))})
    done.calls.append("SetQueueAttributes")
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": TARGET_ID, "Arn": done.queue_arn}])
    done.calls.append("PutTargets")
    return done


def remove(environment, name: str, bus: str) -> list[str]:
    """Remove the rule `name` on `bus` (its targets first) and the queue `name`; what was removed, in words.

    Only names of ours are accepted; a rule or queue already gone is not an error."""
    if not name.startswith(TEMPORARY_RULE_PREFIX):
        raise ValueError(f"{name} is not a live tail's name; nothing removed.")
    events, sqs = aws.client(environment, "events"), aws.client(environment, "sqs")
    removed = []
    try:
        ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])]
        if ids:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
        events.delete_rule(Name=name, EventBusName=bus)
        removed.append(f"rule {name} on {bus}")
    except ClientError as exc:
        if not _gone(exc):
            raise
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.delete_queue(QueueUrl=url)
        removed.append(f"queue {name}")
    except ClientError as exc:
        if not _gone(exc):
            raise
    return removed


def read(session) -> list[dict[str, Any]]:
    """What arrived since the last read (up to 10 events), deleted from the queue once read.

    A person's page waits for this: an interactive client, within the page's AWS budget."""
    sqs = aws.client(session.environment, "sqs", interactive=True)
    answer = aws.within_budget(lambda: sqs.receive_message(
        QueueUrl=session.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=RECEIVE_WAIT_SECONDS))
    messages = answer.get("Messages", [])
    if messages:
        aws.within_budget(lambda: sqs.delete_message_batch(QueueUrl=session.queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]))
    events = []
    for message in messages:
        try:
            body = json.loads(message["Body"])
        except (TypeError, ValueError, RecursionError):
            body = message.get("Body")
        events.append({"message_id": message["MessageId"], "event": body})
    return events


def _expired(tags: dict[str, str], now: datetime) -> bool:
    """Ours (tagged) and past its expiry. A tag that cannot be read as a time counts as expired: it is ours."""
    if TAG_TAIL not in tags:
        return False
    try:
        return datetime.fromisoformat(tags.get(TAG_EXPIRES, "")) <= now
    except ValueError:
        return True


def sweep(environment, now: datetime) -> list[tuple[str, str]]:
    """Remove the temporary rules and queues left behind in `environment`: named as ours, tagged as ours, and past
    their expiry. [(name, what was removed)]. Rules first (their targets would otherwise point at nothing)."""
    events, sqs = aws.client(environment, "events"), aws.client(environment, "sqs")
    removed: list[tuple[str, str]] = []
    for bus in list_buses(environment):
        token = None
        while True:
            page = events.list_rules(EventBusName=bus, NamePrefix=TEMPORARY_RULE_PREFIX, Limit=100,
                                     **({"NextToken": token} if token else {}))
            for rule in page.get("Rules", []):
                try:
                    tags = {t["Key"]: t["Value"] for t in
                            events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])}
                except ClientError as exc:
                    if _gone(exc):
                        continue
                    raise
                if _expired(tags, now):
                    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)
                           .get("Targets", [])]
                    if ids:
                        events.remove_targets(Rule=rule["Name"], EventBusName=bus, Ids=ids)
                    events.delete_rule(Name=rule["Name"], EventBusName=bus)
                    removed.append((rule["Name"], f"rule {rule['Name']} on {bus}"))
            token = page.get("NextToken")
            if not token:
                break
    token = None
    while True:
        page = sqs.list_queues(QueueNamePrefix=TEMPORARY_RULE_PREFIX, MaxResults=1000,
                               **({"NextToken": token} if token else {}))
        for url in page.get("QueueUrls", []):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            if not name.startswith(TEMPORARY_RULE_PREFIX):
                continue
            try:
                tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
                if _expired(tags, now):
                    sqs.delete_queue(QueueUrl=url)
                    removed.append((name, f"queue {name}"))
            except ClientError as exc:
                if not _gone(exc):
                    raise
        token = page.get("NextToken")
        if not token:
            break
    return removed
