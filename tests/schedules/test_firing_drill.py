"""At most once, drilled: a worker killed (SIGKILL, pool processes too) while the local emulator fires a schedule,
after it claimed the run and before AWS answered, never makes a second worker fire the same scheduled time again.

AWS is the moto server behind the fault proxy, whose latency holds the target's call while the worker is killed;
the target is an SQS queue read straight from moto with boto3."""
import signal
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from changes import apply, services
from changes.choices import ChangeAction, ChangeState
from schedules.models import Schedule, ScheduleRun
from tests.changes.drills import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

# Only the emulator's firing runs often in the drill (local mode, every second); the other beat entries wait an hour.
FIRING_ONLY = {"EVENTCONSOLE_LOCAL_MODE": "true", "SCHEDULES_EMULATOR_FIRE_SECONDS": "1",
               "POLL_INTERVAL_SECONDS": "3600", "HEARTBEAT_INTERVAL_SECONDS": "3600", "APPLY_SWEEP_SECONDS": "3600",
               "DISCOVERY_INTERVAL_SECONDS": "3600", "AUDIT_CHECKPOINT_INTERVAL_SECONDS": "3600",
               "TAIL_SWEEP_SECONDS": "3600", "METRICS_FETCH_INTERVAL_SECONDS": "3600",
               "DEAD_LETTER_DEPTH_INTERVAL_SECONDS": "3600"}
ROLE = "arn:aws:iam::123456789012:role/Scheduler_SQS_Role"


def test_a_worker_killed_while_firing_leaves_one_run_with_no_answer_and_no_second_firing(users, proxied, proxy,
                                                                                          aws_url, workers):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    url = sqs.create_queue(QueueName="Inbox")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    when = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
    change = services.change_request_draft_create(
        kind="schedule", action=ChangeAction.CREATE, environment=proxied, author=users["operator"], spec={
            "Name": "Soon", "GroupName": "default", "ScheduleExpression": f"at({when:%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "ActionAfterCompletion": "NONE", "Target": {"Arn": queue, "RoleArn": ROLE, "Input": '{"n": 1}'}})
    services.change_request_submit(change, actor=users["operator"])
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED, change.last_error
    schedule = Schedule.objects.get(pk=change.schedule_id)

    proxy.delay = 6.0  # the run's AssumeRole and SendMessage are held: the kill lands while the worker waits
    first = workers(env=FIRING_ONLY, beat=True)
    wait_for(lambda: ScheduleRun.objects.filter(schedule=schedule).exists(), why=first.log)  # the run is claimed
    first.signal(signal.SIGKILL, group=True)
    first.process.wait(10)
    run = ScheduleRun.objects.get(schedule=schedule)
    assert run.ok is None and run.scheduled_time == when  # claimed, never answered

    proxy.delay = 0
    second = workers(env=FIRING_ONLY, beat=True)
    # three of the new worker's beats look at the schedule, whose time has come and whose run was claimed
    wait_for(lambda: second.log().count("schedules.tasks.schedules_fire_due") >= 6, why=second.log)
    run.refresh_from_db()
    assert list(ScheduleRun.objects.filter(schedule=schedule)) == [run]
    assert run.ok is None and run.result_words.startswith("No answer recorded")
    # the held call may still have reached AWS after the kill (the proxy forwards what it was given): once at most
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(received) <= 1
