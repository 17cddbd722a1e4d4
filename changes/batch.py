"""Batch changes: adopt, release, re-apply desired, accept what AWS has, for one object or thousands.

A batch change is one ChangeRequest (its kind and environment set, no object foreign key) whose
objects are ChangeItem rows. It is created SUBMITTED through the normal submit path
(changes.services.change_request_submit): the environment's approval policy applies, and where no
approval is needed it is approved and sent to the workers at once.

Submission reads only the database (no AWS call): each item records what it proposes (adopt and
accept: the live spec as last read; re-apply: the desired spec) and its plan from the kind's pure
`plan(desired, live)` against the stored live snapshot.

Apply (`batch_apply`, called by changes.apply.change_request_apply once it has claimed the change
with a lease) goes item by item, pending ones only, so a lost worker's successor resumes where it
stopped. Adopt, release and accept make no AWS call and are recorded a chunk of items per short
transaction under the objects' row locks; re-apply reads each object from AWS and makes the calls
its kind plans (as a single change does), then records it in its own short transaction. One failed
item does not stop the others. The change ends Applied (Failed if every item failed), with one
BATCH_APPLIED audit event counting them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone

from accounts.permissions import SUBMIT, user_can
from audit.choices import AuditAction
from audit.services import audit_record

from . import kinds
from .calls import PartialFailure
from .choices import BATCH_ACTIONS, OPEN_STATES, AttemptStatus, ChangeAction, ChangeState as S, ItemState, SyncStatus
from .models import ApplyAttempt, ChangeItem, ChangeRequest
from .objects import record_applied
from .services import NotAllowed, change_request_submit
from .states import LeaseLost, audit_change, changes_mark_stale, transition
from .worker import Lease, approver_of, call_run, error_words, hand_back, stop_requested

log = logging.getLogger(__name__)

__all__ = ["batch_create", "batch_preview", "batch_apply", "batch_counts", "BatchPreview", "NothingEligible",
           "is_batch", "SKIP_REASONS", "register_item_applier", "ItemsStop", "items_check"]

CREATE_CHUNK = 1000  # ChangeItems per bulk_create
APPLY_CHUNK = 100  # items recorded per transaction (adopt, release, accept)
DRIFT_STATES = (SyncStatus.DRIFTED, SyncStatus.MISSING)

# Why an object is left out of a batch, in words for the confirmation page and the change's history.
SKIP_REASONS = {
    "managed": "already managed",
    "unmanaged": "not managed by EventConsole",
    "owner_service": "owned by an AWS service (read-only)",
    "stack": "owned by a CloudFormation stack (not confirmed)",
    "no_live": "not seen in AWS",
    "not_drifted": "neither drifted nor missing",
    "open_change": "another change to it is open",
}


class NothingEligible(ValueError):
    """None of the objects can take part in this batch (the message says why)."""


def is_batch(change) -> bool:
    return change.action in BATCH_ACTIONS


@dataclass
class BatchPreview:
    """What a batch would do: the objects it takes (their ids), those it leaves out and why, and the
    CloudFormation stacks owning objects it takes or would take with confirmation."""

    kind: str
    action: str
    eligible: list[int] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    stacks: list[str] = field(default_factory=list)  # stacks of eligible objects (or of those needing confirmation)
    needs_confirmation: int = 0  # stack-owned objects left out until the caller confirms

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def total(self) -> int:
        return len(self.eligible) + self.skipped_total

    def skipped_words(self) -> list[str]:
        """["1 rule: another change to it is open", "3 rules: neither drifted nor missing"]."""
        meta = kinds.get(self.kind).model_class._meta
        return [f"{count:,} {meta.verbose_name if count == 1 else meta.verbose_name_plural}: "
                f"{SKIP_REASONS.get(reason, reason)}" for reason, count in self.skipped.items() if count]


def _queryset(kind: kinds.Kind, objects):
    """`objects` (a queryset of the kind's objects, or a list of them or of their ids) as a queryset."""
    model = kind.model_class
    if hasattr(objects, "model") and hasattr(objects, "query"):
        if objects.model is not model:
            raise ValueError(f"A {kind.label.lower()} batch takes {model._meta.verbose_name_plural} only.")
        return objects.order_by().values_list("pk", flat=True), model
    ids = [getattr(obj, "pk", obj) for obj in objects]
    return ids, model


def _open_item(kind: kinds.Kind):
    """An item of another open batch change holds the object."""
    return Exists(ChangeItem.objects.filter(object_id=OuterRef("pk"), state=ItemState.PENDING,
                                            change__kind=kind.name, change__state__in=OPEN_STATES,
                                            change__action__in=BATCH_ACTIONS))  # items of other actions are not objects


def _open_change(kind: kinds.Kind):
    return Exists(ChangeRequest.objects.filter(**{kind.change_field: OuterRef("pk")}, state__in=OPEN_STATES))


def _reason(action: str, row: dict, *, confirmed_stacks: bool) -> str:
    """Why this object is left out of the batch ("" when it takes part)."""
    unmanaged = row["sync_status"] == SyncStatus.UNMANAGED
    if row["held"]:
        return "open_change"
    if action == ChangeAction.ADOPT:
        if not unmanaged:
            return "managed"
        if row["owner_service"]:
            return "owner_service"
        if not row["has_live"]:
            return "no_live"
        if row["stack_name"] and not confirmed_stacks:
            return "stack"
        return ""
    if unmanaged:
        return "unmanaged"
    if action in (ChangeAction.REAPPLY, ChangeAction.ACCEPT) and row["sync_status"] not in DRIFT_STATES:
        return "not_drifted"
    if action == ChangeAction.REAPPLY and not row["has_desired"]:
        return "not_drifted"
    return ""


ROW_FIELDS = ("pk", "sync_status", "owner_service", "stack_name", "held", "has_live", "has_desired")


def _rows(kind: kinds.Kind, environment, objects):
    """The objects' rows (dicts of ROW_FIELDS, no JSON read), in id order, a chunk at a time
    (constant memory); refuses objects of another environment."""
    ids, model = _queryset(kind, objects)
    base = model.objects.all()
    if isinstance(ids, list):
        querysets = [base.filter(pk__in=ids[i:i + CREATE_CHUNK]) for i in range(0, len(ids), CREATE_CHUNK)]
    else:
        querysets = [base.filter(pk__in=ids)]
    for queryset in querysets:
        if queryset.exclude(environment=environment).exists():
            raise ValueError(f"Some of these {model._meta.verbose_name_plural} are not in {environment.name}; "
                             "a batch covers one environment.")
    boolean = lambda q: ExpressionWrapper(q, output_field=BooleanField())  # noqa: E731
    for queryset in querysets:
        annotated = queryset.annotate(
            held=boolean(Q(_open_change(kind)) | Q(_open_item(kind))),
            has_live=boolean(Q(live_spec__isnull=False)), has_desired=boolean(Q(desired_spec__isnull=False)),
        ).order_by("pk")
        last = 0
        while True:
            page = list(annotated.filter(pk__gt=last).values(*ROW_FIELDS)[:CREATE_CHUNK])
            if not page:
                break
            yield from page
            last = page[-1]["pk"]


def batch_preview(*, kind: str, action: str, environment, objects, confirmed_stacks: bool = False) -> BatchPreview:
    """What `batch_create` would take and leave out (database only; for the confirmation page)."""
    if action not in BATCH_ACTIONS:
        raise ValueError(f"{action!r} is not a batch action.")
    registered = kinds.get(kind)
    preview = BatchPreview(kind=kind, action=action)
    stacks: set[str] = set()
    for row in _rows(registered, environment, objects):
        reason = _reason(action, row, confirmed_stacks=confirmed_stacks)
        if reason == "stack":
            preview.needs_confirmation += 1
        if reason in ("", "stack") and row["stack_name"]:
            stacks.add(row["stack_name"])
        if reason:
            preview.skipped[reason] = preview.skipped.get(reason, 0) + 1
        else:
            preview.eligible.append(row["pk"])
    preview.stacks = sorted(stacks)
    return preview


def _fake_change(change: ChangeRequest, obj, *, action: str = ChangeAction.UPDATE, spec=None) -> ChangeRequest:
    """An unsaved single change about `obj` (the kind's handler plans and applies through one)."""
    kind = kinds.get(change.kind)
    fake = ChangeRequest(pk=change.pk, kind=change.kind, action=action, environment=change.environment,
                         author_id=change.author_id, spec=spec if spec is not None else (obj.desired_spec or {}),
                         object_name=obj.object_name, base_version=obj.version)
    setattr(fake, kind.change_field, obj)
    return fake


def _item_for(change: ChangeRequest, handler, obj) -> ChangeItem:
    action = change.action
    plan: list[dict] = []
    if action == ChangeAction.ADOPT:
        spec = handler.canonical(obj.live_spec)
    elif action == ChangeAction.ACCEPT:
        spec = handler.canonical(obj.live_spec) if obj.sync_status != SyncStatus.MISSING else None
    elif action == ChangeAction.REAPPLY:
        spec = obj.desired_spec
        fake = _fake_change(change, obj)
        plan = [call.as_dict() for call in handler.plan(spec, obj.live_spec, change=fake)]
    else:  # release: what it managed until now
        spec = obj.desired_spec
    return ChangeItem(change=change, object_id=obj.pk, object_name=obj.object_name, base_version=obj.version,
                      spec=spec, plan=plan)


def batch_create(*, kind: str, action: str, environment, author, objects, confirmed_stacks: bool = False,
                 message: str = "") -> ChangeRequest:
    """One change request for `objects` (a queryset or list of the kind's objects, or their ids) in
    `environment`, submitted at once (the approval policy applies; approved and sent to the workers
    where no approval is needed). Objects that cannot take part are left out and counted
    (`change.batch_skipped`, also in the change's history); none eligible raises NothingEligible.

    ADOPT takes unmanaged objects no AWS service owns (a CloudFormation stack's only when
    `confirmed_stacks`); RELEASE managed ones; REAPPLY and ACCEPT managed ones that are Drifted or
    Missing. An object another open change holds is left out. Objects of another environment are
    refused (ValueError). No AWS call.
    """
    if author is None or not user_can(author, SUBMIT, environment):
        raise NotAllowed(f"You may not submit changes in {getattr(environment, 'name', environment)}.")
    preview = batch_preview(kind=kind, action=action, environment=environment, objects=objects,
                            confirmed_stacks=confirmed_stacks)
    if not preview.eligible:
        why = "; ".join(preview.skipped_words()) or "no object was given"
        raise NothingEligible(f"Nothing to {ChangeAction(action).label.lower()}: {why}.")
    registered = kinds.get(kind)
    handler, model = registered.handler, registered.model_class
    count = len(preview.eligible)
    plural = model._meta.verbose_name_plural if count != 1 else model._meta.verbose_name
    with transaction.atomic():
        change = ChangeRequest.objects.create(
            kind=kind, action=action, environment=environment, author=author,
            wizard={"batch": {"eligible": count, "skipped": preview.skipped, "stacks": preview.stacks,
                              "confirmed_stacks": bool(confirmed_stacks and preview.stacks)}})
        first_name = ""
        for start in range(0, count, CREATE_CHUNK):
            chunk = preview.eligible[start:start + CREATE_CHUNK]
            objs = model.objects.filter(pk__in=chunk).select_related("environment").order_by("pk")
            items = [_item_for(change, handler, obj) for obj in objs]
            if items and not first_name:
                first_name = items[0].object_name
            ChangeItem.objects.bulk_create(items, batch_size=CREATE_CHUNK)
        change.object_name = (first_name if count == 1 else f"{count:,} {plural}")[:320]
        change.save(update_fields=["object_name"])
        skipped = "; ".join(preview.skipped_words())
        audit_change(change, AuditAction.DRAFT_SAVED, actor=author,
                     message=f"{ChangeAction(action).label}: {count:,} {plural}"
                             + (f"; left out: {skipped}" if skipped else "")
                             + (f"; CloudFormation stacks confirmed: {', '.join(preview.stacks)}"
                                if confirmed_stacks and preview.stacks else "")
                             + (f". {message}" if message else ""))
        change_request_submit(change, actor=author)
    change.batch_skipped = preview.skipped
    return change


def batch_counts(change: ChangeRequest) -> dict[str, int]:
    """Items by state: {"pending": n, "applied": n, "failed": n, "skipped": n, "total": n}."""
    counts = {state: 0 for state in ItemState.values}
    for row in change.items.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts[state] for state in ItemState.values)
    counts["done"] = counts["total"] - counts[ItemState.PENDING]
    return counts


