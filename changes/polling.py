"""Poll: read every managed object of one kind in an environment from AWS, compare it with its
desired spec, and record what changed (for any kind).

The kind supplies the reading (`read_polled`: what AWS has now for these objects, in the spec's
shape, with as few calls as its API allows) and the comparison (`status_against`); this module
records the result the same way for every kind:

- the status, the field-by-field drift and the live snapshot, on the object;
- drift detected (the object became drifted or missing) and drift cleared (back in sync, or a
  one-time object that AWS removed after its run, as asked): one audit event each, never repeated
  while the state lasts; the open changes based on the drifted version become stale;
- an apply that failed keeps showing until the object is in sync again;
- an object being applied right now (a live apply lease), or applied or deleted since it was read,
  is left alone: the next poll sees its new state;
- an object whose state did not change costs no write but its poll time (one UPDATE for them all).

The API calls a poll makes are counted on the clients the kind names (`POLL_SERVICES`), once per
request sent (botocore's `before-send`, retries included), the same way for every kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import audit_record
from environments import aws

from . import kinds
from .choices import SyncStatus
from .selectors import apply_in_progress
from .states import changes_mark_stale

DRIFT_STATES = (SyncStatus.DRIFTED, SyncStatus.MISSING)
# What the recorder reads and writes on every kind's objects (ManagedObject); the kind adds its own.
COMMON_FIELDS = ("id", "desired_spec", "live_spec", "sync_status", "drift", "version")


@dataclass
class LiveRead:
    """What a kind's reader learnt: object id → its live spec (None: not in AWS)."""

    live: dict[int, dict | None] = field(default_factory=dict)
    reads: int = 0  # objects read one by one (the rest were learnt from the listings alone)


@dataclass
class PollReport:
    kind: str = ""
    objects: int = 0
    in_sync: int = 0
    drifted: int = 0
    missing: int = 0
    completed: int = 0
    api_calls: int = 0
    reads: int = 0
    changed: list[str] = field(default_factory=list)  # objects whose drift was detected or cleared

    def count(self, status: str) -> None:
        self.objects += 1
        self.in_sync += status == SyncStatus.IN_SYNC
        self.drifted += status == SyncStatus.DRIFTED
        self.missing += status == SyncStatus.MISSING
        self.completed += status == SyncStatus.COMPLETED


def count_calls(environment, services: tuple[str, ...]):
    """Count the requests the clients of `services` send from now on; returns `stop()`, which
    stops counting and gives the count. Registered first, so a request another hook answers
    (a test's stand-in for AWS) is counted as well; the readers may run in threads."""
    sent: list[int] = []  # list.append is atomic

    def hook(**kwargs):
        sent.append(1)

    clients = [aws.client(environment, service) for service in services]
    for client in clients:
        client.meta.events.register_first("before-send", hook)

    def stop() -> int:
        for client in clients:
            client.meta.events.unregister("before-send", hook)
        return len(sent)
    return stop


def objects_poll(environment, kind_name: str, *, now: datetime | None = None) -> PollReport:
    """Poll every managed object of kind `kind_name` in `environment`."""
    kind = kinds.get(kind_name)
    handler, model = kind.handler, kind.model_class
    report = PollReport(kind=kind.name)
    now = now or timezone.now()
    stop_counting = count_calls(environment, handler.POLL_SERVICES)
    try:
        objects = list(model.objects.managed().filter(environment=environment)
                       .only(*COMMON_FIELDS, *handler.POLL_FIELDS).order_by("id"))
        if not objects:
            return report
        found = handler.read_polled(environment, objects)
        report.reads = found.reads
        quiet = [obj.pk for obj in objects
                 if not _record(kind, obj, found.live.get(obj.pk), environment=environment, report=report, now=now)]
        model.objects.filter(pk__in=quiet).update(last_polled=now)
    finally:
        report.api_calls = stop_counting()
    return report


def _record(kind: kinds.Kind, obj, live, *, environment, report: PollReport, now: datetime) -> bool:
    """Record what the poll learnt about `obj`; False when nothing but the poll time changed (the
    caller batches those)."""
    handler = kind.handler
    live, live_fields = handler.split_live(live)
    status, drift = handler.status_against(obj.desired_spec, live, environment=environment, now=now)
    if obj.desired_spec is None:
        status = SyncStatus.PENDING
    report.count(status)
    if obj.sync_status == SyncStatus.FAILED and status != SyncStatus.IN_SYNC:
        status = SyncStatus.FAILED  # keep showing the failed apply until it is fixed
    learnt = {"live_spec": live, "sync_status": status, "drift": drift, **live_fields}
    timed = handler.polled_fields(obj, status, now=now)
    if all(getattr(obj, name) == value for name, value in learnt.items()):
        if all(getattr(obj, name) == value for name, value in timed.items()):
            return False
        # Only time moved on (a schedule's run passed). No lock, no audit; skipped if an apply got there first.
        type(obj).objects.filter(pk=obj.pk, version=obj.version).update(**timed, last_polled=now)
        return True
    with transaction.atomic():
        locked = type(obj).objects.select_for_update().filter(pk=obj.pk).first()
        if locked is None or locked.version != obj.version:
            return True  # deleted or applied meanwhile: the next poll sees the new state
        if apply_in_progress(locked):
            return True  # an apply is writing this object right now
        previous = locked.sync_status
        for name, value in {**learnt, **timed, "last_polled": now}.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*learnt, *timed, "last_polled", "last_updated"])
        _audit_drift(kind, locked, previous, live, drift, environment=environment, report=report)
    return True


def _audit_drift(kind: kinds.Kind, obj, previous: str, live, drift: list, *, environment,
                 report: PollReport) -> None:
    """One event when drift is detected, one when it clears: never one per poll while it lasts."""
    label, status = kind.label.lower(), obj.sync_status
    common = dict(object_type=kind.name, object_id=obj.pk, object_repr=obj.object_name, environment=environment)
    if status in DRIFT_STATES and previous not in DRIFT_STATES:
        report.changed.append(obj.object_name)
        message = (f"The {label} is missing in AWS" if status == SyncStatus.MISSING
                   else f"The {label} in AWS differs from the desired spec in {len(drift)} field(s)")
        audit_record(action=AuditAction.DRIFT_DETECTED, before=obj.desired_spec, after=live, message=message,
                     **common)
        changes_mark_stale(kind=kind.name, target=obj, reason=f"Drift detected: {message.lower()}")
    elif status in (SyncStatus.IN_SYNC, SyncStatus.COMPLETED) and previous in DRIFT_STATES:
        report.changed.append(obj.object_name)
        audit_record(action=AuditAction.DRIFT_CLEARED, with_diff=False, message=(
            f"The {label} in AWS matches the desired spec again" if status == SyncStatus.IN_SYNC
            else f"The {label} made its last run and AWS deleted it, as asked (completed)"), **common)
