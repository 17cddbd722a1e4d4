"""Redrive: send a dead-letter queue's messages to their target again, through a change request.

`redrive_create` (a person, from the peek page) peeks at the queue and makes one change request whose
items are the messages it returned (changes.ChangeItem, one per message: what the reviewer sees is
exactly what will be sent), with the target as the rule or schedule has it now. It is submitted at
once through the normal path: the environment's approval policy applies (and that of any environment
the target reaches); where none is needed it is approved and sent to the workers.

`redrive_apply` (the worker, registered with changes.batch for ChangeAction.REDRIVE, so the change is
claimed with a lease and handed back like any batch) receives the messages again (receipt handles from
the peek have expired), and for each pending item found:

1. rule queue: puts the event (the body) through the target's Input / InputPath / InputTransformer
   (awslang.transform), as EventBridge does; schedule queue: the body is the target's input already;
2. invokes the target once (delivery.invoke.target_invoke);
3. deletes the message only when the invocation succeeded; otherwise makes it visible again at once;
4. records the item's result and an audit event, in one transaction.

One failure does not stop the rest. Messages the worker received that are not items of the change are
made visible again when it is done. Items the queue never returned are skipped with the reason.
Delivery is at least once: a worker killed between an invocation and its record leaves the item pending,
and its successor sends that message again.

A received message stays hidden for DEAD_LETTER_REDRIVE_VISIBILITY_SECONDS. The worker writes on the items
it received when they become visible again, so that a successor (its predecessor lost with messages in
hand) waits for them rather than taking them as gone.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.permissions import SUBMIT, user_can
from audit.choices import AuditAction
from audit.services import audit_record
from awslang.transform import TransformError, render_target_input
from changes.batch import items_check
from changes.choices import ChangeAction, ItemState
from changes.models import ChangeItem, ChangeRequest
from changes.services import NotAllowed, change_request_submit
from delivery.invoke import api_of, target_invoke
from environments import aws
from rules import spec as rule_spec
from schedules.invocations import schedule_arn

from . import peek as peeking
from .models import DeadLetterQueue

log = logging.getLogger(__name__)

RECEIVE_ROUNDS = 20  # ReceiveMessage calls at most per apply
EMPTY_ROUNDS = 3  # rounds in a row that bring none of the change's messages end the search
BODY_KEPT = 262_144  # the most an SQS message holds (256 KiB)


class NothingToRedrive(ValueError):
    """The queue returned no message, or the target has no dead-letter queue any more (the text says which)."""


def target_of(queue: DeadLetterQueue) -> dict | None:
    owner = queue.owner
    spec = owner.live_spec if owner.live_spec is not None else owner.desired_spec
    if not isinstance(spec, dict):
        return None
    if queue.rule_id:
        return next((t for t in spec.get("Targets") or [] if isinstance(t, dict) and t.get("Id") == queue.target_id),
                    None)
    target = spec.get("Target")
    return target if isinstance(target, dict) else None


def _owner_arn(queue: DeadLetterQueue) -> str:
    environment, owner = queue.environment, queue.owner
    if queue.rule_id:
        return rule_spec.rule_arn(region=environment.region, account=environment.account_id or "000000000000",
                                  bus=owner.event_bus_name, name=owner.name)
    return schedule_arn(owner)


def payload_for(kind: str, target: dict, body: str, *, rule_arn: str, rule_name: str) -> str:
    """What the target receives for this message: a rule's event through the target's input settings;
    a schedule's payload as it is. Raises TransformError when the event cannot go through them."""
    if kind != "rule":
        return body
    return render_target_input(target, body, rule_arn=rule_arn, rule_name=rule_name)