# ---------------------------------------------------------------------------------------------
# Apply (in the worker, after changes.apply claimed the change)
# ---------------------------------------------------------------------------------------------
class _Stop(Exception):
    """The apply stops before its next item: the lease is lost, or the worker is stopping."""


def _result(item: ChangeItem, state: str, message: str, **fields) -> None:
    item.state, item.message, item.finished = state, message, timezone.now()
    for name, value in fields.items():
        setattr(item, name, value)


def _record_object(obj, *, handler, environment, desired, change, now) -> int:
    """Save `obj` managed with `desired` (its live spec as it is): status, drift, denormalised
    columns, version + 1 counted by the database. Returns the new version."""
    obj.desired_spec = desired
    obj.sync_status, obj.drift = handler.status_against(desired, obj.live_spec, environment=environment, now=now)
    handler.denormalise(obj, desired, now=now)
    version = obj.version + 1
    obj.version = F("version") + 1
    obj.save()
    obj.version = version
    return version


def _adopt(item, obj, *, change, handler, environment, now, approver) -> None:
    if obj.sync_status != SyncStatus.UNMANAGED:
        return _result(item, ItemState.SKIPPED, "Already managed: nothing to adopt.")
    if obj.owner_service:
        return _result(item, ItemState.SKIPPED, f"Owned by {obj.owner_service}: read-only, never adopted.")
    if obj.live_spec is None:
        return _result(item, ItemState.SKIPPED, "Not seen in AWS any more: nothing to adopt.")
    desired = handler.canonical(obj.live_spec)
    changed = desired != item.spec
    obj.origin = {**(obj.origin or {}), "adopted_by_change": change.pk}
    version = _record_object(obj, handler=handler, environment=environment, desired=desired, change=change, now=now)
    message = (f"Adopted as version {version}"
               + (": AWS changed since the change was submitted; adopted what AWS has now" if changed else ""))
    _result(item, ItemState.APPLIED, message, spec=desired)
    audit_record(action=AuditAction.ADOPTED, object_type=change.kind, object_id=obj.pk, object_repr=obj.object_name,
                 related_type="change", related_id=change.pk, environment=environment, on_behalf_of=approver,
                 after=desired, with_diff=False, message=message,
                 data={"version": version, "stack": obj.stack_name or None, "changed_since_submission": changed})


