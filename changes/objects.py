"""What the engine does to any kind's managed object (a ManagedObject row), through the kind registry.

A change request points at its object through the foreign key its kind names (`Kind.change_field`);
everything here goes through that name, so no kind is named in the engine.
"""
from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import kinds
from .choices import ChangeAction, OPEN_STATES, SyncStatus
from .kinds import ObjectConflict


def target_id_of(change) -> int | None:
    """The id of the change's object (None: a create not submitted yet, or an object since deleted)."""
    return getattr(change, f"{kinds.get(change.kind).change_field}_id")


def set_target(change, target) -> None:
    setattr(change, kinds.get(change.kind).change_field, target)


def locked_target(change):
    """The change's object, re-read under its row lock (None if it is gone)."""
    target_id = target_id_of(change)
    if target_id is None:
        return None
    return kinds.model_for(change.kind).objects.select_for_update().filter(pk=target_id).first()


def ensure_object(change, *, key: dict[str, Any], taken: str):
    """The change's object; for a change without one (a create), a new placeholder row in the change's
    environment identified by `key` (model fields), which no other managed object may hold
    (ObjectConflict with the message `taken`)."""
    target = change.target
    if target is not None:
        return target
    model = kinds.model_for(change.kind)
    if model.objects.filter(environment=change.environment, **key).exists():
        raise ObjectConflict(taken)
    try:
        with transaction.atomic():
            target = model.objects.create(environment=change.environment, sync_status=SyncStatus.PENDING, **key)
    except IntegrityError:
        raise ObjectConflict(taken) from None
    set_target(change, target)
    change.object_name = target.object_name
    return target


def record_applied(change, live: dict[str, Any] | None) -> None:
    """After a successful apply: the applied spec becomes the object's desired spec, with the live
    state read back and how they compare (a delete removes the row). `change`'s object is the row
    the engine locked; the engine counts the version."""
    target = change.target
    if target is None:
        return
    if change.action == ChangeAction.DELETE:
        target.delete()
        return
    handler = kinds.handler_for(change.kind)
    live, fields = handler.split_live(live)
    spec = handler.canonical(change.spec)
    target.desired_spec, target.live_spec = spec, live
    for name, value in fields.items():
        setattr(target, name, value)
    target.last_applied = target.last_polled = timezone.now()
    target.sync_status, target.drift = handler.status_against(spec, live, environment=change.environment)
    handler.denormalise(target, spec)
    target.save()


def mark_failed(change) -> None:
    """The apply failed: the object shows so until an apply or a poll finds it in sync."""
    target_id = target_id_of(change)
    if target_id is not None:
        kinds.model_for(change.kind).objects.filter(pk=target_id).update(sync_status=SyncStatus.FAILED)


def discard_unapplied(change) -> None:
    """A create change ended without reaching AWS: its placeholder row goes (unless another open
    change uses it)."""
    target = change.target
    if target is None or target.version > 0:
        return
    if not target.changes.exclude(pk=change.pk).filter(state__in=OPEN_STATES).exists():
        set_target(change, None)
        change.save(update_fields=[kinds.get(change.kind).change_field])
        target.delete()