def _item(change: ChangeRequest, number: int, peeked: peeking.Peeked, *, kind: str, target: dict, info: dict,
          queue_url: str) -> ChangeItem:
    attributes = {line.name: line.value for line in peeked.described.lines + peeked.described.unknown}
    api = (api_of(target) or ("", "", "an API EventConsole cannot call"))[2]
    try:
        payload = payload_for(kind, target, peeked.body, rule_arn=info["owner_arn"], rule_name=info["owner_name"])
        how = ("the event through the target's input settings" if kind == "rule" and
               any(k in target for k in ("Input", "InputPath", "InputTransformer")) else
               "the event as it is" if kind == "rule" else "the payload as it is")
        send = {"operation": api, "summary": f"send {how}", "params": {"Payload": payload[:4096]}}
    except TransformError as exc:
        send = {"operation": api, "summary": f"cannot be sent: the event does not go through the target's input "
                                             f"settings ({exc})", "params": {}}
    plan = [send, {"operation": "sqs:DeleteMessage", "summary": "only once the redelivery succeeded",
                   "params": {"QueueUrl": queue_url}}]
    spec = {"MessageId": peeked.message_id, "Sent": peeked.sent.isoformat() if peeked.sent else None,
            "Error": peeked.described.headline, "MessageAttributes": attributes, "Body": peeked.body[:BODY_KEPT]}
    return ChangeItem(change=change, object_id=number,
                      object_name=f"message {peeked.message_id}: {peeked.described.headline}"[:320],
                      spec=spec, plan=plan)


def redrive_create(queue: DeadLetterQueue, *, author, message: str = "") -> ChangeRequest:
    """A submitted change request to redrive the messages a peek of `queue` returns now (a live call
    within the page's budget). Raises NotAllowed, NothingToRedrive."""
    environment = queue.environment
    if author is None or not user_can(author, SUBMIT, environment):
        raise NotAllowed(f"You may not submit changes in {environment.name}.")
    open_one = redrives_open(queue).first()
    if open_one is not None:
        raise NothingToRedrive(f"Redrive #{open_one.pk} of this queue is not finished yet "
                               f"({open_one.get_state_display().lower()}): wait for it, or withdraw it first.")
    target = target_of(queue)
    if target is None:
        raise NothingToRedrive(f"The {queue.kind} has no such target any more: nothing to send the messages to.")
    result = peeking.peek(queue)
    if not result.messages:
        raise NothingToRedrive(result.error or "The queue returned no message: nothing to redrive.")
    owner = queue.owner
    info = {"queue": queue.pk, "queue_arn": queue.queue_arn, "queue_url": result.queue_url, "kind": queue.kind,
            "object_id": owner.pk, "owner_name": owner.name, "owner_arn": _owner_arn(queue),
            "target_id": queue.target_id, "target": target}
    count = len(result.messages)
    plural = "message" if count == 1 else "messages"
    with transaction.atomic():
        change = ChangeRequest.objects.create(
            kind=queue.kind, action=ChangeAction.REDRIVE, environment=environment, author=author,
            spec={"Target": target, "DeadLetterQueue": queue.queue_arn},
            object_name=f"{count} {plural} of {queue.queue_name} ({owner.object_name})"[:320],
            wizard={"redrive": info})
        ChangeItem.objects.bulk_create([
            _item(change, number, peeked, kind=queue.kind, target=target, info=info, queue_url=result.queue_url)
            for number, peeked in enumerate(result.messages, start=1)])
        audit_record(action=AuditAction.DRAFT_SAVED, object_type=queue.kind, object_id=owner.pk,
                     object_repr=owner.object_name, related_type="change", related_id=change.pk,
                     environment=environment, actor=author,
                     message=f"Redrive {count} {plural} of dead-letter queue {queue.queue_name} to "
                             f"{'target ' + queue.target_id if queue.rule_id else 'the schedule target'}"
                             + (f". {message}" if message else ""),
                     data={"queue": queue.queue_arn, "messages": [p.message_id for p in result.messages]})
        change_request_submit(change, actor=author)
    return change


# ---------------------------------------------------------------------------------------------
# Apply (in the worker, called by changes.batch.batch_apply once the change is claimed)
# ---------------------------------------------------------------------------------------------
def _visibility() -> int:
    return settings.DEAD_LETTER_REDRIVE_VISIBILITY_SECONDS


