"""Apply schedules through the change engine against a moto server over HTTP.

Faults are injected at the client factory (a botocore event handler on the real clients), never
by patching our own functions.
"""
import time

import pytest

from changes import apply, services
from changes.choices import AttemptStatus, ChangeAction, ChangeState, SyncStatus
from environments import aws
from schedules.models import Schedule
from tests.support.recording import recorded_calls

pytestmark = [pytest.mark.django_db, pytest.mark.aws]
calls = pytest.fixture(recorded_calls, name="calls")  # every AWS operation called, in order

WRITES = {"CreateSchedule", "UpdateSchedule", "DeleteSchedule", "CreateScheduleGroup", "DeleteScheduleGroup"}
ROLE = "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role"


def spec(name="Start_batch_server_11PM", group="default", **fields):
    return {"Name": name, "GroupName": group, "ScheduleExpression": "cron(0 23 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
                       "Input": '{"InstanceIds": ["i-0123456789abcdef0"]}',
                       "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 0}},
            "ActionAfterCompletion": "NONE", "State": "ENABLED", **fields}


def submit_and_apply(user, environment, desired, *, action=ChangeAction.CREATE, target=None):
    change = services.change_request_draft_create(kind="schedule", action=action, environment=environment,
                                                  author=user, spec=desired, target=target)
    services.change_request_submit(change, actor=user)
    assert change.state == ChangeState.APPROVED
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    return change


def test_create_then_the_same_spec_again_makes_no_write_call(users, environment, calls):
    # when
    first = submit_and_apply(users["operator"], environment, spec())
    # then
    assert first.state == ChangeState.APPLIED, first.last_error
    assert [c for c in calls if c in WRITES] == ["CreateSchedule"]
    assert first.plan[0]["params"]["ClientToken"] == f"eventconsole-change-{first.pk}-create"
    schedule = Schedule.objects.get(pk=first.schedule_id)
    assert schedule.sync_status == SyncStatus.IN_SYNC
    # when the same spec is applied as an update
    calls.clear()
    again = submit_and_apply(users["operator"], environment, schedule.desired_spec, action=ChangeAction.UPDATE,
                             target=schedule)
    # then
    assert again.state == ChangeState.APPLIED and again.plan == []
    assert not [c for c in calls if c in WRITES]


