"""The local emulator fires schedules at their times (schedules.invocations.schedules_fire_due), against a moto
server over HTTP: schedules applied through the change engine, an SQS queue as the target, and the beat's
"now" given explicitly (times are computed from the expressions by hand below, never by the code under test)."""
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from audit.models import AuditEvent
from changes import apply, services
from changes.choices import ChangeAction, ChangeState, SyncStatus
from environments import aws
from environments.models import Environment
from schedules.invocations import schedule_fire, schedules_fire_due
from schedules.models import Schedule, ScheduleRun

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ROLE = "arn:aws:iam::123456789012:role/Scheduler_SQS_Role"


@pytest.fixture
def inbox(environment):
    sqs = aws.client(environment, "sqs")
    url = sqs.create_queue(QueueName="Inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"url": url, "arn": arn}


def messages(environment, inbox):
    found = aws.client(environment, "sqs").receive_message(QueueUrl=inbox["url"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def applied(users, environment, inbox, name="Nightly", *, expression="cron(0 23 * * ? *)", zone="Europe/London",
            **fields) -> Schedule:
    spec = {"Name": name, "GroupName": "default", "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": zone, "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": inbox["arn"], "RoleArn": ROLE,
                       "Input": '{"at": "<aws.scheduler.scheduled-time>", "run": "<aws.scheduler.execution-id>"}'},
            "ActionAfterCompletion": "NONE", "State": "ENABLED", **fields}
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.CREATE,
                                                  environment=environment, author=users["operator"], spec=spec)
    services.change_request_submit(change, actor=users["operator"])
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED, change.last_error
    return Schedule.objects.get(pk=change.schedule_id)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def next_23h(zone: str, after: datetime) -> datetime:
    """The first 23:00 wall-clock time in `zone` after `after` (cron(0 23 * * ? *)), in UTC."""
    local = after.astimezone(ZoneInfo(zone))
    candidate = local.replace(hour=23, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(hour=23, minute=0, second=0, microsecond=0)
    return candidate.astimezone(UTC)


def test_a_due_run_fires_once_with_the_context_attributes_and_is_recorded_and_audited(users, environment, inbox):
    schedule = applied(users, environment, inbox)
    due = next_23h("Europe/London", datetime.now(UTC))
    # a beat just before the time fires nothing
    assert schedules_fire_due(now=due - timedelta(seconds=5)).fired == 0
    assert messages(environment, inbox) == []
    # a beat just after it fires the run
    report = schedules_fire_due(now=due + timedelta(seconds=7))
    assert (report.fired, report.failed) == (1, 0)
    [run] = ScheduleRun.objects.filter(schedule=schedule)
    assert run.trigger == ScheduleRun.EMULATOR and run.ok is True and run.actor is None
    assert run.scheduled_time == due and run.api == "sqs:SendMessage"
    assert messages(environment, inbox) == [{"at": iso(due), "run": run.execution_id}]
    event = AuditEvent.objects.filter(action="schedule.run", object_id=str(schedule.pk)).get()
    assert event.actor_name == "system" and event.message.startswith("Fired by the emulator for ")
    assert json.loads(event.data["request"]["params"]["MessageBody"]) == {"at": iso(due), "run": run.execution_id}
    # the next beat (and a second one at the same moment) fires nothing more
    assert schedules_fire_due(now=due + timedelta(seconds=17)).fired == 0
    assert schedules_fire_due(now=due + timedelta(seconds=17)).fired == 0
    assert ScheduleRun.objects.filter(schedule=schedule).count() == 1


def test_the_time_zone_decides_when_it_fires(users, environment, inbox):
    applied(users, environment, inbox, zone="America/New_York")
    london = next_23h("Europe/London", datetime.now(UTC))
    new_york = next_23h("America/New_York", datetime.now(UTC))
    assert london != new_york
    assert schedules_fire_due(now=london + timedelta(seconds=5)).fired == 0
    assert schedules_fire_due(now=new_york + timedelta(seconds=5)).fired == 1


def test_a_disabled_schedule_does_not_fire(users, environment, inbox):
    applied(users, environment, inbox, State="DISABLED")
    due = next_23h("Europe/London", datetime.now(UTC))
    assert schedules_fire_due(now=due + timedelta(seconds=5)).fired == 0
    assert messages(environment, inbox) == []


def test_runs_outside_the_start_and_end_dates_do_not_fire(users, environment, inbox):
    today = next_23h("UTC", datetime.now(UTC))
    # Later starts at the midnight after the second 23:00 ahead; Ending ends an hour after the first
    applied(users, environment, inbox, name="Later", zone="UTC", StartDate=iso(today + timedelta(days=1, hours=1)))
    applied(users, environment, inbox, name="Ending", zone="UTC", EndDate=iso(today + timedelta(hours=1)))
    assert schedules_fire_due(now=today + timedelta(seconds=5)).fired == 1  # Ending's last run; Later not started
    assert schedules_fire_due(now=today + timedelta(days=1, seconds=5)).fired == 0  # Later not started yet
    assert schedules_fire_due(now=today + timedelta(days=2, seconds=5)).fired == 1  # Later only; Ending has ended
    assert list(ScheduleRun.objects.order_by("scheduled_time").values_list("schedule__name", "scheduled_time")) == [
        ("Ending", today), ("Later", today + timedelta(days=2))]


def test_a_one_time_schedule_with_delete_disappears_after_it_fires(users, environment, inbox):
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=30, second=0, microsecond=0)
    schedule = applied(users, environment, inbox, name="Once", zone="UTC",
                       expression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})", ActionAfterCompletion="DELETE")
    assert schedules_fire_due(now=when - timedelta(seconds=1)).fired == 0
    report = schedules_fire_due(now=when + timedelta(seconds=3))
    assert (report.fired, report.completed) == (1, 1)
    with pytest.raises(ClientError) as gone:
        aws.client(environment, "scheduler").get_schedule(Name="Once", GroupName="default")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.COMPLETED and schedule.next_run is None
    run = schedule.runs.get()
    assert run.ok and "deleted after its last run" in run.note
    assert len(messages(environment, inbox)) == 1
    assert schedules_fire_due(now=when + timedelta(minutes=1)).fired == 0  # completed: never again