def _hidden_until(items) -> datetime | None:
    """When the messages a worker received for these items are visible again (the latest), or None."""
    found = []
    for item in items:
        for call in item.calls or []:
            if isinstance(call, dict) and call.get("hidden_until"):
                try:
                    found.append(datetime.fromisoformat(call["hidden_until"]))
                except ValueError:
                    continue
    return max(found) if found else None


def _finish(change: ChangeRequest, item: ChangeItem, state: str, message: str, *, calls: list, approver,
            info: dict) -> None:
    with transaction.atomic():
        locked = ChangeItem.objects.select_for_update().filter(pk=item.pk, state=ItemState.PENDING).first()
        if locked is None:
            return
        received = [c for c in locked.calls or [] if isinstance(c, dict) and c.get("operation") == "sqs:ReceiveMessage"]
        locked.state, locked.message, locked.finished = state, message, timezone.now()
        locked.calls = received[-1:] + calls
        locked.save(update_fields=["state", "message", "calls", "finished"])
        audit_record(action=AuditAction.APPLIED if state == ItemState.APPLIED else AuditAction.APPLY_FAILED,
                     object_type=change.kind, object_id=info.get("object_id", ""), object_repr=change.object_name,
                     related_type="change", related_id=change.pk, environment=change.environment,
                     on_behalf_of=approver, message=f"{item.object_name}: {message}",
                     data={"message_id": (item.spec or {}).get("MessageId"), "calls": calls})


def _release(sqs, url: str, receipt: str) -> str:
    """Make a received message visible again at once; "" or the error in words."""
    try:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    except (BotoCoreError, ClientError) as exc:
        return aws.describe_error(exc)
    return ""


def _redrive_one(change, item, message: dict, *, sqs, info: dict, approver) -> None:
    url, receipt, kind, target = info["queue_url"], message.get("ReceiptHandle", ""), info["kind"], info["target"]
    body = message.get("Body") or ""
    calls: list[dict] = []
    try:
        payload = payload_for(kind, target, body, rule_arn=info["owner_arn"], rule_name=info["owner_name"])
    except TransformError as exc:
        _release(sqs, url, receipt)
        return _finish(change, item, ItemState.FAILED,
                       f"Not sent: the event does not go through the target's input settings ({exc}). "
                       "The message stays in the queue.", calls=calls, approver=approver, info=info)
    context = {"schedule_arn": info["owner_arn"]} if kind == "schedule" else None
    result = target_invoke(change.environment, target, payload, context=context)
    calls.append({"operation": result.api or "invoke", "ok": result.ok, "error": result.error_words,
                  "error_code": result.error_code})
    if not result.ok:
        problem = _release(sqs, url, receipt)
        return _finish(change, item, ItemState.FAILED,
                       f"Redelivery failed ({result.api or 'no API'}): {result.error_words} The message stays in the "
                       "queue" + (f" (it could not be made visible again at once: {problem})" if problem else "")
                       + ".", calls=calls, approver=approver, info=info)
    try:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt)
    except (BotoCoreError, ClientError) as exc:
        problem = aws.describe_error(exc)
        calls.append({"operation": "sqs:DeleteMessage", "ok": False, "error": problem})
        return _finish(change, item, ItemState.APPLIED,
                       f"Redelivered through {result.api}, but it could not be deleted from the queue: {problem} "
                       "It is still there: a later redrive would send it again.", calls=calls, approver=approver,
                       info=info)
    calls.append({"operation": "sqs:DeleteMessage", "ok": True, "error": ""})
    _finish(change, item, ItemState.APPLIED, f"Redelivered through {result.api} and deleted from the queue.",
            calls=calls, approver=approver, info=info)


