"""Change request actions: drafts, submit, review, apply. Every action writes its audit event.

Nothing reaches AWS except `change_request_apply`, run by a Celery worker for an approved change.
The AWS calls run outside any database transaction; the claim (Approved → Applying) and the
result are each their own short transaction with a row lock.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError, ReadTimeoutError
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import REVIEW, SUBMIT, user_can
from audit.choices import AuditAction
from environments import aws
from kombu.exceptions import OperationalError

from . import approvals
from .calls import RETRYABLE_CODES, ApiCall, PartialFailure
from .choices import AttemptStatus, ChangeAction, ChangeState as S, OPEN_STATES, ReviewDecision
from .kinds import SpecInvalid, handler_for
from .models import ApplyAttempt, ChangeRequest, Comment, Review
from .states import IllegalTransition, LeaseLost, audit_change, transition

log = logging.getLogger(__name__)


class NotAllowed(PermissionError):
    """The user may not do this to this change (e.g. approve their own)."""


def _require(user, perm: str, environment, message: str) -> None:
    """Defence in depth: the views check too, but a service never acts for someone without the role there."""
    if user is not None and not user_can(user, perm, environment):
        raise NotAllowed(message.format(environment=getattr(environment, "name", environment)))


class RetryLater(Exception):
    """Apply hit a transient AWS error (throttling, unreachable endpoint); the task should retry."""


# ---------------------------------------------------------------------------------------------
# Drafts
# ---------------------------------------------------------------------------------------------
COMMENT_MAX = 4000  # characters in a comment (Comment.body)
REASON_MAX = 2000  # characters in an approve/reject reason


def check_text_limit(text: str, *, limit: int, what: str) -> None:
    """ValueError (shown to the person) for text over `limit` or text that cannot be stored."""
    from core.safejson import text_problem

    if len(text) > limit:
        raise ValueError(f"{what} can be at most {limit:,} characters (this one has {len(text):,}).")
    problem = text_problem(text, what)
    if problem:
        raise ValueError(problem)


def change_request_draft_create(*, kind: str, action: str, environment, author, spec: dict | None = None,
                                wizard: dict | None = None, target=None) -> ChangeRequest:
    """A new draft; for an existing rule or schedule it remembers the spec and version it starts from."""
    _require(author, SUBMIT, environment, "You may not start changes in {environment}.")
    fields: dict[str, Any] = {}
    if target is not None:
        fields = {kind: target, "base_spec": target.desired_spec, "base_version": target.version,
                  "object_name": target.object_name}
    with transaction.atomic():
        change = ChangeRequest.objects.create(kind=kind, action=action, environment=environment, author=author,
                                              spec=spec or {}, wizard=wizard or {}, **fields)
        audit_change(change, AuditAction.DRAFT_SAVED, actor=author, message="Draft started", after=change.spec)
    return change


def change_request_draft_save(change: ChangeRequest, *, actor, step: str, spec: dict, wizard: dict,
                              environment=None) -> ChangeRequest:
    """Save one step of the flow into the draft (what was typed, and the spec so far)."""
    if change.state != S.DRAFT:
        raise IllegalTransition(change, S.DRAFT)
    if change.author_id != actor.pk:
        raise NotAllowed("Only the author can edit a draft.")
    _require(actor, SUBMIT, environment or change.environment, "You may not edit changes in {environment}.")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.state != S.DRAFT:
            raise IllegalTransition(locked, S.DRAFT)
        before = locked.spec
        locked.spec, locked.wizard = spec, wizard
        if environment is not None:
            locked.environment = environment
        locked.object_name = handler_for(locked.kind).object_name(spec) or locked.object_name
        locked.save()
        audit_change(locked, AuditAction.DRAFT_SAVED, actor=actor, message=f"Step saved: {step}",
                     before=before, after=spec)
    return locked


# ---------------------------------------------------------------------------------------------
# Submit and review
# ---------------------------------------------------------------------------------------------
def _plan_for(change: ChangeRequest) -> tuple[list[ApiCall], str]:
    """The plan against what AWS has now; if AWS cannot be read, against the last polled state."""
    handler = handler_for(change.kind)
    desired = None if change.action == ChangeAction.DELETE else change.spec
    note = ""
    try:
        live = handler.read_live(change.environment, change)
    except (BotoCoreError, ClientError) as exc:
        target = change.target
        live = getattr(target, "live_spec", None)
        note = f"Planned against the last polled state: AWS could not be read ({aws.describe_error(exc)})"
    return handler.plan(desired, live, change=change), note


def change_request_submit(change: ChangeRequest, *, actor) -> ChangeRequest:
    if change.author_id != actor.pk:
        raise NotAllowed("Only the author can submit a draft.")
    _require(actor, SUBMIT, change.environment, "You may not submit changes in {environment}.")
    if change.state != S.DRAFT:
        raise IllegalTransition(change, S.SUBMITTED)
    handler = handler_for(change.kind)
    if change.action != ChangeAction.DELETE:
        errors = handler.validate(change.spec, environment=change.environment)
        if errors:
            raise SpecInvalid(errors)
    with transaction.atomic():
        handler.ensure_object(change)  # raises ObjectConflict when the name is taken
        change.save(update_fields=["rule", "schedule", "object_name", "last_updated"])
    calls, note = _plan_for(change)
    rows = approvals.requirements(change, reviews=[])
    reaches = "; ".join(approvals.explain(row) for row in rows if row.reason)
    transition(change, S.SUBMITTED, actor=actor, plan=[c.as_dict() for c in calls],
               message="; ".join(m for m in (note, reaches) if m))
    if not approvals.needs_review(rows):
        transition(change, S.APPROVED, on_behalf_of=actor,
                   message=f"{change.environment.name} needs no approval: applying at once")
        _enqueue_apply(change)
    else:
        _notify_reviewers(change, rows)
    return change


def _reviewers_for(change: ChangeRequest, rows=None):
    """Reviewers (by role group, or granted the role in an environment that must approve), never the author."""
    from django.contrib.auth import get_user_model

    from accounts.roles import ROLE_PERMISSIONS

    permission = Permission.objects.get(content_type__app_label="changes", codename="review_changerequest")
    environments = [row.environment.pk for row in rows or [] if row.needed > 0] or [change.environment_id]
    granted = [role for role, perms in ROLE_PERMISSIONS.items() if REVIEW in perms]
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__permissions=permission) | Q(user_permissions=permission) | Q(is_superuser=True)
                    | Q(role_grants__environment__in=environments, role_grants__role__in=granted)
                    | Q(groups__role_grants__environment__in=environments, groups__role_grants__role__in=granted))
            .exclude(pk=change.author_id).exclude(email="").distinct())


def _notify_reviewers(change: ChangeRequest, rows=None) -> None:
    url = reverse("changes:change_detail", args=[change.pk])
    messages = [(f"[EventConsole] Review requested: {change}",
                 f"{change.author.get_username()} submitted {change} in {change.environment.name}.\n"
                 f"Review it at {url}\n", None, [user.email]) for user in _reviewers_for(change, rows)]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def _notify_author(change: ChangeRequest, decision: str) -> None:
    if change.author.email:
        subject = f"[EventConsole] {change} was {decision}"
        url = reverse("changes:change_detail", args=[change.pk])
        messages = [(subject, f"{subject}.\n{url}\n", None, [change.author.email])]
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def change_request_approve(change: ChangeRequest, *, reviewer, reason: str = "") -> ChangeRequest:
    """Record one approval; when enough reviewers approved, the change is approved and applied.

    The author can never approve; one person's approval counts once; two reviewers approving at
    the same moment apply once (the row lock serialises them, and only one sees the count reached).
    Every environment the change must satisfy (its own, and those its targets reach: see
    changes.approvals) counts the approvals of its own reviewers.
    """
    check_text_limit(reason, limit=REASON_MAX, what="A reason")
    if not reviewer.has_perm(REVIEW):
        raise NotAllowed("Only reviewers can approve changes.")
    if reviewer.pk == change.author_id:
        raise NotAllowed("You cannot approve your own change.")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update(of=("self",)).select_related("environment").get(pk=change.pk)
        if locked.state != S.SUBMITTED:
            raise IllegalTransition(locked, S.APPROVED)
        rows = approvals.requirements(locked)
        if not approvals.may_approve(reviewer, rows):
            names = ", ".join(row.environment.name for row in rows if row.needed > 0) or locked.environment.name
            raise NotAllowed(f"Only a reviewer in {names} can approve this change.")
        try:
            with transaction.atomic():
                Review.objects.create(change=locked, reviewer=reviewer, decision=ReviewDecision.APPROVE, reason=reason)
        except IntegrityError:
            raise NotAllowed("You have already reviewed this change; an approval counts once.") from None
        rows = approvals.requirements(locked)
        summary = approvals.summary(rows)
        if approvals.all_met(rows):
            transition(locked, S.APPROVED, actor=reviewer, message=reason or f"Approved ({summary})")
            _enqueue_apply(locked)
            _notify_author(locked, "approved")
        else:
            audit_change(locked, AuditAction.APPROVED, actor=reviewer,
                         message=f"Approval recorded ({summary})" + (f": {reason}" if reason else ""))
    change.refresh_from_db()
    return change


def change_request_reject(change: ChangeRequest, *, reviewer, reason: str) -> ChangeRequest:
    check_text_limit(reason, limit=REASON_MAX, what="A reason")
    if not reviewer.has_perm(REVIEW):
        raise NotAllowed("Only reviewers can reject changes.")
    if not approvals.may_reject(reviewer, approvals.requirements(change, reviews=[])):
        raise NotAllowed(f"Only a reviewer in {change.environment.name} (or an environment it reaches) can reject it.")
    if reviewer.pk == change.author_id:
        raise NotAllowed("You cannot review your own change; withdraw it instead.")
    if not reason.strip():
        raise ValueError("Say why the change is rejected.")
    with transaction.atomic():
        # Refused before anything changes (a stale tab: this reviewer approved it already).
        if change.reviews.filter(reviewer=reviewer).exists():
            raise NotAllowed("You have already reviewed this change (you approved it); a reviewer decides once.")
        transition(change, S.REJECTED, actor=reviewer, message=reason)
        try:
            with transaction.atomic():
                Review.objects.create(change=change, reviewer=reviewer, decision=ReviewDecision.REJECT, reason=reason)
        except IntegrityError:
            raise NotAllowed("You have already reviewed this change; a reviewer decides once.") from None
        handler_for(change.kind).discard_unapplied(change)
        _notify_author(change, "rejected")
    return change


def change_request_withdraw(change: ChangeRequest, *, actor) -> ChangeRequest:
    if actor.pk != change.author_id:
        raise NotAllowed("Only the author can withdraw a change.")
    _require(actor, SUBMIT, change.environment, "You may no longer change anything in {environment}.")
    with transaction.atomic():
        transition(change, S.WITHDRAWN, actor=actor)
        handler_for(change.kind).discard_unapplied(change)
    return change


def change_request_retry(change: ChangeRequest, *, actor) -> ChangeRequest:
    """Failed → Approved, and apply again (the same change, the same spec)."""
    if not ((actor.pk == change.author_id and user_can(actor, SUBMIT, change.environment))
            or user_can(actor, REVIEW, change.environment)):
        raise NotAllowed(f"Only the author or a reviewer in {change.environment.name} can retry a failed change.")
    transition(change, S.APPROVED, actor=actor, expect=(S.FAILED,), message="Retry")
    _enqueue_apply(change)
    return change


def change_request_back_to_draft(change: ChangeRequest, *, actor) -> ChangeRequest:
    """A failed or stale change becomes a new draft with the same inputs; the old one is withdrawn."""
    if actor.pk != change.author_id:
        raise NotAllowed("Only the author can take a change back to a draft.")
    _require(actor, SUBMIT, change.environment, "You may not start changes in {environment}.")
    with transaction.atomic():
        if change.state != S.STALE:
            transition(change, S.WITHDRAWN, actor=actor, message="Taken back to a draft")
        target = change.target
        draft = change_request_draft_create(kind=change.kind, action=change.action, environment=change.environment,
                                            author=actor, spec=change.spec, wizard=change.wizard,
                                            target=target if target is not None and target.version else None)
        draft.rebased_from = change
        draft.object_name = change.object_name
        draft.save(update_fields=["rebased_from", "object_name"])
    return draft


def change_request_restore(change: ChangeRequest, *, actor) -> ChangeRequest:
    """A new draft that puts back the spec an applied change sent to AWS ("Restore this version")."""
    if change.state != S.APPLIED or change.action == ChangeAction.DELETE:
        raise NotAllowed("Only a version that was applied (and was not a deletion) can be restored.")
    _require(actor, SUBMIT, change.environment, "You may not start changes in {environment}.")
    handler = handler_for(change.kind)
    target = change.target
    draft = change_request_draft_create(
        kind=change.kind, action=ChangeAction.RESTORE, environment=change.environment, author=actor,
        spec=change.spec, target=target, wizard=handler.wizard_from_spec(change.spec, environment=change.environment))
    draft.object_name = change.object_name
    draft.save(update_fields=["object_name"])
    return draft


def change_request_comment(change: ChangeRequest, *, author, body: str) -> Comment:
    if not (user_can(author, SUBMIT, change.environment) or user_can(author, REVIEW, change.environment)
            or approvals.may_reject(author, approvals.requirements(change, reviews=[]))):
        raise NotAllowed(f"Only operators and reviewers of {change.environment.name} can comment here.")
    body = body.strip()
    if not body:
        raise ValueError("A comment cannot be empty.")
    check_text_limit(body, limit=COMMENT_MAX, what="A comment")
    with transaction.atomic():
        comment = Comment.objects.create(change=change, author=author, body=body)
        audit_change(change, AuditAction.COMMENTED, actor=author, message=body[:500])
    return comment


def changes_mark_stale(*, kind: str, target, except_change=None, reason: str) -> int:
    """Open changes based on an older version of `target` can no longer be applied as they are.

    A change that has started applying (Applying, or Approved again after a lost worker or a
    throttled attempt) is left alone: the drift may be its own half-done work, which its next
    attempt finishes; if another change was applied meanwhile, its claim finds the version moved
    on and makes it Stale then."""
    stale = (ChangeRequest.objects.filter(**{kind: target}, state__in=OPEN_STATES).exclude(state=S.APPLYING)
             .exclude(state=S.APPROVED, attempts__gt=0))
    if except_change is not None:
        stale = stale.exclude(pk=except_change.pk)
    count = 0
    for change in stale:
        try:
            transition(change, S.STALE, message=reason)
            count += 1
        except IllegalTransition:
            continue
    return count


# ---------------------------------------------------------------------------------------------
# Apply (Celery worker)
#
# Exactly once, whatever happens to workers and broker:
# - the database says what is due: an Approved change is sent to the workers (`_dispatch`) when it is
#   approved, and again by the recovery sweep while no worker has taken it; a send that fails (broker
#   down) leaves it Approved, "waiting for a worker";
# - a worker claims it (Approved → Applying) under the row lock of the rule/schedule, with a lease it
#   renews from a small thread while it works; a change planned on an older version of the object
#   becomes Stale there instead of overwriting it; only one change per object is Applying;
# - a worker that dies stops renewing: once the lease expires, the sweep (or a redelivered task) hands
#   the change back to Approved and sends it again; the next worker re-plans against live AWS, so a
#   half-applied change is finished with only the calls still needed.
# ---------------------------------------------------------------------------------------------
def _approver(change: ChangeRequest):
    review = change.reviews.filter(decision=ReviewDecision.APPROVE).select_related("reviewer").last()
    return review.reviewer if review else change.author


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in RETRYABLE_CODES
    return isinstance(exc, (BotoConnectionError, ReadTimeoutError))


def _trim(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _lease_seconds() -> int:
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


def _dispatch(change_id: int) -> bool:
    """Send the apply task now. The broker being down is not an error: the change stays Approved,
    shows "waiting for a worker", and the recovery sweep sends it again."""
    from .tasks import change_request_apply as change_request_apply_task

    try:
        change_request_apply_task.apply_async(args=[change_id])
    except (OperationalError, OSError) as exc:
        log.warning("Change #%s could not be sent to the workers (%s); the recovery sweep will send it again",
                    change_id, exc)
        return False
    ChangeRequest.objects.filter(pk=change_id).update(dispatched_at=timezone.now(),
                                                      dispatch_count=F("dispatch_count") + 1)
    return True


def _enqueue_apply(change: ChangeRequest) -> None:
    """Send the apply task once the transaction that approved the change commits."""
    change_id = change.pk
    transaction.on_commit(lambda: _dispatch(change_id))


def _owner(task_id: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{task_id or 'inline'}"[:200]


class _Lease:
    """Keeps an Applying change's lease alive from a small thread while the worker works, including
    while one AWS call is slow (botocore's retries can take minutes). If renewal finds the lease
    taken, `lost` is set and the apply stops before its next call and records nothing."""

    def __init__(self, change_id: int, owner: str):
        self.change_id, self.owner = change_id, owner
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{change_id}", daemon=True)

    def __enter__(self) -> "_Lease":
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
        seconds = _lease_seconds()
        return bool(ChangeRequest.objects.filter(pk=self.change_id, state=S.APPLYING, lease_owner=self.owner)
                    .update(lease_expires=timezone.now() + timedelta(seconds=seconds)))

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(_lease_seconds() / 3):
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


class WorkerStopping(Exception):
    """This worker process was told to stop in the middle of an apply."""


class ObjectBusy(Exception):
    """Another change to the same rule or schedule is being applied right now."""


def _locked_target(change: ChangeRequest):
    """The change's rule or schedule, re-read under its row lock (None if it is gone)."""
    target_id = change.rule_id if change.kind == "rule" else change.schedule_id
    if target_id is None:
        return None
    model = ChangeRequest._meta.get_field(change.kind).related_model
    return model.objects.select_for_update().filter(pk=target_id).first()


def _hand_back(change: ChangeRequest, *, message: str, actor=None, code: str = "WorkerLost",
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
        transition(locked, S.APPROVED, actor=actor, on_behalf_of=None if actor else _approver(locked),
                   audit_action=AuditAction.APPLY_FAILED, message=message, audit_data=data)
        if holder is None:
            _enqueue_apply(locked)
    change.refresh_from_db()
    return True


def _lost_message(change: ChangeRequest) -> str:
    owner = change.lease_owner or "a worker"
    return (f"The worker applying this change ({owner}) was lost: its lease expired. The change will be "
            "re-planned against live AWS and applied again (only the calls still needed).")


def _claim(change_id: int, *, owner: str) -> ChangeRequest | None:
    """Approved → Applying with a lease, or None when there is nothing to do (or it became Stale).

    Locks the rule/schedule first (the order every apply path uses), then the change. Raises
    ObjectBusy while another change to the same object is being applied."""
    change = ChangeRequest.objects.filter(pk=change_id).first()
    if change is None:
        return None
    if lease_expired(change):  # a redelivered task finds its lost predecessor's change: take it over
        _hand_back(change, message=_lost_message(change))
    if change.state != S.APPROVED:
        return None
    with transaction.atomic():
        target = _locked_target(change)
        change = ChangeRequest.objects.select_for_update(of=("self",)).select_related("environment", "author").get(pk=change_id)
        if change.state != S.APPROVED:
            return None  # another worker claimed it first
        if target is not None:
            busy = target.changes.filter(state=S.APPLYING).exclude(pk=change.pk).first()
            if busy is not None:
                raise ObjectBusy(f"{busy} is being applied to {change.object_name}; #{change.pk} waits for it")
        expected = change.base_version or 0
        current = getattr(target, "version", None)
        if (target is None and change.action != ChangeAction.CREATE) or (target is not None and current != expected):
            now_at = "it no longer exists" if target is None else f"it is now at version {current}"
            transition(change, S.STALE, on_behalf_of=_approver(change),
                       message=f"Not applied: planned on version {expected} of {change.object_name}, but {now_at}. "
                               "Take it back to a draft to rebase it.")
            return None
        transition(change, S.APPLYING, expect=(S.APPROVED,), on_behalf_of=_approver(change),
                   attempts=change.attempts + 1, message=f"Attempt {change.attempts + 1} by {owner}",
                   lease_owner=owner, lease_expires=timezone.now() + timedelta(seconds=_lease_seconds()))
    return change


def _send_waiting(change: ChangeRequest) -> None:
    """An apply to an object ended: the changes to it that waited (ObjectBusy) are sent now."""
    target_id = change.rule_id if change.kind == "rule" else change.schedule_id
    if target_id is None:
        return
    for waiting in ChangeRequest.objects.filter(**{f"{change.kind}_id": target_id}, state=S.APPROVED).exclude(
            pk=change.pk).values_list("pk", flat=True):
        transaction.on_commit(lambda pk=waiting: _dispatch(pk))


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
    approver = _approver(change)
    attempt = ApplyAttempt.objects.create(change=change, number=change.attempts, task_id=task_id or "")
    handler = handler_for(change.kind)
    environment = change.environment
    started = time.monotonic()
    log_calls: list[dict] = []

    def finish_attempt(status: str, **fields) -> None:
        ApplyAttempt.objects.filter(pk=attempt.pk).update(
            status=status, finished=timezone.now(), duration_ms=int((time.monotonic() - started) * 1000),
            calls=log_calls, **fields)

    with _Lease(change.pk, owner) as lease:
        try:
            live = handler.read_live(environment, change)
            desired = None if change.action == ChangeAction.DELETE else change.spec
            for call in handler.plan(desired, live, change=change):
                if lease.lost.is_set():
                    raise LeaseLost(change, S.APPLIED, owner)
                if stop_requested.is_set():
                    raise WorkerStopping()
                entry = {**call.as_dict(), "started": timezone.now().isoformat()}
                try:
                    response = call.execute(aws.client(environment, call.service))
                    handler.check_response(call, response)
                except Exception as exc:
                    entry.update(ok=False,
                                 error=aws.describe_error(exc) if not isinstance(exc, PartialFailure) else str(exc))
                    log_calls.append(entry)
                    audit_change(change, AuditAction.API_CALL, on_behalf_of=approver,
                                 message=f"{call.operation} failed", data=entry)
                    raise
                entry.update(ok=True, response=_trim(response))
                log_calls.append(entry)
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
            _hand_back(change, message=message, code="WorkerStopped", holder=owner)
            return ChangeRequest.objects.filter(pk=change_id).first()
        except (BotoCoreError, ClientError, PartialFailure) as exc:
            retry = _is_retryable(exc) and not final_attempt
            message = aws.describe_error(exc) if not isinstance(exc, PartialFailure) else str(exc)
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
            try:
                with transaction.atomic():
                    if retry:
                        # Back to Approved while the task waits to retry; "sent" now, so the sweep leaves it be.
                        transition(change, S.APPROVED, holder=owner, on_behalf_of=approver,
                                   message=f"Will retry: {message}", dispatched_at=timezone.now())
                    else:
                        _locked_target(change)
                        transition(change, S.FAILED, holder=owner, on_behalf_of=approver, message=message,
                                   last_error=message)
                        handler.on_failed(change)
                        _send_waiting(change)
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
                target = _locked_target(change)
                transition(change, S.APPLIED, holder=owner, on_behalf_of=approver, last_error="",
                           message=f"{len(log_calls)} API call{'s' if len(log_calls) != 1 else ''}" if log_calls
                           else "Already in sync: no API call needed")
                finish_attempt(AttemptStatus.SUCCEEDED)
                if target is not None:
                    setattr(change, change.kind, target)  # the locked, current row: its version is the truth
                    changes_mark_stale(kind=change.kind, target=target, except_change=change,
                                       reason=f"{change} was applied after this change was started")
                    handler.on_applied(change, live_after)
                    if change.action != ChangeAction.DELETE:
                        # Versions only grow: one more, counted by the database under the row lock.
                        type(target).objects.filter(pk=target.pk).update(version=F("version") + 1)
                        target.refresh_from_db(fields=["version"])
                    _send_waiting(change)
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
        recovered += _hand_back(change, message=_lost_message(change))
    cutoff = now - timedelta(seconds=settings.APPLY_REDISPATCH_SECONDS)
    waiting = (ChangeRequest.objects.filter(state=S.APPROVED)
               .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=cutoff)).values_list("pk", flat=True))
    for change_id in waiting:
        sent += _dispatch(change_id)
    if recovered or sent:
        log.info("Recovery sweep: %s change(s) of lost workers handed back, %s change(s) sent again", recovered, sent)
    return {"recovered": recovered, "sent": sent}


