"""A schedule's runs: invoking its target once (Run now), and the local emulator firing schedules at their times.

Both go through one function, `_invoke`, which calls `delivery.invoke.target_invoke` with the schedule's
target as AWS has it, Scheduler's context attributes filled in, and records a `ScheduleRun` with its audit
event (what was sent, AWS's answer or error) in one transaction.

- Run now (`schedule_run_now`): a person waits, so the call is made inline within the page's AWS budget
  (`environments.aws.interactive_budget`); a call the budget cut short is recorded as such.
- The emulator's firing (`schedules_fire_due`, beat every SCHEDULES_EMULATOR_FIRE_SECONDS): only in local
  mode and only for environments whose calls go to an emulator (`Environment.is_emulated`); never real AWS,
  where Scheduler does the firing. Each due (schedule, scheduled time) is claimed first by inserting its run
  row, which a unique constraint admits once: two beats or workers never fire it twice.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from changes.choices import SyncStatus
from delivery.invoke import InvokeResult, target_invoke
from environments import aws, ratelimit

from . import targets
from .models import Schedule, ScheduleRun
from .runs import runs_of, spec_of
from .aws_reader import not_found
from .spec import ended_by, is_one_time

log = logging.getLogger(__name__)

__all__ = ["run_spec", "schedule_arn", "schedule_run_now", "schedule_fire", "schedules_fire_due", "FIRE_CATCH_UP",
           "RUNS_SHOWN"]

# Runs due longer ago than this when a beat looks (no worker was running) are skipped, not made up.
FIRE_CATCH_UP = timedelta(minutes=5)
FIRE_MAX_PER_SCHEDULE = 10  # runs of one schedule fired by one beat at most
RUNS_SHOWN = 10  # on the schedule's page
# Schedules that exist in AWS as EventConsole applied them (or as AWS has them, drifted).
FIRED_STATUSES = (SyncStatus.IN_SYNC, SyncStatus.DRIFTED)
DELETED_NOTE = "The schedule was deleted after its last run (action after completion: DELETE)."


def run_spec(schedule: Schedule) -> dict[str, Any]:
    """The schedule as AWS has it (its live snapshot), else as EventConsole applied it."""
    for spec in (schedule.live_spec, schedule.desired_spec):
        if isinstance(spec, dict) and isinstance(spec.get("Target"), dict) and spec["Target"].get("Arn"):
            return spec
    return {}


def schedule_arn(schedule: Schedule, spec: dict[str, Any] | None = None) -> str:
    arn = (spec or {}).get("Arn") or (schedule.live_spec or {}).get("Arn")
    if arn:
        return arn
    environment = schedule.environment
    return (f"arn:aws:scheduler:{environment.region}:{environment.account_id or '000000000000'}:schedule/"
            f"{schedule.group_name}/{schedule.name}")


def _invoke(schedule: Schedule, spec: dict[str, Any], run: ScheduleRun, *, interactive: bool) -> InvokeResult:
    context = {"schedule_arn": schedule_arn(schedule, spec), "scheduled_time": run.scheduled_time,
               "execution_id": run.execution_id, "attempt_number": 1}
    return target_invoke(schedule.environment, spec["Target"], None, context=context, interactive=interactive)


def _record(schedule: Schedule, run: ScheduleRun, result: InvokeResult, *, actor=None, note: str = "") -> ScheduleRun:
    """Store the result on the run and write its audit event, in one transaction."""
    run.ok, run.api, run.request, run.response = result.ok, result.api, result.request, result.response
    run.error_code, run.error_words, run.note = result.error_code[:128], result.error_words, note[:300]
    label = targets.describe_target(schedule.target_arn or (result.request or {}).get("target", ""))
    outcome = "succeeded" if result.ok else f"failed: {result.error_words}"
    when = run.scheduled_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    message = (f"Run now: {label} {outcome}" if run.trigger == ScheduleRun.RUN_NOW
               else f"Fired by the emulator for {when}: {label} {outcome}") + (f" {note}" if note else "")
    with transaction.atomic():
        run.save()
        audit_record(action=AuditAction.SCHEDULE_RUN, object_type=ObjectType.SCHEDULE, object_id=schedule.pk,
                     object_repr=schedule.object_name, actor=actor, environment=schedule.environment,
                     message=message, with_diff=False,
                     data={"trigger": run.trigger, "scheduled_time": run.scheduled_time.isoformat(),
                           "execution_id": run.execution_id, **result.as_dict()})
    return run


# ---------------------------------------------------------------------------------------------
# Run now
# ---------------------------------------------------------------------------------------------
class RunRefused(Exception):
    """Why this schedule cannot be run now, in words."""


def run_now_problem(schedule: Schedule) -> str:
    """Why Run now is not offered for this schedule ("" when it is)."""
    if not schedule.is_managed:
        return "EventConsole does not manage this schedule."
    if schedule.sync_status in (SyncStatus.PENDING, SyncStatus.MISSING, SyncStatus.COMPLETED):
        return "The schedule is not in AWS, so there is nothing to run."
    if not run_spec(schedule):
        return "The schedule has no target to invoke."
    return ""


def schedule_run_now(schedule: Schedule, *, actor) -> ScheduleRun:
    """Invoke the schedule's target once now, as Scheduler would, within the page's AWS budget; record and
    audit the run. Raises RunRefused when the schedule cannot be run."""
    problem = run_now_problem(schedule)
    if problem:
        raise RunRefused(problem)
    spec = run_spec(schedule)
    now = timezone.now()
    run = ScheduleRun(schedule=schedule, time=now, trigger=ScheduleRun.RUN_NOW, actor=actor,
                      scheduled_time=now.replace(microsecond=0), execution_id=str(uuid.uuid4()))
    result = _invoke(schedule, spec, run, interactive=True)
    return _record(schedule, run, result, actor=actor)


# ---------------------------------------------------------------------------------------------
# The emulator fires schedules
# ---------------------------------------------------------------------------------------------
@dataclass
class FireReport:
    fired: int = 0
    failed: int = 0
    skipped: int = 0  # already fired by another beat or worker
    completed: int = 0  # one-time schedules deleted after their run


def _claim(schedule: Schedule, scheduled_time: datetime) -> ScheduleRun | None:
    """The run row for (schedule, scheduled time), inserted now; None when another beat or worker has it."""
    try:
        with transaction.atomic():
            return ScheduleRun.objects.create(
                schedule=schedule, time=timezone.now(), trigger=ScheduleRun.EMULATOR, scheduled_time=scheduled_time,
                execution_id=str(uuid.uuid4()))
    except IntegrityError:
        return None


def _delete_after_completion(schedule: Schedule) -> str:
    """ActionAfterCompletion DELETE: the schedule whose last run has passed (a one-time schedule after its run, a
    recurring one at its EndDate) is deleted in the emulator, as Scheduler deletes it, and recorded as the app
    models it (completed)."""
    try:
        aws.client(schedule.environment, "scheduler").delete_schedule(Name=schedule.name,
                                                                      GroupName=schedule.group_name)
    except (ClientError, BotoCoreError, ratelimit.RateLimitExceeded, ratelimit.RateLimitUnavailable) as exc:
        if not (isinstance(exc, ClientError) and not_found(exc)):  # already gone: fine
            return f"Deleting the schedule after its last run failed: {aws.describe_error(exc)}"
    Schedule.objects.filter(pk=schedule.pk).update(sync_status=SyncStatus.COMPLETED, next_run=None, live_spec=None,
                                                   drift=[])
    return DELETED_NOTE


def schedule_fire(schedule: Schedule, scheduled_time: datetime, *, spec: dict[str, Any] | None = None
                  ) -> ScheduleRun | None:
    """Fire one run of the schedule for `scheduled_time`, once: None when it was already fired."""
    if not schedule.environment.is_emulated:
        raise ValueError("Only schedules of emulated environments are fired by EventConsole.")
    spec = spec or run_spec(schedule)
    run = _claim(schedule, scheduled_time)
    if run is None:
        return None
    result = _invoke(schedule, spec, run, interactive=False)
    note = ""
    if is_one_time(spec) and spec.get("ActionAfterCompletion") == "DELETE":
        note = _delete_after_completion(schedule)
    return _record(schedule, run, result, note=note)


def due_times(schedule: Schedule, spec: dict[str, Any], *, now: datetime, last_fired: datetime | None
              ) -> list[datetime]:
    """The scheduled times (UTC) of `spec` that have come by `now` and were not fired yet: after the last run
    fired, after the schedule was applied, and within FIRE_CATCH_UP."""
    since = max(t for t in (last_fired, schedule.last_applied, now - FIRE_CATCH_UP) if t is not None)
    runs = runs_of(spec, count=FIRE_MAX_PER_SCHEDULE, now=since, anchor=schedule.last_applied,
                   until=now + timedelta(microseconds=1))
    return [run.astimezone(UTC) for run in runs if run <= now]


def schedules_fire_due(*, now: datetime | None = None) -> FireReport:
    """Beat (local mode only): fire every enabled managed schedule of the emulated environments whose time has
    come, with the same code as Run now, honouring its time zone, start and end dates and action after
    completion."""
    report = FireReport()
    if not settings.LOCAL_MODE:
        return report
    now = now or timezone.now()
    # The JSON specs are read only for the schedules with a run due: an in-sync schedule's times come from its
    # denormalised columns (schedules.runs.spec_of), a drifted one's from what AWS has.
    candidates = (Schedule.objects.managed().select_related("environment")
                  .filter(sync_status__in=FIRED_STATUSES).exclude(environment__endpoint_url="")
                  .annotate(last_fired=Max("runs__scheduled_time", filter=Q(runs__trigger=ScheduleRun.EMULATOR)))
                  .defer("desired_spec", "live_spec", "drift").order_by("pk"))
    for schedule in candidates:  # emulated environments only: their endpoint is set (the query's exclude)
        times = spec_of(schedule) if schedule.sync_status == SyncStatus.IN_SYNC else run_spec(schedule)
        due = due_times(schedule, times, now=now, last_fired=schedule.last_fired)
        ended = not is_one_time(times) and ended_by(times, now)
        spec = run_spec(schedule) if due or ended else {}
        if not spec:
            continue
        for scheduled_time in due:
            run = schedule_fire(schedule, scheduled_time, spec=spec)
            if run is None:
                report.skipped += 1
                continue
            report.fired += 1
            report.failed += not run.ok
            report.completed += run.note == DELETED_NOTE
            log.info("%s", run)
        if ended and spec.get("ActionAfterCompletion") == "DELETE":
            report.completed += _complete_at_end_date(schedule, spec)
    return report


def _complete_at_end_date(schedule: Schedule, spec: dict[str, Any]) -> bool:
    """A recurring schedule with ActionAfterCompletion DELETE whose EndDate has passed made its last run (the one
    closest to its EndDate): delete it in the emulator, as Scheduler would, and say so in the audit."""
    note = _delete_after_completion(schedule)
    if note != DELETED_NOTE:
        log.warning("%s: %s (the next beat tries again)", schedule, note)
        return False
    message = (f"The local emulator deleted {schedule.object_name} after its last run: its EndDate "
               f"{spec.get('EndDate')} has passed (action after completion: DELETE)")
    audit_record(action=AuditAction.SCHEDULE_COMPLETED, object_type=ObjectType.SCHEDULE, object_id=schedule.pk,
                 object_repr=schedule.object_name, environment=schedule.environment, message=message,
                 with_diff=False, data={"end_date": str(spec.get("EndDate"))})
    log.info("%s", message)
    return True


def recent_runs(schedule: Schedule, count: int = RUNS_SHOWN) -> list[ScheduleRun]:
    return list(schedule.runs.select_related("actor")[:count])