def _wait_until(moment: datetime, *, lease, stop_requested) -> None:
    """Sleep until `moment` (at most the visibility timeout), stopping as soon as the worker must."""
    end = time.monotonic() + min(max((moment - timezone.now()).total_seconds(), 0), _visibility() + 1)
    while time.monotonic() < end:
        items_check(lease, stop_requested)
        time.sleep(min(0.5, max(end - time.monotonic(), 0)))


def redrive_apply(change: ChangeRequest, *, lease, stop_requested, approver) -> None:
    """Redrive the change's pending messages (see the module's text)."""
    info: dict[str, Any] = (change.wizard or {}).get("redrive") or {}
    pending = {(item.spec or {}).get("MessageId"): item
               for item in change.items.filter(state=ItemState.PENDING).order_by("pk")}
    if not pending:
        return
    sqs = aws.client(change.environment, "sqs")
    url = info.get("queue_url", "")
    held: list[str] = []  # receipts of messages that are not the change's, released at the end
    rounds = 0
    try:
        waited = False
        while True:
            rounds += _receive_rounds(change, pending, held, sqs=sqs, url=url, info=info, lease=lease,
                                      stop_requested=stop_requested, approver=approver)
            hidden = _hidden_until(pending.values())
            if not pending or waited or hidden is None or hidden <= timezone.now() - timedelta(seconds=1):
                break
            # A predecessor received these and was lost with them in hand: they come back once no longer hidden.
            _wait_until(hidden + timedelta(seconds=1), lease=lease, stop_requested=stop_requested)
            waited = True
        for item in pending.values():
            _finish(change, item, ItemState.SKIPPED,
                    f"Not found in the queue after {rounds} receive{'s' if rounds != 1 else ''}: it was deleted or "
                    "expired since (a worker lost while redriving it may have delivered and deleted it), moved on "
                    "by the queue's own redrive policy, or is in flight with another reader.",
                    calls=[], approver=approver, info=info)
    finally:
        for receipt in held:
            if receipt:
                _release(sqs, url, receipt)


def _receive_rounds(change, pending: dict, held: list, *, sqs, url: str, info: dict, lease, stop_requested,
                    approver) -> int:
    """Receive and redrive until every pending item is done or the queue stops bringing them; the rounds made."""
    rounds = empty = 0
    while pending and rounds < RECEIVE_ROUNDS and empty < EMPTY_ROUNDS:
        items_check(lease, stop_requested)
        try:
            batch = peeking.receive(sqs, url, visibility_timeout=_visibility())
        except (BotoCoreError, ClientError) as exc:
            problem = aws.describe_error(exc)
            for item in list(pending.values()):
                _finish(change, item, ItemState.FAILED, f"The queue could not be read: {problem}",
                        calls=[], approver=approver, info=info)
            pending.clear()
            return rounds + 1
        rounds += 1
        if not batch:
            break
        mine = [m for m in batch if m.get("MessageId") in pending]
        held += [m.get("ReceiptHandle", "") for m in batch if m.get("MessageId") not in pending]
        empty = 0 if mine else empty + 1
        if mine:
            received = {"operation": "sqs:ReceiveMessage", "ok": True, "error": "",
                        "hidden_until": (timezone.now() + timedelta(seconds=_visibility())).isoformat()}
            ChangeItem.objects.filter(pk__in=[pending[m["MessageId"]].pk for m in mine],
                                      state=ItemState.PENDING).update(calls=[received])
        for number, message in enumerate(mine):
            try:
                items_check(lease, stop_requested)
            except Exception:
                held += [m.get("ReceiptHandle", "") for m in mine[number:]]
                raise
            item = pending.pop(message["MessageId"])
            _redrive_one(change, item, message, sqs=sqs, info=info, approver=approver)
    return rounds


def redrives_open(queue: DeadLetterQueue):
    """The queue's redrive changes that are not finished yet."""
    from changes.choices import OPEN_STATES

    return ChangeRequest.objects.filter(action=ChangeAction.REDRIVE, state__in=OPEN_STATES,
                                        wizard__redrive__queue=queue.pk).order_by("-id")