# ---------------------------------------------------------------------------------------------
# Resolving a stuck change by hand (reviewers and admins)
# ---------------------------------------------------------------------------------------------
def _check_resolver(actor, change: ChangeRequest) -> None:
    if not user_can(actor, REVIEW, change.environment):
        raise NotAllowed(f"Only reviewers and admins in {change.environment.name} can resolve a stuck change.")
    if not is_stuck(change):
        if change.state == S.APPLYING:
            raise NotAllowed(f"A worker is applying this change now (its lease runs until "
                             f"{change.lease_expires:%H:%M:%S} UTC); it is not stuck.")
        if change.state == S.APPROVED:
            raise NotAllowed("This change was sent to the workers moments ago; it is not stuck yet.")
        raise IllegalTransition(change, S.APPROVED)


def change_request_retry_now(change: ChangeRequest, *, actor) -> ChangeRequest:
    """A stuck change is sent to the workers again; a lost worker's change is handed back first."""
    change.refresh_from_db()
    _check_resolver(actor, change)
    if change.state == S.APPLYING:
        _hand_back(change, actor=actor, message=f"Retry now, by {actor.get_username()}: " + _lost_message(change))
        return change
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.state != S.APPROVED:
            raise IllegalTransition(locked, S.APPROVED)
        audit_change(locked, AuditAction.APPROVED, actor=actor,
                     message="Retry now: sent to the workers again (no worker had taken it)")
        _enqueue_apply(locked)
    change.refresh_from_db()
    return change


def change_request_mark_failed(change: ChangeRequest, *, actor, reason: str) -> ChangeRequest:
    """A stuck change ends as Failed, with the reviewer's reason; its author can then retry, withdraw
    or take it back to a draft. What reached AWS stays (the object shows as apply failed until polled)."""
    if not reason.strip():
        raise ValueError("Say why the change is marked failed.")
    check_text_limit(reason, limit=REASON_MAX, what="A reason")
    change.refresh_from_db()
    _check_resolver(actor, change)
    message = f"Marked failed by {actor.get_username()}: {reason.strip()}"
    with transaction.atomic():
        _locked_target(change)
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if not is_stuck(locked):
            raise IllegalTransition(locked, S.FAILED)
        ApplyAttempt.objects.filter(change=locked, status=AttemptStatus.RUNNING).update(
            status=AttemptStatus.FAILED, finished=timezone.now(), error_code="MarkedFailed", error_message=message)
        transition(locked, S.FAILED, actor=actor, message=message, last_error=message)
        handler_for(locked.kind).on_failed(locked)
        _send_waiting(locked)
    change.refresh_from_db()
    return change
