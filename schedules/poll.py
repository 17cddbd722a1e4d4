"""Poll: read every managed schedule of an environment from AWS, compare with desired, record drift.

Calls: ListSchedules per schedule group (paged, 100 a page: it gives each schedule's state,
target ARN and LastModificationDate), then GetSchedule only for the schedules whose summary shows
a modification since we last read them (or that we never read). A steady environment costs one
call per 100 schedules; a schedule changed in AWS is read, compared and reported in the same poll.

A one-time schedule that AWS deleted after its run (ActionAfterCompletion DELETE, its at() time
passed) is COMPLETED, not missing, and raises no drift.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from changes.choices import SyncStatus
from changes.selectors import apply_in_progress
from environments import aws

from . import aws_reader
from .kind import denormalise, next_run_of, status_against
from .models import Schedule

DRIFT_STATES = (SyncStatus.DRIFTED, SyncStatus.MISSING)
READERS = 8  # concurrent GetSchedule calls: well under Scheduler's default request rate
FIELDS = ("id", "name", "group_name", "desired_spec", "live_spec", "live_modified", "sync_status", "version", "drift",
          "next_run", "state", "last_applied")


@dataclass
class PollReport:
    schedules: int = 0
    in_sync: int = 0
    drifted: int = 0
    missing: int = 0
    completed: int = 0
    api_calls: int = 0
    reads: int = 0  # GetSchedule calls
    changed: list[str] = field(default_factory=list)


def _count_calls(environment, service: str = "scheduler"):
    sent = []  # list.append is atomic: the reads run in threads

    def hook(**kwargs):
        sent.append(1)

    client = aws.client(environment, service)
    client.meta.events.register("before-send", hook)

    def stop():
        client.meta.events.unregister("before-send", hook)
        return len(sent)
    return stop


def schedules_poll(environment, *, now: datetime | None = None) -> PollReport:
    report = PollReport()
    now = now or timezone.now()
    stop_counting = _count_calls(environment)
    quiet: list[int] = []  # nothing changed but the poll time: one UPDATE for all of them
    try:
        schedules = list(Schedule.objects.filter(environment=environment).only(*FIELDS).order_by("id"))
        listings = {group: aws_reader.list_schedules(environment, group) for group in {s.group_name for s in schedules}}
        to_read = [s for s in schedules if (summary := listings[s.group_name].get(s.name)) is not None
                   and not aws_reader.unchanged_since(s.live_modified, s.live_spec, summary)]
        report.reads = len(to_read)
        read = _read_all(environment, to_read)
        for schedule in schedules:
            if schedule.pk in read:
                live, modified = aws_reader.split_modified(read[schedule.pk])
            elif listings[schedule.group_name].get(schedule.name) is None:
                live, modified = None, ""
            else:
                live, modified = schedule.live_spec, schedule.live_modified
            if _record(schedule, live, modified, environment=environment, report=report, now=now):
                continue
            quiet.append(schedule.pk)
        Schedule.objects.filter(pk__in=quiet).update(last_polled=now)
    finally:
        report.api_calls = stop_counting()
    return report


def _read_all(environment, schedules: list[Schedule]) -> dict[int, dict | None]:
    """GetSchedule for each, READERS at a time (boto3 clients are thread-safe; botocore's standard
    retry mode backs off if AWS throttles). No database access in the threads."""
    if not schedules:
        return {}
    aws.client(environment, "scheduler")  # create the shared client once, before the threads use it

    def read(schedule):
        return schedule.pk, aws_reader.read_schedule(environment, name=schedule.name, group=schedule.group_name)

    with ThreadPoolExecutor(max_workers=min(READERS, len(schedules))) as pool:
        return dict(pool.map(read, schedules))


def _record(schedule: Schedule, live, modified: str, *, environment, report: PollReport, now: datetime) -> bool:
    """Record what the poll learnt; False when nothing but the poll time changed (the caller
    batches those)."""
    from changes.services import changes_mark_stale

    status, drift = status_against(schedule.desired_spec, live, now=now)
    if schedule.desired_spec is None:
        status = SyncStatus.PENDING
    report.schedules += 1
    report.in_sync += status == SyncStatus.IN_SYNC
    report.drifted += status == SyncStatus.DRIFTED
    report.missing += status == SyncStatus.MISSING
    report.completed += status == SyncStatus.COMPLETED
    if schedule.sync_status == SyncStatus.FAILED and status != SyncStatus.IN_SYNC:
        status = SyncStatus.FAILED  # keep showing the failed apply until it is fixed
    next_run = None if status == SyncStatus.COMPLETED else next_run_of(schedule.desired_spec, now=now,
                                                                        anchor=schedule.last_applied)
    if (status, drift, live, modified) == (schedule.sync_status, schedule.drift, schedule.live_spec,
                                           schedule.live_modified):
        if next_run == schedule.next_run:
            return False
        # Only time moved on: a run passed. No lock, no audit; skipped if an apply got there first.
        Schedule.objects.filter(pk=schedule.pk, version=schedule.version).update(next_run=next_run, last_polled=now)
        return True
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().filter(pk=schedule.pk).first()
        if locked is None or locked.version != schedule.version:
            return True  # deleted or applied meanwhile: the next poll sees the new state
        if apply_in_progress(locked):
            return True  # an apply is writing this schedule right now
        previous = locked.sync_status
        locked.live_spec, locked.live_modified = live, modified
        locked.sync_status, locked.drift, locked.last_polled = status, drift, now
        denormalise(locked, locked.desired_spec, now=now)
        locked.save()
        common = dict(object_type=ObjectType.SCHEDULE, object_id=locked.pk, object_repr=locked.object_name,
                      environment=environment)
        if status in DRIFT_STATES and previous not in DRIFT_STATES:
            report.changed.append(locked.object_name)
            message = ("The schedule is missing in AWS" if status == SyncStatus.MISSING
                       else f"The schedule in AWS differs from the desired spec in {len(drift)} field(s)")
            audit_record(action=AuditAction.DRIFT_DETECTED, before=locked.desired_spec, after=live, message=message,
                         **common)
            changes_mark_stale(kind="schedule", target=locked, reason=f"Drift detected: {message.lower()}")
        elif status in (SyncStatus.IN_SYNC, SyncStatus.COMPLETED) and previous in DRIFT_STATES:
            report.changed.append(locked.object_name)
            audit_record(action=AuditAction.DRIFT_CLEARED, with_diff=False, message=(
                "The schedule in AWS matches the desired spec again" if status == SyncStatus.IN_SYNC
                else "The one-time schedule ran and AWS deleted it, as asked (completed)"), **common)
    return True
