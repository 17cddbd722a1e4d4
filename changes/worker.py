"""What a worker holds while it applies a change, shared by the single apply (changes.apply) and
the batch apply (changes.batch): the lease it renews, the stop flag, handing a change back, and
making one planned AWS call with its log entry.

Lease and recovery, in short: a worker claims an Approved change (Approved → Applying) with a lease it
renews from a small thread while it works. A worker that dies stops renewing; once the lease expires
the recovery sweep (or a redelivered task) hands the change back to Approved and sends it again.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from botocore.exceptions import ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction
from environments import aws

from . import kinds
from .calls import PartialFailure
from .choices import AttemptStatus, ChangeState as S, ReviewDecision
from .dispatch import enqueue_apply, send_apply
from .models import ApplyAttempt, ChangeRequest
from .objects import target_id_of
from .states import transition

log = logging.getLogger(__name__)

__all__ = ["Lease", "approver_of", "call_run", "error_words", "hand_back", "is_stuck", "lease_expired",
           "lease_seconds", "lost_message", "send_waiting", "stop_requested", "waiting_for_worker"]


def approver_of(change: ChangeRequest):
    """Who the change is applied on behalf of: its last approver, or its author where none was needed."""
    review = change.reviews.filter(decision=ReviewDecision.APPROVE).select_related("reviewer").last()
    return review.reviewer if review else change.author


def _trim(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def lease_seconds() -> int:
    return max(1, int(settings.APPLY_LEASE_SECONDS))


def lease_expired(change: ChangeRequest, *, now=None) -> bool:
    """An Applying change whose worker stopped renewing its lease (a change from before leases has none)."""
    return change.state == S.APPLYING and (change.lease_expires is None or change.lease_expires <= (now or timezone.now()))


def waiting_for_worker(change: ChangeRequest, *, now=None) -> bool:
    """An Approved change that no worker has taken: never sent (broker down), or sent long ago."""
    if change.state != S.APPROVED:
        return False
    if change.dispatched_at is None:
        return True
    return (now or timezone.now()) - change.dispatched_at > timedelta(seconds=settings.APPLY_REDISPATCH_SECONDS)


def is_stuck(change: ChangeRequest, *, now=None) -> bool:
    """What a reviewer may resolve by hand: a lost worker's change, or one no worker takes."""
    return lease_expired(change, now=now) or waiting_for_worker(change, now=now)


class Lease:
    """Keeps an Applying change's lease alive from a small thread while the worker works, including
    while one AWS call is slow (botocore's retries can take minutes). If renewal finds the lease
    taken, `lost` is set and the apply stops before its next call and records nothing."""

    def __init__(self, change_id: int, owner: str):
        self.change_id, self.owner = change_id, owner
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{change_id}", daemon=True)

    def __enter__(self) -> "Lease":
        from django.db import connection

        # Inside an outer transaction (never so in a worker) the claim is not committed: no other
        # connection could see the lease, let alone renew it.
        if not connection.in_atomic_block:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()

    def renew(self) -> bool:
        seconds = lease_seconds()
        return bool(ChangeRequest.objects.filter(pk=self.change_id, state=S.APPLYING, lease_owner=self.owner)
                    .update(lease_expires=timezone.now() + timedelta(seconds=seconds)))

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(lease_seconds() / 3):
                try:
                    renewed = self.renew()
                except Exception:  # a database hiccup: try again next time; the lease's expiry is the judge
                    log.exception("Renewing the lease of change #%s failed", self.change_id)
                    connection.close()
                    continue
                if not renewed:
                    self.lost.set()
                    return
        finally:
            connection.close()


# Set in a worker's pool process when it is told to stop (SIGTERM, see changes.tasks) while it
# applies: the apply hands its change back before its next AWS call instead of dying half-way.
stop_requested = threading.Event()


