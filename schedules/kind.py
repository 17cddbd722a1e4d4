"""The change engine's view of schedules (see changes.kinds.KindHandler)."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from django.utils import timezone

from awslang import expressions
from changes import objects
from changes.calls import ApiCall
from changes.choices import ChangeAction, SyncStatus
from changes.review_difference import RUNS_SHOWN, ReviewParts
from changes.search import search_lines
from delivery import roles
from environments import aws

from . import aws_reader
from .models import Schedule
from .plan import MISSING_GROUP, in_sync
from .plan import plan as schedule_plan
from .runs import next_run_of, runs_of
from .spec import canonical_schedule_spec, comparable, ended_by, is_one_time, parse_date, validate_schedule_spec

log = logging.getLogger(__name__)


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


# ---------------------------------------------------------------------------------------------
# The execution role (delivery.roles): read with the schedule, planned before it
#
# read_live adds what IAM has for the schedule's role under ROLE (the desired spec's role, or the
# live schedule's when deleting); `_parts` takes it out again before anything compares schedules.
# A new role is asked for in the Settings step ("Create new role for this schedule"): its name is
# the last segment of the spec's RoleArn, and the step's choice is kept in the draft's form inputs.
#
# Deleting a schedule deletes its role only when the role is ours and unused: IAM's tag says
# EventConsole created it for this very schedule (group/name), and no other schedule EventConsole
# manages in the environment names it (desired or live). Schedules EventConsole does not manage
# cannot be checked cheaply (ListSchedules does not return the role); a role made for one schedule
# and named after the console's convention is not expected to be shared. Any other role is kept.
# ---------------------------------------------------------------------------------------------
ROLE = "ExecutionRole"


def _parts(live: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the schedule part of read_live's answer (None: missing), what IAM has for its role)."""
    if live is None:
        return None, None
    role = live.get(ROLE)
    rest = {k: v for k, v in live.items() if k != ROLE}
    return (rest or None), role


def _setting(change, name: str) -> str:
    values = ((change.wizard or {}).get("settings") or {}).get(f"settings-{name}") or [""]
    return values[-1] if isinstance(values, list) else str(values)


def wants_new_role(change) -> bool:
    from .forms.settings import ROLE_NEW

    return change.action != ChangeAction.DELETE and _setting(change, "role_mode") == ROLE_NEW


DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def _read_role(environment, arn: str) -> dict[str, Any] | None:
    """What IAM has for the role (delivery.roles.read_role); None when it is missing, in another
    account, or when these credentials may not read IAM (the schedule is still applied: IAM itself
    is only needed to create or delete a role EventConsole makes)."""
    name = roles.role_name_of(arn)
    if not name or (environment.account_id and roles.role_account_of(arn) != environment.account_id):
        return None  # another account's role: not ours to read or create
    try:
        return roles.read_role(aws.client(environment, "iam"), name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in DENIED:
            log.warning("Role %s could not be read: %s", arn, aws.describe_error(exc))
            return None
        raise


def read_live(environment, change) -> dict[str, Any] | None:
    name, group = _key(change)
    live = aws_reader.read_schedule(environment, name=name, group=group)
    if change.action == ChangeAction.DELETE:
        arn = ((live or {}).get("Target") or {}).get("RoleArn", "")
    else:
        arn = ((change.spec or {}).get("Target") or {}).get("RoleArn", "")
    role = _read_role(environment, arn) if arn else None
    if role is None:
        return live
    return {**(live or {}), ROLE: role}


def new_role_for(spec: dict[str, Any], environment) -> roles.NewRole:
    """The role "Create new role for this schedule" makes: trust for Scheduler from this account's
    schedule group, permissions for the target (and the DLQ and KMS key where set)."""
    target = spec.get("Target") or {}
    group = spec.get("GroupName") or "default"
    name = roles.role_name_of(target.get("RoleArn", ""))
    return roles.NewRole(
        name=name, policy_name=roles.SCHEDULER_POLICY_NAME, created_for=f"{group}/{spec.get('Name', '')}",
        trust=roles.scheduler_trust_policy(account_id=environment.account_id, region=environment.region,
                                           group=group),
        permissions=roles.scheduler_permissions_policy(target, kms_key_arn=spec.get("KmsKeyArn", "")),
        description=f"EventBridge Scheduler execution role for schedule {group}/{spec.get('Name', '')}")


def role_is_ours_and_unused(change, role: dict[str, Any] | None) -> bool:
    if not role or change.schedule_id is None:
        return False
    name, group = _key(change)
    if roles.created_for(role) != f"{group}/{name}":
        return False
    others = Schedule.objects.filter(environment=change.environment).exclude(pk=change.schedule_id)
    for desired, live in others.values_list("desired_spec", "live_spec"):
        for spec in (desired, live):
            if ((spec or {}).get("Target") or {}).get("RoleArn") == role["arn"]:
                return False
    return True


def plan(desired, live, *, change) -> list[ApiCall]:
    schedule, role = _parts(live)
    if desired is None:
        return schedule_plan(None, schedule, change_id=change.pk, role_live=role,
                             delete_role=role_is_ours_and_unused(change, role))
    new_role = None
    if wants_new_role(change) and roles.role_name_of((desired.get("Target") or {}).get("RoleArn", "")):
        new_role = new_role_for(desired, change.environment)
    return schedule_plan(desired, schedule, change_id=change.pk, new_role=new_role, role_live=role,
                         role_context=role_context(change.environment, desired.get("GroupName") or "default"))


def role_context(environment, group: str) -> dict[str, str] | None:
    """What Scheduler's trust conditions are checked against (None: the account is not known)."""
    if not environment.account_id:
        return None
    return roles.scheduler_context(account_id=environment.account_id, region=environment.region, group=group)


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
    live, _ = _parts(live)
    snapshot, modified = aws_reader.split_modified(live)
    return snapshot, {"live_modified": modified}


def completed(desired: dict[str, Any] | None, *, now: datetime | None = None) -> bool:
    """A schedule that AWS deletes after its last run (ActionAfterCompletion DELETE) whose last run has passed:
    a one-time schedule after its time; a recurring one after its EndDate (without an EndDate AWS never deletes
    it). Its absence in AWS then means it completed, not that someone removed it."""
    if (desired or {}).get("ActionAfterCompletion") != "DELETE":
        return False
    now = now or timezone.now()
    if not is_one_time(desired):
        return ended_by(desired, now)
    try:
        runs = expressions.next_runs(desired["ScheduleExpression"], desired.get("ScheduleExpressionTimezone") or "UTC",
                                     datetime(1970, 1, 1, tzinfo=UTC), 1)
    except expressions.ExpressionError:
        return False
    return bool(runs) and runs[0] <= now


def status_against(desired, live, *, environment=None, now: datetime | None = None) -> tuple[str, list]:
    from audit.diff import diff

    live, _ = _parts(live)
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
    # The inventory search's columns (changes.search): expression and time zone, target and DLQ ARNs, the
    # execution role (schedules have no tags).
    target = spec.get("Target") if isinstance(spec.get("Target"), dict) else {}
    schedule.search_pattern = search_lines([spec.get("ScheduleExpression"), spec.get("ScheduleExpressionTimezone")])
    schedule.search_targets = search_lines([target.get("Arn"), (target.get("DeadLetterConfig") or {}).get("Arn")])
    schedule.search_roles = search_lines([target.get("RoleArn")])
    schedule.search_tags = search_lines([f"{t.get('Key', '')}={t.get('Value', '')}"
                                         for t in spec.get("Tags") or [] if isinstance(t, dict)])


def polled_fields(schedule: Schedule, status: str, *, now: datetime) -> dict[str, Any]:
    """What changes with time alone: the next run (a run passed since the last poll)."""
    return {"next_run": None if status == SyncStatus.COMPLETED
            else next_run_of(schedule.desired_spec, now=now, anchor=schedule.last_applied)}


# ---------------------------------------------------------------------------------------------
# What the flow needs
# ---------------------------------------------------------------------------------------------
def review_parts(spec: dict[str, Any] | None, *, now: datetime) -> ReviewParts:
    """The schedule as a reviewer reads it: its expression (in words, with the next runs in its time
    zone), its one target, and its other settings."""
    spec = spec if isinstance(spec, dict) else {}
    target = spec.get("Target") if isinstance(spec.get("Target"), dict) else {}
    readable = all(isinstance(spec.get(k, ""), str) for k in ("ScheduleExpression", "ScheduleExpressionTimezone"))
    runs = runs_of(spec, count=RUNS_SHOWN, now=now) if readable else []
    if spec.get("State", "ENABLED") != "ENABLED":
        note = "Disabled: it does not run."
    else:
        note = "" if runs else "No run ahead: it never fires, or its time or end date has passed."
    return ReviewParts(expression=str(spec.get("ScheduleExpression") or ""),
                       timezone=str(spec.get("ScheduleExpressionTimezone") or "UTC"), runs=runs, runs_note=note,
                       targets={"Target": target} if target else {},
                       settings={k: v for k, v in spec.items()
                                 if k not in ("Target", "ScheduleExpression", "ScheduleExpressionTimezone")})


def wizard_from_spec(spec: dict[str, Any], *, environment) -> dict[str, Any]:
    from .wizard import wizard_from_spec as build

    return build(spec, environment=environment)


def with_state(spec: dict[str, Any], state: str) -> dict[str, Any]:
    return {**spec, "State": state}


def renamed(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return {**spec, "Name": name}


# ---------------------------------------------------------------------------------------------
# Discovery (inventory.discovery)
# ---------------------------------------------------------------------------------------------
discover = aws_reader.discover
DISCOVER_FIELDS = aws_reader.DISCOVER_FIELDS
DISCOVER_SERVICES = aws_reader.DISCOVER_SERVICES
stack_key = aws_reader.stack_key
