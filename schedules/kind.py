"""The change engine's view of schedules (see changes.kinds.KindHandler)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from changes.calls import ApiCall
from changes.choices import ChangeAction, OPEN_STATES, SyncStatus
from changes.kinds import ObjectConflict

from . import expressions
from . import aws_reader
from .models import Schedule
from .plan import MISSING_GROUP, in_sync
from .plan import plan as schedule_plan
from .spec import canonical_schedule_spec, comparable, is_one_time, parse_date, validate_schedule_spec


def validate(spec: dict[str, Any], *, environment) -> dict[str, list[str]]:
    return validate_schedule_spec(spec)


def object_name(spec: dict[str, Any]) -> str:
    return f"{spec.get('GroupName') or 'default'}/{spec['Name']}" if spec.get("Name") else ""


def _key(change) -> tuple[str, str]:
    if change.schedule_id:
        return change.schedule.name, change.schedule.group_name
    spec = change.spec or {}
    return spec.get("Name", ""), spec.get("GroupName") or "default"


def ensure_object(change) -> Schedule:
    if change.schedule_id:
        return change.schedule
    name, group = _key(change)
    taken = f"A schedule named {name} is already managed in group {group} in {change.environment.name}."
    if Schedule.objects.filter(environment=change.environment, group_name=group, name=name).exists():
        raise ObjectConflict(taken)
    try:
        with transaction.atomic():
            change.schedule = Schedule.objects.create(environment=change.environment, group_name=group, name=name,
                                                      sync_status=SyncStatus.PENDING)
    except IntegrityError:
        raise ObjectConflict(taken) from None
    change.object_name = change.schedule.object_name
    return change.schedule


def read_live(environment, change) -> dict[str, Any] | None:
    name, group = _key(change)
    return aws_reader.read_schedule(environment, name=name, group=group)


def plan(desired, live, *, change) -> list[ApiCall]:
    return schedule_plan(desired, live, change_id=change.pk)


def check_response(call: ApiCall, response: dict[str, Any]) -> None:
    """Scheduler calls succeed or raise; there are no partial failures."""


# ---------------------------------------------------------------------------------------------
# Status and denormalised fields
# ---------------------------------------------------------------------------------------------
def runs_of(spec: dict[str, Any] | None, *, count: int, now: datetime | None = None,
            anchor: datetime | None = None, until: datetime | None = None) -> list[datetime]:
    """The next `count` invocations of an enabled schedule, in its time zone.

    A rate schedule without a start date runs from when it was created, then every interval:
    `anchor` (the time it was applied) stands in for that moment.
    """
    if not spec or spec.get("State", "ENABLED") != "ENABLED" or not spec.get("ScheduleExpression"):
        return []
    expression = spec["ScheduleExpression"]
    start, end = parse_date(spec.get("StartDate")), parse_date(spec.get("EndDate"))
    if start is None and anchor is not None and expression.startswith("rate("):
        start = anchor
    if until is not None:
        end = min(end, until) if end else until
    try:
        return expressions.next_runs(expression, spec.get("ScheduleExpressionTimezone") or "UTC",
                                     now or timezone.now(), count, start=start, end=end)
    except (expressions.ExpressionError, ValueError):
        return []


def next_run_of(spec: dict[str, Any] | None, *, now: datetime | None = None,
                anchor: datetime | None = None) -> datetime | None:
    """The next invocation (UTC) of an enabled schedule, or None."""
    runs = runs_of(spec, count=1, now=now, anchor=anchor)
    return runs[0].astimezone(UTC) if runs else None


def completed(desired: dict[str, Any] | None, *, now: datetime | None = None) -> bool:
    """A one-time schedule that AWS deletes after its run (ActionAfterCompletion DELETE) whose
    time has passed: its absence in AWS means it ran, not that someone removed it."""
    if not is_one_time(desired) or (desired or {}).get("ActionAfterCompletion") != "DELETE":
        return False
    try:
        runs = expressions.next_runs(desired["ScheduleExpression"], desired.get("ScheduleExpressionTimezone") or "UTC",
                                     datetime(1970, 1, 1, tzinfo=UTC), 1)
    except expressions.ExpressionError:
        return False
    return bool(runs) and runs[0] <= (now or timezone.now())


def status_against(desired, live, *, now: datetime | None = None) -> tuple[str, list]:
    from audit.diff import diff

    if live is not None and MISSING_GROUP in live:
        live = None
    if desired is None:
        return (SyncStatus.PENDING, []) if live is None else (SyncStatus.DRIFTED, [])
    if live is None:
        return (SyncStatus.COMPLETED if completed(desired, now=now) else SyncStatus.MISSING), []
    if in_sync(desired, live):
        return SyncStatus.IN_SYNC, []
    live_view = comparable({k: v for k, v in live.items() if k not in ("Arn", aws_reader.MODIFIED)})
    return SyncStatus.DRIFTED, diff(comparable(desired), live_view)


def denormalise(schedule: Schedule, spec: dict[str, Any] | None, *, now: datetime | None = None) -> None:
    spec = spec or {}
    schedule.state = spec.get("State", "ENABLED") if spec else ""
    schedule.expression = spec.get("ScheduleExpression", "")
    schedule.timezone = spec.get("ScheduleExpressionTimezone", "")
    schedule.target_arn = (spec.get("Target") or {}).get("Arn", "")
    schedule.description = spec.get("Description", "")
    schedule.start_date = parse_date(spec.get("StartDate"))
    schedule.end_date = parse_date(spec.get("EndDate"))
    schedule.action_after_completion = spec.get("ActionAfterCompletion", "") if spec else ""
    schedule.next_run = (None if schedule.sync_status == SyncStatus.COMPLETED
                         else next_run_of(spec, now=now, anchor=schedule.last_applied))


def on_applied(change, live: dict[str, Any] | None) -> None:
    schedule = change.schedule
    if schedule is None:
        return
    if change.action == ChangeAction.DELETE:
        schedule.delete()
        return
    live, schedule.live_modified = aws_reader.split_modified(live)
    spec = canonical_schedule_spec(change.spec)
    schedule.desired_spec = spec
    schedule.live_spec = live
    schedule.last_applied = schedule.last_polled = timezone.now()
    schedule.sync_status, schedule.drift = status_against(spec, live)
    denormalise(schedule, spec)
    schedule.save()


def on_failed(change) -> None:
    if change.schedule_id:
        Schedule.objects.filter(pk=change.schedule_id).update(sync_status=SyncStatus.FAILED)


def discard_unapplied(change) -> None:
    """A create change that never reached AWS: its placeholder Schedule row goes (unless another change uses it)."""
    schedule = change.schedule
    if schedule is None or schedule.version > 0:
        return
    if not schedule.changes.exclude(pk=change.pk).filter(state__in=OPEN_STATES).exists():
        change.schedule = None
        change.save(update_fields=["schedule"])
        schedule.delete()


__all__ = ["validate", "object_name", "ensure_object", "read_live", "plan", "check_response", "on_applied",
           "on_failed", "discard_unapplied", "status_against", "denormalise", "runs_of", "next_run_of", "completed",
           "comparable"]


def wizard_from_spec(spec: dict[str, Any], *, environment) -> dict[str, Any]:
    from .wizard import wizard_from_spec as build

    return build(spec, environment=environment)


def with_state(spec: dict[str, Any], state: str) -> dict[str, Any]:
    return {**spec, "State": state}


def renamed(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return {**spec, "Name": name}
