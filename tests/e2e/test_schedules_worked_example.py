"""Worked example 2 in a real browser: an operator creates the two batch-server schedules.

Headless Chromium (Playwright) against the live server; the Sandbox needs no approval, so each
schedule is applied by a REAL `celery worker` process, which calls the moto server over HTTP.
"""
import json
import re
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from changes.choices import ChangeState
from changes.models import ChangeRequest
from environments import aws
from schedules import views as schedule_views
from tests.conftest import PASSWORD
from tests.e2e.schedule_steps import create_schedule_opened

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

ROLE = "EventBridge_EC2_Startinstance_Role"

# The upcoming-runs page is read at a fixed instant: Wednesday 21 October 2099, 23:20 in London (BST,
# 22:20 UTC); the clocks go back on Sunday 25 October. The page shows the 7 × 24 hours from the start
# of this hour: 23:00 BST on the 21st (22:00 UTC) to 22:00 GMT on Wednesday the 28th. Worked out by hand
# (and checked with croniter):
# - cron(0 23 * * ? *): 23:00 on the 22nd, 23rd, 24th (BST) and 25th, 26th, 27th (GMT) = 6 runs; the
#   21st's 23:00 is before 23:20, and the 28th's 23:00 GMT is past the window's end (22:00 GMT).
# - cron(0 6 * * ? *): 06:00 on the 22nd to the 28th = 7 runs.
# A far-future instant because the page lists the schedules whose stored next run (worked out from the
# real clock when the worker applied them) comes before the window's end.
UPCOMING_AT = datetime(2099, 10, 21, 22, 20, tzinfo=UTC)
UPCOMING_RUNS = {"Start_batch_server_11PM": 6, "Stop_batch_server_6AM": 7}


def _instance_id(environment) -> str:
    reservations = aws.client(environment, "ec2").describe_instances(
        Filters=[{"Name": "tag:Name", "Values": ["batch-server"]}])["Reservations"]
    return reservations[0]["Instances"][0]["InstanceId"]


def _next(page):
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    page.wait_for_load_state()


def create_schedule(page, *, name: str, hour: str, action: str, label: str, instance: str):
    create_schedule_opened(page)

    # Step 1: Specify schedule detail
    page.get_by_label("Schedule name").fill(name)
    page.get_by_label("Recurring schedule").check()
    page.get_by_label("Cron-based schedule", exact=False).check()
    for field, value in (("Minutes", "0"), ("Hours", hour), ("Day of month", "*"), ("Month", "*"),
                         ("Day of the week", "?"), ("Year", "*")):
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_label("Time zone").fill("Europe/London")  # typed (the list of zones offers it), not the default
    expect(page.get_by_test_id("preview-words")).to_contain_text(f"At {hour.zfill(2)}:00, every day")
    expect(page.get_by_test_id("next-runs").locator("tbody tr")).to_have_count(10)
    _next(page)

    # Step 2: Select target — All APIs → Amazon EC2 → StartInstances / StopInstances
    expect(page.get_by_role("heading", name="Select target")).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^All APIs")).check()
    page.get_by_label("AWS service").select_option(label="Amazon EC2")
    page.wait_for_load_state()
    expect(page.get_by_test_id("ec2-instances")).to_contain_text(instance)
    page.get_by_label("API", exact=True).select_option(label=label)
    # Picking the API fills the empty input with its request's skeleton (fetched): wait for it, then type
    # over it, as a person would (typing while the skeleton arrives would mix the two).
    expect(page.locator("#id_target-input")).to_have_value(re.compile(r'"InstanceIds"'))
    page.locator("#id_target-input").fill(json.dumps({"InstanceIds": [instance]}))
    _next(page)

    # Step 3: Settings — retry off, the existing role that trusts scheduler.amazonaws.com
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_label("Enable schedule")).to_be_checked()
    page.get_by_role("radio", name=re.compile(r"^NONE")).check()
    page.get_by_label("Retry", exact=True).uncheck()
    # "Create new role for this schedule" is the default, as in the Scheduler console; this example uses its own
    expect(page.get_by_role("radio", name="Create new role for this schedule")).to_be_checked()
    page.get_by_role("radio", name="Use existing role").check()
    page.get_by_label("Execution role").select_option(label=ROLE)
    _next(page)

    # Step 4: Review and create schedule
    expect(page.get_by_role("heading", name="Review and create schedule")).to_be_visible()
    expect(page.get_by_test_id("review-expression")).to_have_text(f"cron(0 {hour} * * ? *)")
    expect(page.get_by_test_id("plan")).to_contain_text("CreateSchedule")
    expect(page.get_by_test_id("plan")).to_contain_text(f"aws-sdk:ec2:{action}")
    page.get_by_role("button", name="Create schedule").click()
    page.wait_for_load_state()
    change = ChangeRequest.objects.get(object_name=f"default/{name}")
    deadline = time.monotonic() + 60
    while change.state != ChangeState.APPLIED:
        assert change.state in (ChangeState.APPROVED, ChangeState.APPLYING), (change.state, change.last_error)
        assert time.monotonic() < deadline, "the worker did not apply the change"
        time.sleep(0.3)
        change.refresh_from_db()
    page.reload()
    expect(page.get_by_text("Applied").first).to_be_visible()


def test_operator_creates_the_batch_server_schedules(page, sign_in, users, environment, demo_resources, celery_worker,
                                                      live_server, monkeypatch):
    instance = _instance_id(environment)
    sign_in("operator", PASSWORD)
    create_schedule(page, name="Start_batch_server_11PM", hour="23", action="startInstances",
                    label="StartInstances", instance=instance)
    create_schedule(page, name="Stop_batch_server_6AM", hour="6", action="stopInstances", label="StopInstances",
                    instance=instance)

    scheduler = aws.client(environment, "scheduler")
    for name, hour, action in (("Start_batch_server_11PM", 23, "startInstances"),
                               ("Stop_batch_server_6AM", 6, "stopInstances")):
        got = scheduler.get_schedule(Name=name, GroupName="default")
        assert got["ScheduleExpression"] == f"cron(0 {hour} * * ? *)"
        assert got["ScheduleExpressionTimezone"] == "Europe/London"
        assert got["Target"]["Arn"] == f"arn:aws:scheduler:::aws-sdk:ec2:{action}"
        assert json.loads(got["Target"]["Input"]) == {"InstanceIds": [instance]}
        assert got["Target"]["RoleArn"] == f"arn:aws:iam::123456789012:role/{ROLE}"
        assert got["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
        assert got["ActionAfterCompletion"] == "NONE" and got["State"] == "ENABLED"
        assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}

    # The list shows both, in words, and the upcoming-runs picture has the overnight pair every day.
    page.goto("/schedules/")
    table = page.get_by_test_id("schedule-table")
    expect(table).to_contain_text("At 23:00, every day")
    expect(table).to_contain_text("At 06:00, every day")
    page.get_by_role("link", name="Stop_batch_server_6AM").click()
    expect(page.get_by_test_id("target-label")).to_have_text("Amazon EC2 StopInstances")
    # The page's clock (django.utils.timezone, as the view reads it) stands at UPCOMING_AT; the live
    # server runs in this process, so the page is drawn for that instant.
    monkeypatch.setattr(schedule_views, "timezone", SimpleNamespace(now=lambda: UPCOMING_AT))
    page.goto("/schedules/upcoming/?zone=Europe/London")
    for name, expected in UPCOMING_RUNS.items():
        row = page.get_by_test_id("timeline").locator("tr", has_text=name)
        expect(row.locator("td").last).to_have_text(str(expected))
