"""Poll against a moto server over HTTP: drift within one poll, completed one-time schedules, API calls."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from changes import services
from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.polling import objects_poll
from changes.tasks import objects_poll as objects_poll_task
from environments import aws
from schedules.kind import denormalise
from schedules.models import Schedule
from schedules.plan import body
from schedules.spec import canonical_schedule_spec
from tests.schedules.test_apply import spec, submit_and_apply

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def test_a_change_made_directly_in_aws_is_drift_within_one_poll(users, environment):
    # given a managed schedule, in sync, and an open draft based on it
    created = submit_and_apply(users["operator"], environment, spec())
    schedule = Schedule.objects.get(pk=created.schedule_id)
    draft = services.change_request_draft_create(kind="schedule", action=ChangeAction.UPDATE, environment=environment,
                                                 author=users["operator"], spec=schedule.desired_spec, target=schedule)
    # when someone changes it in AWS, outside EventConsole
    scheduler = aws.client(environment, "scheduler")
    live = scheduler.get_schedule(Name=schedule.name)
    scheduler.update_schedule(Name=schedule.name, ScheduleExpression="cron(0 1 * * ? *)",
                              ScheduleExpressionTimezone=live["ScheduleExpressionTimezone"],
                              FlexibleTimeWindow=live["FlexibleTimeWindow"], Target=live["Target"])
    report = objects_poll(environment, "schedule")
    # then the first poll sees it
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.DRIFTED and report.drifted == 1
    assert {d["path"] for d in schedule.drift} == {"ScheduleExpression"}
    assert report.api_calls == 2 and report.reads == 1  # ListSchedules, then GetSchedule for the changed one
    event = AuditEvent.objects.get(action="drift.detected", object_id=str(schedule.pk))
    assert "differs from the desired spec in 1 field" in event.message
    draft.refresh_from_db()
    assert draft.state == ChangeState.STALE
    # when it is put back
    scheduler.update_schedule(**body(schedule.desired_spec))
    objects_poll(environment, "schedule")
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.IN_SYNC and schedule.drift == []
    assert AuditEvent.objects.filter(action="drift.cleared", object_id=str(schedule.pk)).count() == 1


def test_a_steady_environment_costs_one_list_call_per_group_page(users, environment):
    for name in ("a", "b", "c"):
        submit_and_apply(users["operator"], environment, spec(name=name))
    report = objects_poll(environment, "schedule")
    assert (report.objects, report.in_sync, report.api_calls, report.reads) == (3, 3, 1, 0)
    assert report.changed == []


def test_a_schedule_deleted_in_aws_is_missing(users, environment):
    created = submit_and_apply(users["operator"], environment, spec())
    aws.client(environment, "scheduler").delete_schedule(Name="Start_batch_server_11PM")
    objects_poll_task(environment.pk, "schedule")  # the beat task, run in-process
    schedule = Schedule.objects.get(pk=created.schedule_id)
    assert schedule.sync_status == SyncStatus.MISSING and schedule.live_spec is None
    assert AuditEvent.objects.filter(action="drift.detected", object_id=str(schedule.pk)).exists()


def test_a_one_time_schedule_deleted_after_its_run_is_completed_not_drift(users, environment):
    # given a one-time schedule, 2 hours ahead in London, deleted by AWS after it runs
    run_at = (timezone.now() + timedelta(hours=2)).astimezone(ZoneInfo("Europe/London")).replace(second=0,
                                                                                                microsecond=0)
    once = spec(name="once", ScheduleExpression=f"at({run_at.replace(tzinfo=None).isoformat()})",
                ActionAfterCompletion="DELETE")
    created = submit_and_apply(users["operator"], environment, once)
    schedule = Schedule.objects.get(pk=created.schedule_id)
    assert schedule.next_run == run_at
    # moto never fires a schedule, so never deletes one after its run (docs/aws-behaviours.md,
    # "Local emulator (moto)"): the test deletes it as AWS would, and polls as if after the run time.
    aws.client(environment, "scheduler").delete_schedule(Name="once")
    # when polled before its time, its absence is drift ...
    objects_poll(environment, "schedule", now=run_at - timedelta(minutes=1))
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.MISSING
    # ... and after its time it is completed, and the drift clears
    report = objects_poll(environment, "schedule", now=run_at + timedelta(minutes=1))
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.COMPLETED and report.completed == 1
    assert schedule.next_run is None
    assert AuditEvent.objects.filter(action="drift.cleared", object_id=str(schedule.pk)).exists()


def test_completed_straight_away_raises_no_drift(users, environment):
    run_at = timezone.now() + timedelta(hours=1)
    once = spec(name="once", ScheduleExpression=f"at({run_at.strftime('%Y-%m-%dT%H:%M:00')})",
                ScheduleExpressionTimezone="UTC", ActionAfterCompletion="DELETE")
    created = submit_and_apply(users["operator"], environment, once)
    aws.client(environment, "scheduler").delete_schedule(Name="once")  # as AWS would after the run (moto never runs it)
    objects_poll(environment, "schedule", now=run_at + timedelta(minutes=5))
    schedule = Schedule.objects.get(pk=created.schedule_id)
    assert schedule.sync_status == SyncStatus.COMPLETED
    assert not AuditEvent.objects.filter(action="drift.detected", object_id=str(schedule.pk)).exists()


def test_a_recurring_schedule_deleted_after_its_end_date_is_completed_and_without_one_missing(users, environment):
    # AWS deletes a recurring schedule with ActionAfterCompletion DELETE after its last run, the one closest to
    # its EndDate; one without an EndDate it never deletes, so its absence is drift.
    end = (timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
    ending = submit_and_apply(users["operator"], environment, spec(
        name="ending", ActionAfterCompletion="DELETE", EndDate=end.strftime("%Y-%m-%dT%H:%M:%SZ")))
    endless = submit_and_apply(users["operator"], environment, spec(name="endless", ActionAfterCompletion="DELETE"))
    scheduler = aws.client(environment, "scheduler")
    for name in ("ending", "endless"):
        scheduler.delete_schedule(Name=name)  # as AWS would (moto never runs a schedule)
    objects_poll(environment, "schedule", now=end - timedelta(minutes=1))
    assert Schedule.objects.get(pk=ending.schedule_id).sync_status == SyncStatus.MISSING  # before its end: drift
    objects_poll(environment, "schedule", now=end + timedelta(minutes=1))
    assert Schedule.objects.get(pk=ending.schedule_id).sync_status == SyncStatus.COMPLETED
    assert Schedule.objects.get(pk=endless.schedule_id).sync_status == SyncStatus.MISSING


def test_poll_pages_through_more_than_a_hundred_and_reads_only_what_changed(environment):
    # given 105 schedules created in AWS and registered here without a live snapshot yet
    scheduler = aws.client(environment, "scheduler")
    for index in range(105):
        desired = canonical_schedule_spec(spec(name=f"s{index:03d}"))
        scheduler.create_schedule(**body(desired))
        row = Schedule(environment=environment, name=desired["Name"], group_name="default", desired_spec=desired,
                       version=1, sync_status=SyncStatus.PENDING)
        denormalise(row, desired)
        row.save()
    # when polled twice
    first = objects_poll(environment, "schedule")
    second = objects_poll(environment, "schedule")
    # then the first poll reads every schedule once, the second only lists
    assert (first.objects, first.in_sync, first.reads, first.api_calls) == (105, 105, 105, 2 + 105)
    assert (second.in_sync, second.reads, second.api_calls) == (105, 0, 2)
    assert Schedule.objects.filter(sync_status=SyncStatus.IN_SYNC, last_polled__isnull=False).count() == 105
