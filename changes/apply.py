"""Apply (Celery worker): claim an approved change with a lease, plan it against live AWS, make the
calls, record everything; and the recovery sweep that hands back lost workers' changes.

Nothing reaches AWS except `change_request_apply`, run by a Celery worker for an approved change.
The AWS calls run outside any database transaction; the claim (Approved → Applying) and the
result are each their own short transaction with a row lock.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError, ReadTimeoutError
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.choices import AuditAction

from .batch import batch_apply
from .calls import RETRYABLE_CODES, PartialFailure
from .choices import ITEM_ACTIONS, AttemptStatus, ChangeAction, ChangeState as S
from .dispatch import send_apply
from .kinds import handler_for
from .models import ApplyAttempt, ChangeRequest
from .objects import locked_target, mark_failed, record_applied, set_target
from .states import LeaseLost, audit_change, changes_mark_stale, transition
from .worker import (Lease, approver_of, call_run, error_words, hand_back, lease_expired, lease_seconds, lost_message,
                     send_waiting, stop_requested)

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """Apply hit a transient AWS error (throttling, unreachable endpoint); the task should retry."""


# ---------------------------------------------------------------------------------------------
# Apply (Celery worker)
#
# Exactly once, whatever happens to workers and broker:
# - the database says what is due: an Approved change is sent to the workers (changes.dispatch) when it is
#   approved, and again by the recovery sweep while no worker has taken it; a send that fails (broker
#   down) leaves it Approved, "waiting for a worker";
# - a worker claims it (Approved → Applying) under the row lock of its object, with a lease it
#   renews from a small thread while it works; a change planned on an older version of the object
#   becomes Stale there instead of overwriting it; only one change per object is Applying;
# - a worker that dies stops renewing: once the lease expires, the sweep (or a redelivered task) hands
#   the change back to Approved and sends it again; the next worker re-plans against live AWS, so a
#   half-applied change is finished with only the calls still needed.
# ---------------------------------------------------------------------------------------------
def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in RETRYABLE_CODES
    return isinstance(exc, (BotoConnectionError, ReadTimeoutError))


def _owner(task_id: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{task_id or 'inline'}"[:200]


class WorkerStopping(Exception):
    """This worker process was told to stop in the middle of an apply."""


class ObjectBusy(Exception):
    """Another change to the same object is being applied right now."""


def _claim(change_id: int, *, owner: str) -> ChangeRequest | None:
    """Approved → Applying with a lease, or None when there is nothing to do (or it became Stale).

    Locks the object first (the order every apply path uses), then the change. Raises
    ObjectBusy while another change to the same object is being applied."""
    change = ChangeRequest.objects.filter(pk=change_id).first()
    if change is None:
        return None
    if lease_expired(change):  # a redelivered task finds its lost predecessor's change: take it over
        hand_back(change, message=lost_message(change))
    if change.state != S.APPROVED:
        return None
    with transaction.atomic():
        target = locked_target(change)
        change = ChangeRequest.objects.select_for_update(of=("self",)).select_related("environment", "author").get(pk=change_id)
        if change.state != S.APPROVED:
            return None  # another worker claimed it first
        if change.action in ITEM_ACTIONS:  # its objects are its items (changes.batch), each checked as applied
            transition(change, S.APPLYING, expect=(S.APPROVED,), on_behalf_of=approver_of(change),
                       attempts=change.attempts + 1, message=f"Attempt {change.attempts + 1} by {owner}",
                       lease_owner=owner, lease_expires=timezone.now() + timedelta(seconds=lease_seconds()))
            return change
        if target is not None:
            busy = target.changes.filter(state=S.APPLYING).exclude(pk=change.pk).first()
            if busy is not None:
                raise ObjectBusy(f"{busy} is being applied to {change.object_name}; #{change.pk} waits for it")
        expected = change.base_version or 0
        current = getattr(target, "version", None)
        if (target is None and change.action != ChangeAction.CREATE) or (target is not None and current != expected):
            now_at = "it no longer exists" if target is None else f"it is now at version {current}"
            transition(change, S.STALE, on_behalf_of=approver_of(change),
                       message=f"Not applied: planned on version {expected} of {change.object_name}, but {now_at}. "
                               "Take it back to a draft to rebase it.")
            return None
        transition(change, S.APPLYING, expect=(S.APPROVED,), on_behalf_of=approver_of(change),
                   attempts=change.attempts + 1, message=f"Attempt {change.attempts + 1} by {owner}",
                   lease_owner=owner, lease_expires=timezone.now() + timedelta(seconds=lease_seconds()))
    return change


def change_request_apply(change_id: int, *, task_id: str = "", final_attempt: bool = True) -> ChangeRequest | None:
    """Apply an approved change: claim it with a lease, plan against live, make the calls, record everything.

    Safe to run twice, and after a crash: only an Approved change is claimed (or an Applying one
    whose lease expired: its worker is lost); a second run finds it Applying or Applied and does
    nothing. The plan is computed from live AWS at apply time, so a run after a crash half-way
    makes only the calls still needed. Raises ObjectBusy while another change to the same object is
    being applied (the change stays Approved and is sent again when that apply ends).
    """
    owner = _owner(task_id)
    change = _claim(change_id, owner=owner)
    if change is None:
        return ChangeRequest.objects.filter(pk=change_id).first()
    if change.action in ITEM_ACTIONS:  # adopt, release, re-apply, accept, redrive: item by item
        return batch_apply(change, owner=owner)
    approver = approver_of(change)
    attempt = ApplyAttempt.objects.create(change=change, number=change.attempts, task_id=task_id or "")
    handler = handler_for(change.kind)
    environment = change.environment
    started = time.monotonic()
    log_calls: list[dict] = []

    def finish_attempt(status: str, **fields) -> None:
        ApplyAttempt.objects.filter(pk=attempt.pk).update(
            status=status, finished=timezone.now(), duration_ms=int((time.monotonic() - started) * 1000),
            calls=log_calls, **fields)

    with Lease(change.pk, owner) as lease:
        try:
            live = handler.read_live(environment, change)
            desired = None if change.action == ChangeAction.DELETE else change.spec
            for call in handler.plan(desired, live, change=change):
                if lease.lost.is_set():
                    raise LeaseLost(change, S.APPLIED, owner)
                if stop_requested.is_set():
                    raise WorkerStopping()
                try:
                    entry = call_run(call, handler=handler, change=change, environment=environment, lease=lease,
                                     calls_log=log_calls)
                except Exception:
                    audit_change(change, AuditAction.API_CALL, on_behalf_of=approver,
                                 message=f"{call.operation} failed", data=log_calls[-1])
                    raise
                audit_change(change, AuditAction.API_CALL, on_behalf_of=approver,
                             message=call.summary or call.operation, data=entry)
            live_after = handler.read_live(environment, change)
        except LeaseLost as exc:
            finish_attempt(AttemptStatus.FAILED, error_code="LeaseLost", error_message=str(exc))
            return ChangeRequest.objects.filter(pk=change_id).first()
        except WorkerStopping:
            message = (f"The worker applying this change ({owner}) was told to stop before it finished; it "
                       "handed the change back. The recovery sweep sends it to another worker, which re-plans it "
                       "against live AWS and applies it.")
            finish_attempt(AttemptStatus.FAILED, error_code="WorkerStopped", error_message=message)
            hand_back(change, message=message, code="WorkerStopped", holder=owner)
            return ChangeRequest.objects.filter(pk=change_id).first()
        except (BotoCoreError, ClientError, PartialFailure) as exc:
            retry = _is_retryable(exc) and not final_attempt
            message = error_words(exc)
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
            try:
                with transaction.atomic():
                    if retry:
                        # Back to Approved while the task waits to retry; "sent" now, so the sweep leaves it be.
                        transition(change, S.APPROVED, holder=owner, on_behalf_of=approver,
                                   message=f"Will retry: {message}", dispatched_at=timezone.now())
                    else:
                        locked_target(change)
                        transition(change, S.FAILED, holder=owner, on_behalf_of=approver, message=message,
                                   last_error=message)
                        mark_failed(change)
                        send_waiting(change)
                    finish_attempt(AttemptStatus.RETRYING if retry else AttemptStatus.FAILED,
                                   error_code=code[:128], error_message=message)
            except LeaseLost as lost:
                finish_attempt(AttemptStatus.FAILED, error_code="LeaseLost", error_message=str(lost))
                return ChangeRequest.objects.filter(pk=change_id).first()
            if retry:
                raise RetryLater(message) from exc
            return change
        try:
            with transaction.atomic():
                target = locked_target(change)
                transition(change, S.APPLIED, holder=owner, on_behalf_of=approver, last_error="",
                           message=f"{len(log_calls)} API call{'s' if len(log_calls) != 1 else ''}" if log_calls
                           else "Already in sync: no API call needed")
                finish_attempt(AttemptStatus.SUCCEEDED)
                if target is not None:
                    set_target(change, target)  # the locked, current row: its version is the truth
                    changes_mark_stale(kind=change.kind, target=target, except_change=change,
                                       reason=f"{change} was applied after this change was started")
                    record_applied(change, live_after)
                    if change.action != ChangeAction.DELETE:
                        # Versions only grow: one more, counted by the database under the row lock.
                        type(target).objects.filter(pk=target.pk).update(version=F("version") + 1)
                        target.refresh_from_db(fields=["version"])
                    send_waiting(change)
        except LeaseLost as lost:
            finish_attempt(AttemptStatus.FAILED, error_code="LeaseLost", error_message=str(lost))
            return ChangeRequest.objects.filter(pk=change_id).first()
    return change


def changes_recover(*, now=None) -> dict[str, int]:
    """The recovery sweep (beat, every APPLY_SWEEP_SECONDS): hand back the changes of lost workers,
    and send again the Approved changes no worker has taken (the broker may have lost the message)."""
    now = now or timezone.now()
    recovered = sent = 0
    lost = ChangeRequest.objects.filter(state=S.APPLYING).filter(
        Q(lease_expires__isnull=True) | Q(lease_expires__lte=now))
    for change in lost:
        recovered += hand_back(change, message=lost_message(change))
    cutoff = now - timedelta(seconds=settings.APPLY_REDISPATCH_SECONDS)
    waiting = (ChangeRequest.objects.filter(state=S.APPROVED)
               .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=cutoff)).values_list("pk", flat=True))
    for change_id in waiting:
        sent += send_apply(change_id)
    if recovered or sent:
        log.info("Recovery sweep: %s change(s) of lost workers handed back, %s change(s) sent again", recovered, sent)
    return {"recovered": recovered, "sent": sent}
