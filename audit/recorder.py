"""Every change to the tracked models becomes an audit event, whatever path made it.

The admin site, management commands (createsuperuser, changepassword, set_roles, a shell), pages
and services all save through the ORM, so the recorder listens to the model signals: each create,
change and delete (post_save / post_delete) and each many-to-many change (m2m_changed, from either
side) of a tracked model appends one event, in the same transaction, with before and after
snapshots. The actor is the signed-in user of the web request (audit.context), else "system".
Passwords are never recorded: a changed secret field shows only as "password changed".

Tracking a model takes one line (the access app's per-environment role grants, for instance):

    audit_track(RoleGrant, object_type=ObjectType.ROLE_GRANT, action=AuditAction.ROLE_GRANT_CHANGED,
                fields=("user", "environment", "role"))

Where a service already writes its own, richer event for a change (environment_save, user_set_roles,
the admin site's user and group pages), it runs inside `audit_explicit(Model)`, and the recorder
stays quiet for that model there, so each change is recorded once.

Not seen by signals, hence not by the recorder: QuerySet.update()/bulk_create() and raw SQL. The app
does not change these models that way.
"""
from __future__ import annotations

import contextvars
from contextlib import ContextDecorator
from dataclasses import dataclass, field
from typing import Any, Callable

from django.db import router
from django.db.models import Model, signals

from .context import current_user
from .services import audit_record

_suppressed: contextvars.ContextVar[frozenset] = contextvars.ContextVar("audit_explicit", default=frozenset())


@dataclass(frozen=True)
class Tracked:
    model: type[Model]
    object_type: str
    action: str
    snapshot: Callable[[Any], dict]
    secret_fields: tuple[str, ...] = ()
    m2m: tuple[str, ...] = ()
    environment: Callable[[Any], Any] | None = None
    ignore_update_fields: frozenset = frozenset()
    label: str = field(default="")


_tracked: dict[type[Model], Tracked] = {}


class audit_explicit(ContextDecorator):
    """Inside this block (or decorated function) the recorder leaves `models` alone: the caller records them."""

    def __init__(self, *models: type[Model]):
        self.models = frozenset(models)
        self._tokens: list = []

    def _recreate_cm(self):  # a fresh one per decorated call: safe across threads
        return type(self)(*self.models)

    def __enter__(self):
        self._tokens.append(_suppressed.set(_suppressed.get() | self.models))
        return self

    def __exit__(self, *exc):
        _suppressed.reset(self._tokens.pop())
        return False


def _label(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value)
    return value


def fields_snapshot(fields: tuple[str, ...], m2m: tuple[str, ...] = ()) -> Callable[[Any], dict]:
    """A snapshot of these fields (foreign keys by their str()) and many-to-many fields (sorted str())."""
    def snapshot(obj) -> dict:
        data = {}
        for name in fields:
            value = getattr(obj, name)
            data[name] = _label(value)
        for name in m2m:
            data[name] = sorted(str(o) for o in getattr(obj, name).all())
        return data
    return snapshot


def audit_track(model: type[Model], *, object_type: str, action: str, fields: tuple[str, ...] = (),
                m2m: tuple[str, ...] = (), snapshot: Callable[[Any], dict] | None = None,
                secret_fields: tuple[str, ...] = (), environment: Callable[[Any], Any] | None = None,
                ignore_update_fields: tuple[str, ...] = ()) -> None:
    """Record every create, change, delete and many-to-many change (of the `m2m` fields) of `model`.

    `snapshot(obj)` gives what an event records (default: `fields` and `m2m`); `secret_fields` are
    compared but never recorded; a save(update_fields=...) touching only `ignore_update_fields`
    (e.g. a user's last_login) is not looked at.
    """
    tracked = Tracked(model=model, object_type=object_type, action=action,
                      snapshot=snapshot or fields_snapshot(fields, m2m), secret_fields=secret_fields, m2m=m2m,
                      environment=environment, ignore_update_fields=frozenset(ignore_update_fields),
                      label=str(model._meta.verbose_name).capitalize())
    _tracked[model] = tracked
    uid = f"audit.recorder.{model._meta.label}"
    signals.pre_save.connect(_pre_save, sender=model, dispatch_uid=f"{uid}.pre_save", weak=False)
    signals.post_save.connect(_post_save, sender=model, dispatch_uid=f"{uid}.post_save", weak=False)
    signals.pre_delete.connect(_pre_delete, sender=model, dispatch_uid=f"{uid}.pre_delete", weak=False)
    signals.post_delete.connect(_post_delete, sender=model, dispatch_uid=f"{uid}.post_delete", weak=False)
    for name in m2m:
        through = model._meta.get_field(name).remote_field.through
        signals.m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}.{name}", weak=False)


