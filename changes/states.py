"""The change request state machine: one table of legal transitions and one function that makes them.

    Draft → Submitted → Approved → Applying → Applied | Failed
    Submitted → Rejected;  Draft/Submitted → Withdrawn;  Failed → Approved (retry) | Withdrawn
    Applying → Approved (handed back: retried after throttling, or its worker was lost)
    Approved → Failed (marked failed by a reviewer when no worker takes it)
    any open change → Stale (the object it was based on changed)

`transition()` runs in a transaction with a row lock; an illegal transition raises
IllegalTransition and changes nothing. Entering Applying takes the lease (the caller passes
lease_owner and lease_expires); leaving Applying always releases it.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record

from . import kinds
from .choices import OPEN_STATES, ChangeState as S
from .models import ChangeRequest

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN, S.STALE},
    S.SUBMITTED: {S.APPROVED, S.REJECTED, S.WITHDRAWN, S.STALE},
    S.APPROVED: {S.APPLYING, S.STALE, S.FAILED},  # Failed: marked by hand when no worker takes it
    S.APPLYING: {S.APPLIED, S.FAILED, S.APPROVED},  # back to Approved: retried after throttling, or worker lost
    S.FAILED: {S.APPROVED, S.WITHDRAWN, S.STALE},
    S.APPLIED: set(),
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.STALE: set(),
}

AUDIT_ACTIONS = {
    S.SUBMITTED: AuditAction.SUBMITTED, S.APPROVED: AuditAction.APPROVED, S.REJECTED: AuditAction.REJECTED,
    S.WITHDRAWN: AuditAction.WITHDRAWN, S.STALE: AuditAction.STALE, S.APPLYING: AuditAction.APPLY_STARTED,
    S.APPLIED: AuditAction.APPLIED, S.FAILED: AuditAction.APPLY_FAILED,
}


class IllegalTransition(Exception):
    def __init__(self, change: ChangeRequest, to: str):
        self.change, self.to = change, to
        super().__init__(f"Change #{change.pk} is {S(change.state).label.lower()}; it cannot become "
                         f"{S(to).label.lower()}.")


def can_transition(state: str, to: str) -> bool:
    return to in TRANSITIONS.get(state, set())


def audit_change(change: ChangeRequest, action: str, *, actor=None, on_behalf_of=None, message: str = "",
                 before=None, after=None, data=None):
    """An audit event about `change`, filed under the object it is about."""
    target = change.target
    return audit_record(
        action=action, object_type=change.kind, object_id=getattr(target, "pk", "") or "",
        object_repr=change.object_name, related_type=ObjectType.CHANGE, related_id=change.pk,
        environment=change.environment, actor=actor, on_behalf_of=on_behalf_of, message=message,
        before=before, after=after, data=data)


class LeaseLost(IllegalTransition):
    """The worker's lease on an Applying change is gone: another worker (or a person) took it over."""

    def __init__(self, change: ChangeRequest, to: str, owner: str):
        self.change, self.to, self.owner = change, to, owner
        Exception.__init__(self, f"Change #{change.pk} is no longer applied by {owner} "
                                 f"(now {S(change.state).label.lower()}, lease held by {change.lease_owner or 'nobody'}).")


LEASE_FIELDS = ("lease_owner", "lease_expires")


def transition(change: ChangeRequest, to: str, *, actor=None, on_behalf_of=None, message: str = "",
               expect: tuple[str, ...] | None = None, holder: str | None = None, audit_action: str | None = None,
               audit_data=None, **fields) -> ChangeRequest:
    """Move `change` to state `to` under a row lock; write the audit event in the same transaction.

    `expect` narrows the legal starting states further (e.g. apply claims only Approved changes).
    `holder`, for a change leaving Applying, asserts that this worker still holds its lease
    (else LeaseLost, and nothing changes). `audit_action` names the event when the state's own
    one would mislead (a lost worker's change going back to Approved).
    Extra keyword arguments are saved on the change in the same update.
    """
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if holder is not None and (locked.state != S.APPLYING or locked.lease_owner != holder):
            raise LeaseLost(locked, to, holder)
        if not can_transition(locked.state, to) or (expect is not None and locked.state not in expect):
            raise IllegalTransition(locked, to)
        now = timezone.now()
        if locked.state == S.APPLYING and to != S.APPLYING:
            locked.lease_owner, locked.lease_expires = "", None
        if to == S.APPROVED:
            locked.dispatched_at = None  # to be sent (again) to the workers; set when the send succeeds
        locked.state = to
        if to == S.SUBMITTED:
            locked.submitted_at = now
        elif to in (S.APPROVED, S.REJECTED) and locked.decided_at is None:
            locked.decided_at = now
        elif to == S.APPLIED:
            locked.applied_at = now
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
        action = audit_action or AUDIT_ACTIONS.get(to)
        if action:
            audit_change(locked, action, actor=actor, on_behalf_of=on_behalf_of, message=message, data=audit_data)
    # Keep the caller's instance current.
    for name in ("state", "submitted_at", "decided_at", "applied_at", "dispatched_at", *LEASE_FIELDS, *fields):
        setattr(change, name, getattr(locked, name))
    return change


def changes_mark_stale(*, kind: str, target, except_change=None, reason: str) -> int:
    """Open changes based on an older version of `target` can no longer be applied as they are.

    A change that has started applying (Applying, or Approved again after a lost worker or a
    throttled attempt) is left alone: the drift may be its own half-done work, which its next
    attempt finishes; if another change was applied meanwhile, its claim finds the version moved
    on and makes it Stale then."""
    field = kinds.get(kind).change_field
    stale = (ChangeRequest.objects.filter(**{field: target}, state__in=OPEN_STATES).exclude(state=S.APPLYING)
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