def test_a_recurring_schedule_with_delete_disappears_once_its_end_date_has_passed(users, environment, inbox):
    # AWS: "A recurring schedule's last invocation is the invocation that occurs closest to the EndDate you
    # specify" and it is deleted after it; "if you configure a schedule with automatic deletion but do not specify
    # a value for EndDate, EventBridge Scheduler does not automatically delete the schedule."
    today = next_23h("UTC", datetime.now(UTC))
    ending = applied(users, environment, inbox, name="Ending", zone="UTC", ActionAfterCompletion="DELETE",
                     EndDate=iso(today + timedelta(hours=1)))
    endless = applied(users, environment, inbox, name="Endless", zone="UTC", ActionAfterCompletion="DELETE")
    report = schedules_fire_due(now=today + timedelta(seconds=5))  # both run at 23:00; Ending's end is at 00:00
    assert (report.fired, report.completed) == (2, 0)
    report = schedules_fire_due(now=today + timedelta(hours=1, seconds=5))
    assert (report.fired, report.completed) == (0, 1)
    scheduler = aws.client(environment, "scheduler")
    with pytest.raises(ClientError) as gone:
        scheduler.get_schedule(Name="Ending", GroupName="default")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert scheduler.get_schedule(Name="Endless", GroupName="default")["Name"] == "Endless"
    ending.refresh_from_db()
    endless.refresh_from_db()
    assert (ending.sync_status, ending.next_run) == (SyncStatus.COMPLETED, None)
    assert endless.sync_status == SyncStatus.IN_SYNC
    event = AuditEvent.objects.get(action="schedule.completed")
    assert event.object_id == str(ending.pk) and "after its last run" in event.message
    # completed: a later beat neither fires it nor deletes anything again
    report = schedules_fire_due(now=today + timedelta(days=1, seconds=5))
    assert (report.fired, report.completed) == (1, 0)  # Endless only
    assert AuditEvent.objects.filter(action="schedule.completed").count() == 1


def test_a_one_time_schedule_without_delete_stays(users, environment, inbox):
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=30, second=0, microsecond=0)
    schedule = applied(users, environment, inbox, name="Once", zone="UTC",
                       expression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})")
    assert schedules_fire_due(now=when + timedelta(seconds=3)).fired == 1
    assert aws.client(environment, "scheduler").get_schedule(Name="Once", GroupName="default")["Name"] == "Once"
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.IN_SYNC


def test_one_scheduled_time_is_fired_at_most_once_even_when_two_beats_claim_it(users, environment, inbox):
    schedule = applied(users, environment, inbox)
    due = next_23h("Europe/London", datetime.now(UTC))
    first = schedule_fire(schedule, due)
    second = schedule_fire(Schedule.objects.get(pk=schedule.pk), due)  # another worker, same time
    assert first is not None and first.ok and second is None
    assert len(messages(environment, inbox)) == 1
    assert schedules_fire_due(now=due + timedelta(seconds=5)).fired == 0


def test_a_failed_target_is_recorded_in_words(users, environment, inbox):
    schedule = applied(users, environment, inbox)
    aws.client(environment, "sqs").delete_queue(QueueUrl=inbox["url"])
    due = next_23h("Europe/London", datetime.now(UTC))
    report = schedules_fire_due(now=due + timedelta(seconds=5))
    assert (report.fired, report.failed) == (1, 1)
    run = schedule.runs.get()
    assert run.ok is False and run.error_code == "AWS.SimpleQueueService.NonExistentQueue"
    assert run.result_words.startswith("AWS returned an error for GetQueueUrl")


def test_only_emulated_environments_and_only_in_local_mode(users, environment, inbox, settings):
    applied(users, environment, inbox)
    due = next_23h("Europe/London", datetime.now(UTC))
    settings.LOCAL_MODE = False
    assert schedules_fire_due(now=due + timedelta(seconds=5)).fired == 0
    settings.LOCAL_MODE = True
    # a schedule of a real AWS environment (no endpoint) is never fired by EventConsole
    real = Environment.objects.create(name="Real", region="us-east-1", account_id="123456789012")
    Schedule.objects.create(environment=real, name="Real", version=1, state="ENABLED", sync_status=SyncStatus.IN_SYNC,
                            desired_spec=Schedule.objects.get(name="Nightly").desired_spec,
                            expression="cron(0 23 * * ? *)", timezone="Europe/London",
                            last_applied=datetime.now(UTC))
    report = schedules_fire_due(now=due + timedelta(seconds=5))
    assert report.fired == 1
    assert list(ScheduleRun.objects.values_list("schedule__environment__name", flat=True)) == ["Sandbox"]