def _release(item, obj, *, change, handler, environment, now, approver) -> None:
    if obj.sync_status == SyncStatus.UNMANAGED:
        return _result(item, ItemState.SKIPPED, "Not managed: nothing to release.")
    before = obj.desired_spec
    obj.sync_status, obj.desired_spec, obj.drift = SyncStatus.UNMANAGED, None, []
    obj.origin = {**(obj.origin or {}), "released_by_change": change.pk}
    handler.denormalise(obj, obj.live_spec, now=now)  # an unmanaged object's columns show what AWS has
    obj.save()
    changes_mark_stale(kind=change.kind, target=obj, reason=f"{change} released {obj.object_name}")
    message = "Released: EventConsole no longer manages it (AWS untouched; adopt it again to manage it)"
    _result(item, ItemState.APPLIED, message)
    audit_record(action=AuditAction.RELEASED, object_type=change.kind, object_id=obj.pk, object_repr=obj.object_name,
                 related_type="change", related_id=change.pk, environment=environment, on_behalf_of=approver,
                 before=before, with_diff=False, message=message, data={"version": obj.version})


def _accept(item, obj, *, change, handler, environment, now, approver) -> None:
    if obj.sync_status == SyncStatus.UNMANAGED:
        return _result(item, ItemState.SKIPPED, "Not managed: nothing to accept.")
    before = obj.desired_spec
    if obj.live_spec is None:
        common = dict(object_type=change.kind, object_id=obj.pk, object_repr=obj.object_name, related_type="change",
                      related_id=change.pk, environment=environment, on_behalf_of=approver)
        changes_mark_stale(kind=change.kind, target=obj, reason=f"{change} removed {obj.object_name}")
        obj.delete()
        message = "Missing in AWS: removed from EventConsole (accepted that it is gone)"
        _result(item, ItemState.APPLIED, message)
        audit_record(action=AuditAction.APPLIED, before=before, with_diff=False, message=message, **common)
        return
    desired = handler.canonical(obj.live_spec)
    version = _record_object(obj, handler=handler, environment=environment, desired=desired, change=change, now=now)
    changes_mark_stale(kind=change.kind, target=obj, reason=f"{change} accepted what AWS has for {obj.object_name}")
    message = f"Accepted what AWS has as version {version}"
    _result(item, ItemState.APPLIED, message, spec=desired)
    audit_record(action=AuditAction.APPLIED, object_type=change.kind, object_id=obj.pk, object_repr=obj.object_name,
                 related_type="change", related_id=change.pk, environment=environment, on_behalf_of=approver,
                 before=before, after=desired, message=message, data={"version": version})


