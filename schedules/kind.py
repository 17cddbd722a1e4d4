"""The change engine's view of schedules (see changes.kinds.KindHandler)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from awslang import expressions
from changes import objects
from changes.calls import ApiCall
from changes.choices import SyncStatus

from . import aws_reader
from .models import Schedule
from .plan import MISSING_GROUP, in_sync
from .plan import plan as schedule_plan
from .runs import next_run_of
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
    name, group = _key(change)
    return objects.ensure_object(change, key={"group_name": group, "name": name},
                                 taken=f"A schedule named {name} is already managed in group {group} in "
                                       f"{change.environment.name}.")


def read_live(environment, change) -> dict[str, Any] | None:
    name, group = _key(change)
    return aws_reader.read_schedule(environment, name=name, group=group)


def plan(desired, live, *, change) -> list[ApiCall]:
    return schedule_plan(desired, live, change_id=change.pk)


def check_response(call: ApiCall, response: dict[str, Any]) -> None:
    """Scheduler calls succeed or raise; there are no partial failures."""


# ---------------------------------------------------------------------------------------------
# Status, denormalised fields and polling (see changes.polling)
# ---------------------------------------------------------------------------------------------
canonical = canonical_schedule_spec

# What read_polled, split_live and polled_fields need besides the fields every kind has.
POLL_FIELDS = ("name", "group_name", "live_modified", "next_run", "state", "last_applied")
POLL_SERVICES = aws_reader.POLL_SERVICES
read_polled = aws_reader.read_polled


def split_live(live: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The snapshot without its LastModificationDate, which is stored on its own (live_modified)."""
    snapshot, modified = aws_reader.split_modified(live)
    return snapshot, {"live_modified": modified}


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


def status_against(desired, live, *, environment=None, now: datetime | None = None) -> tuple[str, list]:
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


def polled_fields(schedule: Schedule, status: str, *, now: datetime) -> dict[str, Any]:
    """What changes with time alone: the next run (a run passed since the last poll)."""
    return {"next_run": None if status == SyncStatus.COMPLETED
            else next_run_of(schedule.desired_spec, now=now, anchor=schedule.last_applied)}


# ---------------------------------------------------------------------------------------------
# What the flow needs
# ---------------------------------------------------------------------------------------------
def upcoming_runs(spec: dict[str, Any] | None, *, now: datetime, count: int) -> list[datetime]:
    """When the proposed spec would fire, in its time zone: shown to reviewers on the change's page."""
    spec = spec or {}
    try:
        return expressions.next_runs(spec.get("ScheduleExpression", ""), spec.get("ScheduleExpressionTimezone") or "UTC",
                                     now, count)
    except (expressions.ExpressionError, ValueError):
        return []


def wizard_from_spec(spec: dict[str, Any], *, environment) -> dict[str, Any]:
    from .wizard import wizard_from_spec as build

    return build(spec, environment=environment)


def with_state(spec: dict[str, Any], state: str) -> dict[str, Any]:
    return {**spec, "State": state}


def renamed(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return {**spec, "Name": name}