def hand_back(change: ChangeRequest, *, message: str, actor=None, code: str = "WorkerLost",
               holder: str | None = None) -> bool:
    """Applying → Approved for a change whose worker is lost (lease expired), or whose worker
    (`holder`, still holding the lease) is stopping; then send it again (a stopping worker leaves
    that to the recovery sweep, so that it does not take the change back itself on its way out).

    The running attempt ends as failed; the next worker re-plans against live AWS."""
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if holder is not None:
            if locked.state != S.APPLYING or locked.lease_owner != holder:
                return False
        elif not lease_expired(locked):
            return False
        data = {"lease_owner": locked.lease_owner,
                "lease_expired_at": locked.lease_expires.isoformat() if locked.lease_expires else None}
        ApplyAttempt.objects.filter(change=locked, status=AttemptStatus.RUNNING).update(
            status=AttemptStatus.FAILED, finished=timezone.now(), error_code=code, error_message=message)
        transition(locked, S.APPROVED, actor=actor, on_behalf_of=None if actor else approver_of(locked),
                   audit_action=AuditAction.APPLY_FAILED, message=message, audit_data=data)
        if holder is None:
            enqueue_apply(locked)
    change.refresh_from_db()
    return True


def lost_message(change: ChangeRequest) -> str:
    owner = change.lease_owner or "a worker"
    return (f"The worker applying this change ({owner}) was lost: its lease expired. The change will be "
            "re-planned against live AWS and applied again (only the calls still needed).")


def send_waiting(change: ChangeRequest) -> None:
    """An apply to an object ended: the changes to it that waited (ObjectBusy) are sent now."""
    target_id = target_id_of(change)
    if target_id is None:
        return
    field = kinds.get(change.kind).change_field
    for waiting in ChangeRequest.objects.filter(**{f"{field}_id": target_id}, state=S.APPROVED).exclude(
            pk=change.pk).values_list("pk", flat=True):
        transaction.on_commit(lambda pk=waiting: send_apply(pk))


def _execute_waiting_for_iam(call, client, lease: Lease, entry: dict):
    """call.execute(client), tried again while the call says AWS has not yet seen a fresh IAM change
    (IAM is eventually consistent: a role created a moment ago may not be assumable yet). A call
    that knows such an answer has `propagation_delay(exc, attempt)`: the seconds to wait, or None to
    give up (its bound). The wait stops early when the lease is lost or the worker is told to stop."""
    delay_for = getattr(call, "propagation_delay", None)
    attempt = 0
    while True:
        try:
            return call.execute(client)
        except ClientError as exc:
            delay = delay_for(exc, attempt) if delay_for else None
            if delay is None:
                raise
            attempt += 1
            entry["iam_propagation_retries"] = attempt
            log.info("%s: %s; trying again in %s s (IAM propagation, attempt %s)", call.operation,
                     aws.describe_error(exc), delay, attempt)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                if lease.lost.is_set() or stop_requested.is_set():
                    raise
                time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))


def error_words(exc: BaseException) -> str:
    """An apply's error in words: a kind's PartialFailure says its own; AWS's errors are described."""
    return str(exc) if isinstance(exc, PartialFailure) else aws.describe_error(exc)


def call_run(call, *, handler, change, environment, lease: Lease, calls_log: list[dict]) -> dict:
    """Make one planned call: send it (waiting out IAM propagation), let the kind check the answer
    and remember what it made, and append its log entry to `calls_log` (the response, or the error in
    words) before returning the entry or re-raising the error."""
    entry = {**call.as_dict(), "started": timezone.now().isoformat()}
    try:
        response = _execute_waiting_for_iam(call, aws.client(environment, call.service), lease, entry)
        handler.check_response(call, response)
        record = getattr(handler, "record_call", None)  # optional: a kind that remembers what it made
        if record is not None:
            record(change, call, response)
    except Exception as exc:
        entry.update(ok=False, error=error_words(exc))
        calls_log.append(entry)
        raise
    entry.update(ok=True, response=_trim(response))
    calls_log.append(entry)
    return entry
