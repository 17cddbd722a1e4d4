"""Schedules that run, in a real browser: Run now on worked example 2 starts the batch server in the emulator, and a
rate(1 minute) schedule fires on its own in local mode (a REAL `celery worker` with its embedded beat)."""
import json
import re
import time

import pytest
from playwright.sync_api import expect

from changes import apply, services
from changes.choices import ChangeState
from changes.models import ChangeRequest
from environments import aws
from schedules.models import Schedule
from tests.conftest import PASSWORD
from tests.support.services import CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

ROLE = "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role"


def batch_server(environment) -> str:
    reservations = aws.client(environment, "ec2").describe_instances(
        Filters=[{"Name": "tag:Name", "Values": ["batch-server"]}])["Reservations"]
    return reservations[0]["Instances"][0]["InstanceId"]


def state_of(environment, instance) -> str:
    found = aws.client(environment, "ec2").describe_instances(InstanceIds=[instance])["Reservations"]
    return found[0]["Instances"][0]["State"]["Name"]


def submitted(user, environment, spec) -> ChangeRequest:
    change = services.change_request_draft_create(kind="schedule", action="create", environment=environment,
                                                  author=user, spec=spec)
    services.change_request_submit(change, actor=user)
    return change


def test_run_now_on_worked_example_2_starts_the_batch_server(page, sign_in, users, environment, demo_resources,
                                                             live_server):
    instance = batch_server(environment)
    aws.client(environment, "ec2").stop_instances(InstanceIds=[instance])  # the batch server is off by day
    # Worked example 2's first schedule (as tests/e2e/test_schedules_worked_example.py creates it in the flow)
    change = submitted(users["operator"], environment, {
        "Name": "Start_batch_server_11PM", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
        "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
        "ActionAfterCompletion": "NONE",
        "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
                   "Input": json.dumps({"InstanceIds": [instance]}),
                   "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 0}}})
    apply.change_request_apply(change.pk)
    schedule = Schedule.objects.get(name="Start_batch_server_11PM")
    assert state_of(environment, instance) == "stopped"

    sign_in("operator", PASSWORD)
    page.goto(schedule.get_absolute_url())
    expect(page.get_by_test_id("no-runs")).to_be_visible()
    page.get_by_test_id("run-now").click()
    expect(page.get_by_test_id("run-now-target")).to_have_text("Amazon EC2 StartInstances")
    expect(page.get_by_test_id("run-now-effect")).to_have_text(f"starts EC2 instance {instance}")
    page.get_by_test_id("run-now-submit").click()

    expect(page.get_by_role("alert")).to_contain_text("Run now: Amazon EC2 StartInstances succeeded")
    runs = page.get_by_test_id("runs")
    expect(runs.get_by_test_id("run")).to_have_count(1)
    expect(runs).to_contain_text("Run now by operator")
    expect(runs).to_contain_text("Succeeded")
    assert state_of(environment, instance) == "running"


def test_a_rate_schedule_fires_on_its_own_in_local_mode(page, sign_in, users, environment, live_server):
    sqs = aws.client(environment, "sqs")
    url = sqs.create_queue(QueueName="Every_minute")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    from eventconsole.celery import app

    # The worker's beat looks for due schedules every 2 s (SCHEDULES_EMULATOR_FIRE_SECONDS), so the run shows
    # within seconds of its time: one minute after the schedule was applied.
    worker = CeleryWorker(app, beat=True, env={"SCHEDULES_EMULATOR_FIRE_SECONDS": "2",
                                               "EVENTCONSOLE_LOCAL_MODE": "true"}).start()
    try:
        change = submitted(users["operator"], environment, {
            "Name": "Every_minute", "GroupName": "default", "ScheduleExpression": "rate(1 minute)",
            "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "ActionAfterCompletion": "NONE",
            "Target": {"Arn": queue, "RoleArn": ROLE, "Input": '{"run": "<aws.scheduler.execution-id>"}'}})
        deadline = time.monotonic() + 60
        while ChangeRequest.objects.get(pk=change.pk).state != ChangeState.APPLIED:  # the worker applies it
            assert time.monotonic() < deadline, "the worker did not apply the change"
            time.sleep(0.3)
        schedule = Schedule.objects.get(name="Every_minute")

        sign_in("viewer", PASSWORD)
        page.goto(schedule.get_absolute_url())
        expect(page.get_by_test_id("no-runs")).to_be_visible()
        # Poll the page (the only long wait of the suite: the first run is one minute after the schedule was
        # applied) until the emulator's run shows.
        deadline = time.monotonic() + 100
        while not page.get_by_test_id("run").count():
            assert time.monotonic() < deadline, f"no run after 100 s:\n{worker.log()[-3000:]}"
            page.wait_for_timeout(2000)
            page.reload()
        runs = page.get_by_test_id("runs")
        expect(runs).to_contain_text("Fired by the emulator")
        expect(runs).to_contain_text("Succeeded")
        execution = runs.locator("code").first.inner_text()
        assert re.fullmatch(r"[0-9a-f-]{36}", execution)
    finally:
        worker.stop()
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert {"run": execution} in bodies