def test_update_sends_the_full_body_so_nothing_is_reset(users, environment, calls):
    # given a schedule with every optional field set
    full = spec(Description="Starts the batch server", StartDate="2031-01-01T08:00:00Z",
                EndDate="2032-01-01T00:00:00Z", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
                KmsKeyArn="arn:aws:kms:us-east-1:123456789012:key/abc-123")
    full["Target"]["DeadLetterConfig"] = {"Arn": "arn:aws:sqs:us-east-1:123456789012:eventconsole-dlq"}
    created = submit_and_apply(users["operator"], environment, full)
    schedule = Schedule.objects.get(pk=created.schedule_id)
    # when only the expression changes
    calls.clear()
    changed = {**schedule.desired_spec, "ScheduleExpression": "cron(30 22 * * ? *)"}
    update = submit_and_apply(users["operator"], environment, changed, action=ChangeAction.UPDATE, target=schedule)
    # then one UpdateSchedule carrying every field (UpdateSchedule resets whatever it is not given)
    assert update.state == ChangeState.APPLIED, update.last_error
    assert [c for c in calls if c in WRITES] == ["UpdateSchedule"]
    params = update.plan[0]["params"]
    for key in ("Name", "GroupName", "Description", "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate",
                "EndDate", "FlexibleTimeWindow", "Target", "ActionAfterCompletion", "State", "KmsKeyArn"):
        assert key in params, key
    assert params["Target"]["DeadLetterConfig"] and params["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    got = aws.client(environment, "scheduler").get_schedule(Name="Start_batch_server_11PM")
    assert got["ScheduleExpression"] == "cron(30 22 * * ? *)"
    assert got["Description"] == "Starts the batch server" and got["ScheduleExpressionTimezone"] == "Europe/London"
    assert got["StartDate"].year == 2031 and got["KmsKeyArn"].endswith("key/abc-123")
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["Target"]["DeadLetterConfig"]["Arn"].endswith(":eventconsole-dlq")
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.IN_SYNC and schedule.version == 2


def test_disable_is_an_update_schedule_with_the_full_body(users, environment, calls):
    created = submit_and_apply(users["operator"], environment, spec(Description="keep me"))
    schedule = Schedule.objects.get(pk=created.schedule_id)
    calls.clear()
    disable = submit_and_apply(users["operator"], environment, {**schedule.desired_spec, "State": "DISABLED"},
                               action=ChangeAction.DISABLE, target=schedule)
    assert [c for c in calls if c in WRITES] == ["UpdateSchedule"]
    assert disable.plan[0]["summary"].startswith("Disable schedule")
    got = aws.client(environment, "scheduler").get_schedule(Name="Start_batch_server_11PM")
    assert got["State"] == "DISABLED" and got["Description"] == "keep me"
    schedule.refresh_from_db()
    assert schedule.state == "DISABLED" and schedule.next_run is None


def test_update_sends_action_after_completion_though_moto_ignores_it(users, environment):
    """moto ignores ActionAfterCompletion on UpdateSchedule (docs/aws-behaviours.md, "Local emulator
    (moto)"). EventConsole still sends it (the full body), and reports truthfully that the emulator
    kept the old value; on AWS the same change is in sync."""
    created = submit_and_apply(users["operator"], environment, spec())
    schedule = Schedule.objects.get(pk=created.schedule_id)
    delete_after = {**schedule.desired_spec, "ActionAfterCompletion": "DELETE"}
    update = submit_and_apply(users["operator"], environment, delete_after, action=ChangeAction.UPDATE,
                              target=schedule)
    assert update.plan[0]["params"]["ActionAfterCompletion"] == "DELETE"
    assert aws.client(environment, "scheduler").get_schedule(Name=schedule.name)["ActionAfterCompletion"] == "NONE"
    schedule.refresh_from_db()
    assert schedule.sync_status == SyncStatus.DRIFTED
    assert [d["path"] for d in schedule.drift] == ["ActionAfterCompletion"]


def test_a_crash_between_two_attempts_creates_one_schedule(users, environment, calls, settings):
    """The worker dies right after CreateSchedule succeeded, before it recorded anything.

    moto ignores ClientToken (docs/aws-behaviours.md, "Local emulator (moto)"), so the token alone
    would not save us here: once the dead worker's lease expires, the redelivered task takes the
    change over, reads the live schedule first (GetSchedule), finds it, and makes no write call. (The same drill with a real worker process
    killed with SIGKILL: tests/changes/test_recovery.py.)
    """
    class WorkerDied(BaseException):
        """Stands for the process being killed: not an Exception, so nothing on the way catches it."""

    def die_after_create(client, environment, service):
        def after(http_response, parsed, model, **kwargs):
            if model.name == "CreateSchedule":
                raise WorkerDied()
        client.meta.events.register("after-call", after)

    settings.APPLY_LEASE_SECONDS = 4  # long enough for the 'early' redelivery below to come within it, even under load
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.CREATE,
                                                  environment=environment, author=users["operator"], spec=spec())
    services.change_request_submit(change, actor=users["operator"])
    aws.add_client_hook(die_after_create)
    try:
        with pytest.raises(WorkerDied):
            apply.change_request_apply(change.pk, task_id="first")
    finally:
        aws.remove_client_hook(die_after_create)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLYING and change.lease_owner.endswith(":first")  # as a killed worker leaves it
    # while the lease is live, a redelivered task leaves the change to its worker
    apply.change_request_apply(change.pk, task_id="early")
    change.refresh_from_db()
    assert change.state == ChangeState.APPLYING and change.lease_owner.endswith(":first")
    wait_until(lambda: apply.lease_expired(change), timeout=20)
    # when the redelivered task comes after the lease expired
    calls.clear()
    apply.change_request_apply(change.pk, task_id="second")
    # then
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED, change.last_error
    assert change.lease_owner == "" and change.lease_expires is None
    assert "GetSchedule" in calls and not [c for c in calls if c in WRITES]
    assert change.apply_attempts.get(number=1).status == AttemptStatus.FAILED
    assert change.apply_attempts.get(number=1).error_code == "WorkerLost"
    assert change.apply_attempts.get(number=2).status == AttemptStatus.SUCCEEDED
    listed = aws.client(environment, "scheduler").list_schedules()["Schedules"]
    assert [s["Name"] for s in listed] == ["Start_batch_server_11PM"]
    schedule = Schedule.objects.get(pk=change.schedule_id)
    assert schedule.sync_status == SyncStatus.IN_SYNC and schedule.version == 1