DATABASE_ONLY = {ChangeAction.ADOPT: _adopt, ChangeAction.RELEASE: _release, ChangeAction.ACCEPT: _accept}


def _check(lease, stop_requested) -> None:
    if lease.lost.is_set() or stop_requested.is_set():
        raise _Stop()


# Item actions applied by an app above this one (changes.choices.ITEM_ACTIONS beyond BATCH_ACTIONS), registered
# from its AppConfig.ready(): apply(change, *, lease, stop_requested, approver) works through the change's
# pending items, checks `items_check(lease, stop_requested)` before each (it raises ItemsStop), and records
# each item's result; batch_apply does the rest (attempt, hand-back, the summary, the final state).
ItemsStop = _Stop
items_check = _check
_ITEM_APPLIERS: dict[str, Any] = {}


def register_item_applier(action: str, apply) -> None:
    _ITEM_APPLIERS[action] = apply


def _apply_database_only(change: ChangeRequest, *, lease, stop_requested, approver) -> None:
    """Adopt / release / accept: a chunk of pending items per transaction, under the objects' row locks."""
    kind = kinds.get(change.kind)
    handler, model, environment = kind.handler, kind.model_class, change.environment
    step = DATABASE_ONLY[change.action]
    last = 0
    while True:
        _check(lease, stop_requested)
        ids = list(change.items.filter(state=ItemState.PENDING, pk__gt=last).order_by("pk")
                   .values_list("pk", "object_id")[:APPLY_CHUNK])
        if not ids:
            return
        last = ids[-1][0]
        now = timezone.now()
        with transaction.atomic():
            # The objects first (the order every apply path takes), then the items, still pending?
            objs = {obj.pk: obj for obj in model.objects.select_for_update().filter(pk__in=[o for _, o in ids])}
            items = list(ChangeItem.objects.select_for_update().filter(pk__in=[i for i, _ in ids],
                                                                       state=ItemState.PENDING).order_by("pk"))
            if not ChangeRequest.objects.filter(pk=change.pk, state=S.APPLYING, lease_owner=lease.owner).exists():
                raise _Stop()
            spec_of: dict[int, Any] = {}
            for item in items:
                before = item.spec
                obj = objs.get(item.object_id)
                if obj is None:
                    _result(item, ItemState.SKIPPED, "Gone: it was removed from EventConsole since.")
                elif change.action != ChangeAction.ADOPT and obj.version != item.base_version:
                    _result(item, ItemState.SKIPPED, f"Changed since the change was submitted (version "
                                                     f"{item.base_version} then, {obj.version} now): left as it is.")
                else:
                    step(item, obj, change=change, handler=handler, environment=environment, now=now,
                         approver=approver)
                if item.spec != before:
                    spec_of[item.pk] = item.spec
            _save_results(items, spec_changed=spec_of)