def _quiet(model: type[Model]) -> bool:
    return model in _suppressed.get()


def _record(tracked: Tracked, obj, *, before: dict | None, after: dict | None, message: str, using: str,
            data: dict | None = None) -> None:
    environment = tracked.environment(obj) if tracked.environment else None
    audit_record(action=tracked.action, object_type=tracked.object_type, object_id=obj.pk, object_repr=str(obj),
                 actor=current_user(), environment=environment, before=before, after=after, message=message,
                 data=data, using=using)


def _skip_save(tracked: Tracked, update_fields) -> bool:
    return update_fields is not None and set(update_fields) <= tracked.ignore_update_fields


def _pre_save(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    tracked = _tracked[sender]
    if raw or _quiet(sender) or instance.pk is None or _skip_save(tracked, update_fields):
        return
    old = sender._default_manager.using(using).filter(pk=instance.pk).first()
    instance._audit_before = tracked.snapshot(old) if old is not None else None
    instance._audit_secrets = {name: getattr(old, name) for name in tracked.secret_fields} if old is not None else {}


def _post_save(sender, instance, created, raw=False, using=None, update_fields=None, **kwargs):
    tracked = _tracked[sender]
    if raw or _quiet(sender) or (not created and _skip_save(tracked, update_fields)):
        return
    before = None if created else instance.__dict__.pop("_audit_before", None)
    old_secrets = instance.__dict__.pop("_audit_secrets", {})
    after = tracked.snapshot(instance)
    changed_secrets = [name for name in tracked.secret_fields
                       if not created and name in old_secrets and old_secrets[name] != getattr(instance, name)]
    if created or before is None:
        message = f"{tracked.label} created"
    elif before != after or changed_secrets:
        message = f"{tracked.label} changed" + "".join(f"; {name} changed" for name in changed_secrets)
    else:
        return
    _record(tracked, instance, before=before, after=after, message=message, using=using,
            data={"changed": changed_secrets} if changed_secrets else None)


def _pre_delete(sender, instance, using=None, **kwargs):
    if not _quiet(sender):
        instance._audit_before = _tracked[sender].snapshot(instance)


def _post_delete(sender, instance, using=None, **kwargs):
    tracked = _tracked[sender]
    if _quiet(sender) or "_audit_before" not in instance.__dict__:
        return
    _record(tracked, instance, before=instance.__dict__.pop("_audit_before"), after=None,
            message=f"{tracked.label} deleted", using=using)


def _owners(tracked: Tracked, name: str, instance, reverse: bool, pk_set) -> list:
    """The tracked objects a many-to-many change touches (the instance, or from the other side, those in pk_set)."""
    if not reverse:
        return [instance]
    manager = tracked.model._default_manager.using(router.db_for_write(tracked.model))
    if pk_set is None:  # clear() from the other side
        return list(manager.filter(**{name: instance}))
    return list(manager.filter(pk__in=pk_set))


def _m2m_changed(sender, instance, action, reverse, model, pk_set, using=None, **kwargs):
    for tracked in _tracked.values():
        for name in tracked.m2m:
            if tracked.model._meta.get_field(name).remote_field.through is not sender:
                continue
            if _quiet(tracked.model) or (reverse and model is not tracked.model) \
                    or (not reverse and not isinstance(instance, tracked.model)):
                continue
            _m2m_one(tracked, name, instance, action, reverse, pk_set, using)


def _m2m_one(tracked: Tracked, name: str, instance, action: str, reverse: bool, pk_set, using) -> None:
    key = f"_audit_m2m_{tracked.model._meta.label}_{name}"
    if action.startswith("pre_"):
        if action != "pre_clear" and not pk_set:
            return
        instance.__dict__[key] = [(owner, tracked.snapshot(owner))
                                  for owner in _owners(tracked, name, instance, reverse, pk_set)]
    elif action.startswith("post_"):
        for owner, before in instance.__dict__.pop(key, []):
            after = tracked.snapshot(owner)
            if after != before:
                _record(tracked, owner, before=before, after=after, message=f"{tracked.label} changed ({name})",
                        using=using)