def wait_until(condition, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_new_group_is_created_once_and_never_again(users, environment, calls):
    first = submit_and_apply(users["operator"], environment, spec(name="one", group="batch"))
    assert [c for c in calls if c in WRITES] == ["CreateScheduleGroup", "CreateSchedule"]
    calls.clear()
    second = submit_and_apply(users["operator"], environment, spec(name="two", group="batch"))
    # Creating "batch" again would wipe schedule "one" in moto and be refused by AWS
    # (docs/aws-behaviours.md, "Local emulator (moto)").
    assert [c for c in calls if c in WRITES] == ["CreateSchedule"]
    assert first.state == second.state == ChangeState.APPLIED
    names = {s["Name"] for s in aws.client(environment, "scheduler").list_schedules(GroupName="batch")["Schedules"]}
    assert names == {"one", "two"}


def test_delete_removes_the_schedule_and_its_row(users, environment, calls):
    created = submit_and_apply(users["operator"], environment, spec())
    schedule = Schedule.objects.get(pk=created.schedule_id)
    calls.clear()
    deleted = submit_and_apply(users["operator"], environment, schedule.desired_spec, action=ChangeAction.DELETE,
                               target=schedule)
    assert deleted.state == ChangeState.APPLIED
    assert [c for c in calls if c in WRITES] == ["DeleteSchedule"]
    assert deleted.plan[0]["params"] == {"Name": "Start_batch_server_11PM", "GroupName": "default",
                                         "ClientToken": f"eventconsole-change-{deleted.pk}-delete"}
    assert not Schedule.objects.filter(pk=schedule.pk).exists()
    assert aws.client(environment, "scheduler").list_schedules()["Schedules"] == []


def test_apply_plans_against_live_not_against_the_submitted_plan(users, environment):
    # given a change planned when its group did not exist
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.CREATE,
                                                  environment=environment, author=users["operator"],
                                                  spec=spec(name="x", group="nightly"))
    services.change_request_submit(change, actor=users["operator"])
    assert [c["operation"] for c in change.plan] == ["CreateScheduleGroup", "CreateSchedule"]
    # when someone creates the group before the worker runs
    aws.client(environment, "scheduler").create_schedule_group(Name="nightly")
    apply.change_request_apply(change.pk)
    # then the group is not created again
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED
    assert [c["operation"] for c in change.apply_attempts.get().calls] == ["CreateSchedule"]


def test_an_aws_refusal_fails_the_change_in_words(users, environment):
    class Refused:
        status_code = 400

    def refuse(client, environment, service):
        def before(model, **kwargs):
            if model.name == "CreateSchedule":
                return Refused(), {"Error": {"Code": "ValidationException", "Message": "Invalid Schedule Expression"},
                                   "ResponseMetadata": {"HTTPStatusCode": 400}}
        client.meta.events.register("before-call", before)

    aws.add_client_hook(refuse)
    try:
        change = submit_and_apply(users["operator"], environment, spec())
    finally:
        aws.remove_client_hook(refuse)
    assert change.state == ChangeState.FAILED
    assert "AWS rejected the request as invalid (CreateSchedule: ValidationException: Invalid Schedule Expression)" \
        in change.last_error
    assert Schedule.objects.get(pk=change.schedule_id).sync_status == SyncStatus.FAILED