def _save_results(items: list[ChangeItem], *, spec_changed: dict[int, Any]) -> None:
    """Write the items' results: one UPDATE per distinct (state, message), one per changed spec."""
    groups: dict[tuple[str, str], list[int]] = {}
    for item in items:
        groups.setdefault((item.state, item.message), []).append(item.pk)
    now = timezone.now()
    for (state, message), pks in groups.items():
        ChangeItem.objects.filter(pk__in=pks).update(state=state, message=message, finished=now)
    for pk, spec in spec_changed.items():
        ChangeItem.objects.filter(pk=pk).update(spec=spec)


def _client_token(call, change: ChangeRequest, item: ChangeItem):
    """Calls with an idempotency token get one per item (the kind's token is per change)."""
    if "ClientToken" not in call.params:
        return call
    token = call.params["ClientToken"]
    operation = token.rsplit("-", 1)[-1]
    return replace(call, params={**call.params, "ClientToken": f"eventconsole-batch-{change.pk}-{item.pk}-{operation}"[:64]})


def _reapply_one(change: ChangeRequest, item: ChangeItem, *, lease, stop_requested, approver) -> None:
    kind = kinds.get(change.kind)
    handler, model, environment = kind.handler, kind.model_class, change.environment
    obj = model.objects.filter(pk=item.object_id).first()
    calls_log: list[dict] = []

    def finish(state: str, message: str) -> None:
        with transaction.atomic():
            locked = ChangeItem.objects.select_for_update().filter(pk=item.pk, state=ItemState.PENDING).first()
            if locked is None:
                return
            _result(locked, state, message, calls=calls_log)
            locked.save(update_fields=["state", "message", "finished", "calls"])
        item.state, item.message = state, message

    if obj is None:
        return finish(ItemState.SKIPPED, "Gone: it was removed from EventConsole since.")
    if obj.version != item.base_version or obj.desired_spec is None:
        return finish(ItemState.SKIPPED, f"Changed since the change was submitted (version {item.base_version} "
                                         f"then, {obj.version} now): left as it is.")
    fake = _fake_change(change, obj)
    try:
        live = handler.read_live(environment, fake)
        for call in handler.plan(obj.desired_spec, live, change=fake):
            _check(lease, stop_requested)
            call_run(_client_token(call, change, item), handler=handler, change=fake, environment=environment,
                     lease=lease, calls_log=calls_log)
        live_after = handler.read_live(environment, fake)
    except _Stop:
        raise
    except (BotoCoreError, ClientError, PartialFailure) as exc:
        message = error_words(exc)
        with transaction.atomic():
            model.objects.filter(pk=obj.pk).update(sync_status=SyncStatus.FAILED)
            finish(ItemState.FAILED, f"Failed: {message}")
            audit_record(action=AuditAction.APPLY_FAILED, object_type=change.kind, object_id=obj.pk,
                         object_repr=obj.object_name, related_type="change", related_id=change.pk,
                         environment=environment, on_behalf_of=approver, message=f"Re-apply failed: {message}",
                         data={"calls": calls_log})
        return
    with transaction.atomic():
        locked = model.objects.select_for_update().filter(pk=obj.pk).first()
        if locked is None or locked.version != item.base_version:
            return finish(ItemState.SKIPPED, "Changed while it was re-applied: left as the other change made it.")
        fake = _fake_change(change, locked, spec=locked.desired_spec)
        record_applied(fake, live_after)
        model.objects.filter(pk=locked.pk).update(version=F("version") + 1)
        version = locked.version + 1
        changes_mark_stale(kind=change.kind, target=locked, reason=f"{change} re-applied {locked.object_name}")
        message = (f"Re-applied as version {version}: {len(calls_log)} API call{'s' if len(calls_log) != 1 else ''}"
                   if calls_log else f"Already as desired: no API call needed (version {version})")
        finish(ItemState.APPLIED, message)
        audit_record(action=AuditAction.APPLIED, object_type=change.kind, object_id=locked.pk,
                     object_repr=locked.object_name, related_type="change", related_id=change.pk,
                     environment=environment, on_behalf_of=approver, message=message,
                     data={"version": version, "calls": calls_log})


def _apply_reapply(change: ChangeRequest, *, lease, stop_requested, approver) -> None:
    last = 0
    while True:
        _check(lease, stop_requested)
        items = list(change.items.filter(state=ItemState.PENDING, pk__gt=last).order_by("pk")[:APPLY_CHUNK])
        if not items:
            return
        for item in items:
            _check(lease, stop_requested)
            _reapply_one(change, item, lease=lease, stop_requested=stop_requested, approver=approver)
        last = items[-1].pk


def summary(counts: dict[str, int]) -> str:
    return (f"{counts[ItemState.APPLIED]:,} applied, {counts[ItemState.FAILED]:,} failed, "
            f"{counts[ItemState.SKIPPED]:,} skipped")


def batch_apply(change: ChangeRequest, *, owner: str) -> ChangeRequest:
    """Apply a claimed (Applying) batch change: its pending items, one by one (see the module's text).

    Stops cleanly (the change handed back, or left to whoever holds its lease now) when the lease is
    lost or the worker is told to stop; the next worker resumes with the items still pending."""
    approver = approver_of(change)
    attempt = ApplyAttempt.objects.create(change=change, number=change.attempts)
    started = time.monotonic()

    def finish_attempt(status: str, **fields) -> None:
        ApplyAttempt.objects.filter(pk=attempt.pk).update(
            status=status, finished=timezone.now(), duration_ms=int((time.monotonic() - started) * 1000), **fields)

    counts = batch_counts(change)
    if not counts[ItemState.PENDING] and counts[ItemState.FAILED]:
        batch_items_reset_failed(change)  # a failed batch retried: its failed objects are tried again
    with Lease(change.pk, owner) as lease:
        try:
            if change.action in _ITEM_APPLIERS:
                _ITEM_APPLIERS[change.action](change, lease=lease, stop_requested=stop_requested, approver=approver)
            elif change.action == ChangeAction.REAPPLY:
                _apply_reapply(change, lease=lease, stop_requested=stop_requested, approver=approver)
            else:
                _apply_database_only(change, lease=lease, stop_requested=stop_requested, approver=approver)
        except _Stop:
            if stop_requested.is_set() and not lease.lost.is_set():
                message = (f"The worker applying this change ({owner}) was told to stop before it finished; it "
                           "handed the change back. Another worker applies the objects still pending.")
                finish_attempt(AttemptStatus.FAILED, error_code="WorkerStopped", error_message=message)
                hand_back(change, message=message, code="WorkerStopped", holder=owner)
            else:
                finish_attempt(AttemptStatus.FAILED, error_code="LeaseLost",
                               error_message="The lease was lost; another worker carries on.")
            return ChangeRequest.objects.get(pk=change.pk)
        counts = batch_counts(change)
        words = summary(counts)
        failed_all = counts[ItemState.FAILED] and not counts[ItemState.APPLIED] and not counts[ItemState.SKIPPED]
        try:
            with transaction.atomic():
                if failed_all:
                    transition(change, S.FAILED, holder=owner, on_behalf_of=approver, message=words, last_error=words)
                    finish_attempt(AttemptStatus.FAILED, error_code="BatchFailed", error_message=words)
                else:
                    transition(change, S.APPLIED, holder=owner, on_behalf_of=approver, message=words, last_error="")
                    finish_attempt(AttemptStatus.SUCCEEDED)
                audit_change(change, AuditAction.BATCH_APPLIED, on_behalf_of=approver,
                             message=f"{ChangeAction(change.action).label}: {words}",
                             data={key: counts[key] for key in (*ItemState.values, "total")})
        except LeaseLost as lost:
            finish_attempt(AttemptStatus.FAILED, error_code="LeaseLost", error_message=str(lost))
    return ChangeRequest.objects.get(pk=change.pk)


def batch_items_reset_failed(change: ChangeRequest) -> int:
    """A failed batch retried: its failed items are pending again (called under the claim)."""
    return change.items.filter(state=ItemState.FAILED).update(state=ItemState.PENDING, message="", finished=None)
