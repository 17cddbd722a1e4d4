"""Schedule pages through the Django test client against a moto server over HTTP: drafts that
survive signing out, Edit / Enable / Disable / Clone / Delete, list, detail, upcoming runs, preview."""
import json
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.models import ChangeRequest
from environments import aws
from schedules.models import Schedule
from tests.conftest import PASSWORD
from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

EC2_INPUT = '{"InstanceIds": ["i-0123456789abcdef0"]}'


def create_worked_example(client, environment, **detail) -> Schedule:
    draft = flow.create(client, environment, detail_data=flow.detail(environment, **detail),
                        target_data=flow.universal(input_text=EC2_INPUT),
                        settings_data=flow.settings(flow.role_arn(), retry=False))
    change = ChangeRequest.objects.get(pk=draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    return change.schedule


def test_a_draft_is_resumed_after_signing_out(users, environment, demo_resources):
    # given an operator who filled in the first step and saved the draft
    client = Client()
    assert client.post(reverse("login"), {"username": "operator", "password": PASSWORD}).status_code == 302
    draft = flow.start(client, environment)
    response = flow.post(client, draft, "detail", flow.detail(environment, name="Half_done", cron=("15", "7", "?", "*",
                                                                                                  "MON-FRI", "*")),
                         go="save")
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert client.get(reverse("schedules:schedule_list")).status_code == 302  # signed out
    # when they sign in again, in another browser
    other = Client()
    assert other.post(reverse("login"), {"username": "operator", "password": PASSWORD}).status_code == 302
    listing = other.get(reverse("schedules:schedule_list"))
    # then the draft is listed and holds what was typed
    assert "Half_done" in listing.content.decode()
    page = other.get(flow.step_url(draft, "detail"))
    form = page.context["form"]
    assert form["name"].value() == "Half_done" and form["day_of_week"].value() == "MON-FRI"
    assert form["minutes"].value() == "15" and form["hours"].value() == "7"
    # and Back / Next never lose what was typed, even when it is not valid yet
    flow.post(other, draft, "target", flow.universal(input_text="{half"), go="back")
    assert other.get(flow.step_url(draft, "target")).context["form"]["input"].value() == "{half"


def test_one_time_schedule_in_a_new_group_with_a_templated_lambda_target(client_for, environment, demo_resources,
                                                                          apply_inline):
    client = client_for("operator")
    day = (timezone.now() + timedelta(days=3)).strftime("%Y/%m/%d")
    draft = flow.create(
        client, environment,
        detail_data=flow.detail(environment, name="once", group="__new__", new_group="batch-jobs",
                                occurrence="one-time", at_date=day, at_time="09:30", timezone="America/New_York",
                                flexible_window="15"),
        target_data=flow.templated("lambda", demo_resources["lambda"],
                                   input_text='{"when": "<aws.scheduler.scheduled-time>"}'),
        settings_data=flow.settings(flow.role_arn(), action_after_completion="DELETE"))
    change = ChangeRequest.objects.get(pk=draft)
    assert [c["operation"] for c in change.plan] == ["CreateScheduleGroup", "CreateSchedule"]
    assert change.state == ChangeState.APPLIED, change.last_error
    got = aws.client(environment, "scheduler").get_schedule(Name="once", GroupName="batch-jobs")
    assert got["ScheduleExpression"] == f"at({day.replace('/', '-')}T09:30:00)"
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["Target"]["Arn"] == demo_resources["lambda"] and got["ActionAfterCompletion"] == "DELETE"


def test_review_shows_every_section_and_the_plan_with_its_full_body(client_for, environment, demo_resources):
    client = client_for("operator")
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment, description="Nightly start"))
    flow.post(client, draft, "target", flow.universal(input_text=EC2_INPUT))
    flow.post(client, draft, "settings", flow.settings(flow.role_arn(), retry=False))
    review = client.get(flow.step_url(draft, "review"))
    html = review.content.decode()
    for words in ("Step 1: Specify schedule detail", "Step 2: Select target", "Step 3: Settings",
                  "Amazon EC2 StartInstances", "At 23:00, every day", "Europe/London", "Create schedule"):
        assert words in html, words
    assert html.count('value="step:') >= 3  # an Edit button per section
    (call,) = review.context["plan"]
    assert call.operation == "CreateSchedule"
    assert call.params["ClientToken"] == f"eventconsole-change-{draft}-create"
    assert call.params["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 0}
    assert call.params["Description"] == "Nightly start" and call.params["State"] == "ENABLED"


def test_preview_shows_words_and_the_next_ten_runs_in_the_zone_and_utc(client_for, environment):
    client = client_for("operator")
    draft = flow.start(client, environment)
    url = reverse("schedules:schedule_preview", args=[draft])
    response = client.post(url, flow.detail(environment, zone="Europe/London"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "At 23:00, every day" in html and "UTC" in html
    assert len(response.context["preview_runs"]) == 10
    for local, utc in response.context["preview_runs"]:
        assert local.hour == 23 and utc.hour in (22, 23)  # BST or GMT
    bad = client.post(url, flow.detail(environment, cron=("0", "24", "*", "*", "?", "*")))
    assert "Hours: 24 is out of range" in bad.content.decode()


def test_list_detail_and_upcoming_pages(client_for, environment, demo_resources, apply_inline):
    operator = client_for("operator")
    schedule = create_worked_example(operator, environment)
    viewer = client_for("viewer")
    listing = viewer.get(reverse("schedules:schedule_list"), {"q": "batch"})
    html = listing.content.decode()
    assert "Start_batch_server_11PM" in html and "At 23:00, every day" in html and "Amazon EC2 StartInstances" in html
    assert "In sync" in html and "Europe/London" in html
    assert viewer.get(reverse("schedules:schedule_list"), {"group_name": "default", "state": "DISABLED"}
                      ).context["table"].rows.__len__() == 0
    detail = viewer.get(schedule.get_absolute_url())
    assert detail.status_code == 200
    assert len(detail.context["preview_runs"]) == 10 and "Next 10 runs" in detail.content.decode()
    assert "Edit" not in detail.content.decode().split("<main")[1].split("Schedule</h2>")[0]  # viewers get no actions
    change = viewer.get(reverse("changes:change_detail", args=[schedule.changes.get().pk]))
    assert change.status_code == 200 and "CreateSchedule" in change.content.decode()
    assert "LastModificationDate" not in change.content.decode()  # kept apart from the live snapshot
    # Upcoming runs at a fixed "now": the page shows 7 × 24 hours from the current hour in the display zone.
    # cron(0 23 * * ? *) in Europe/London, counted by hand on a calendar (clocks go forward 2025-03-30):
    for now, next_run, total in (
        # 2025-01-15 23:30 GMT: the window is 15 Jan 23:00 to 22 Jan 23:00; 16th to 21st (22 Jan 23:00 is its end).
        (datetime(2025, 1, 15, 23, 30, tzinfo=UTC), datetime(2025, 1, 16, 23, 0, tzinfo=UTC), 6),
        # 2025-03-27 23:30 GMT: 27 Mar 23:00 to 3 Apr 23:00 UTC = 4 Apr 00:00 BST; 28th to 3 Apr.
        (datetime(2025, 3, 27, 23, 30, tzinfo=UTC), datetime(2025, 3, 28, 23, 0, tzinfo=UTC), 7),
    ):
        Schedule.objects.filter(pk=schedule.pk).update(next_run=next_run)  # what a poll at `now` would store
        with mock.patch("django.utils.timezone.now", return_value=now):  # Django's clock, not our code
            upcoming = viewer.get(reverse("schedules:upcoming"), {"zone": "Europe/London", "group": "default",
                                                                 "environment": environment.pk})
        calendar = upcoming.context["calendar"]
        assert calendar.total == total, now
        assert [r.schedule.name for r in calendar.rows] == ["Start_batch_server_11PM"]
        assert {cell.hour for day in calendar.days for cell in day.cells if cell.count} == {23}
    assert viewer.post(reverse("schedules:schedule_action", args=[schedule.pk, "disable"])).status_code == 403


def test_edit_enable_disable_clone_and_delete(client_for, environment, demo_resources, apply_inline):
    client = client_for("operator")
    schedule = create_worked_example(client, environment)
    # Edit opens the flow filled in from the desired spec; name and group are fixed.
    response = client.post(reverse("schedules:schedule_action", args=[schedule.pk, "edit"]))
    draft = int(response["Location"].rstrip("/").split("/")[-2])
    form = client.get(response["Location"]).context["form"]
    assert form["name"].value() == "Start_batch_server_11PM" and form.fields["name"].disabled
    assert form["hours"].value() == "23" and form["timezone"].value() == "Europe/London"
    data = flow.detail(environment, cron=("30", "22", "*", "*", "?", "*"))
    assert flow.post(client, draft, "detail", data).status_code == 302
    assert flow.post(client, draft, "target", flow.universal(input_text=EC2_INPUT)).status_code == 302
    page = client.get(flow.step_url(draft, "settings"))
    assert page.context["form"]["role"].value() == flow.role_arn()
    review = client.get(flow.step_url(draft, "review"))
    assert [c.operation for c in review.context["plan"]] == ["UpdateSchedule"]
    client.post(flow.step_url(draft, "review"), {"_go": "submit"})
    scheduler = aws.client(environment, "scheduler")
    assert scheduler.get_schedule(Name=schedule.name)["ScheduleExpression"] == "cron(30 22 * * ? *)"
    # Disable, then Enable: each a change request applied at once in the Sandbox.
    client.post(reverse("schedules:schedule_action", args=[schedule.pk, "disable"]))
    assert scheduler.get_schedule(Name=schedule.name)["State"] == "DISABLED"
    client.post(reverse("schedules:schedule_action", args=[schedule.pk, "enable"]))
    assert scheduler.get_schedule(Name=schedule.name)["State"] == "ENABLED"
    # Clone opens a create draft with a new name.
    response = client.post(reverse("schedules:schedule_action", args=[schedule.pk, "clone"]))
    clone = ChangeRequest.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-2]))
    assert clone.action == ChangeAction.CREATE and clone.spec["Name"] == "Start_batch_server_11PM-copy"
    # Delete asks first, then removes it.
    confirm = client.get(reverse("schedules:schedule_delete", args=[schedule.pk]))
    assert "Delete schedule Start_batch_server_11PM?" in confirm.content.decode()
    response = client.post(reverse("schedules:schedule_action", args=[schedule.pk, "delete"]))
    deletion = ChangeRequest.objects.filter(action=ChangeAction.DELETE).get()
    assert deletion.state == ChangeState.APPLIED, (deletion.state, deletion.last_error, deletion.plan)
    assert scheduler.list_schedules()["Schedules"] == []
    assert not Schedule.objects.filter(pk=schedule.pk).exists()


def test_production_changes_wait_for_a_reviewer(client_for, production, apply_inline):
    client = client_for("operator")
    draft = flow.create(client, production, detail_data=flow.detail(production, name="prod_job"),
                        target_data=flow.universal(input_text=EC2_INPUT),
                        settings_data=flow.settings("arn:aws:iam::123456789012:role/any"))
    change = ChangeRequest.objects.get(pk=draft)
    assert change.state == ChangeState.SUBMITTED
    assert aws.client(production, "scheduler").list_schedules()["Schedules"] == []
    assert Schedule.objects.get(name="prod_job").sync_status == SyncStatus.PENDING
    assert json.loads(change.plan[0]["params"]["Target"]["Input"]) == json.loads(EC2_INPUT)


@pytest.mark.parametrize("query", [
    {"page": "zzz"}, {"page": "99999"}, {"per_page": "-5"}, {"per_page": "abc"}, {"sort": "bogus"},
    {"environment": "abc"}, {"group_name": "nope"}, {"status": "weird"}, {"occurrence": "x"}, {"q": "\x00%'"}])
def test_the_list_never_fails_on_bad_parameters(client_for, query):
    assert client_for("viewer").get(reverse("schedules:schedule_list"), query).status_code == 200


@pytest.mark.parametrize("query", [{"environment": "abc"}, {"zone": "Mars/Olympus"}, {"group": "\x00"},
                                   {"environment": "999"}])
def test_upcoming_never_fails_on_bad_parameters(client_for, query):
    assert client_for("viewer").get(reverse("schedules:upcoming"), query).status_code == 200


def test_unknown_objects_and_actions(client_for):
    client = client_for("operator")
    assert client.get(reverse("schedules:schedule_detail", args=[999])).status_code == 404
    assert client.post(reverse("schedules:schedule_action", args=[999, "edit"])).status_code == 404
    assert client.post(reverse("schedules:schedule_preview", args=[999]), {}).status_code == 404


@pytest.mark.aws
def test_restore_this_version_of_a_schedule(client_for, users, environment, apply_inline):
    """Restore works for schedules as for rules: a new draft with the applied spec, opened on its review."""
    from django.urls import reverse

    from changes import services as change_services
    from changes.models import ChangeRequest

    spec = {"Name": "nightly", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "ActionAfterCompletion": "NONE",
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
                       "RoleArn": "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role",
                       "Input": '{"InstanceIds": ["i-0123456789abcdef0"]}',
                       "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 86400}}}
    first = change_services.change_request_draft_create(kind="schedule", action="create", environment=environment,
                                                        author=users["operator"], spec=spec)
    change_services.change_request_submit(first, actor=users["operator"])
    first.refresh_from_db()
    assert first.state == "applied", first.last_error
    operator = client_for("operator")
    response = operator.post(reverse("changes:change_action", args=[first.pk, "restore"]))
    draft = ChangeRequest.objects.get(action="restore")
    assert response["Location"] == reverse("schedules:draft_step", args=[draft.pk, "review"])
    review = operator.get(response["Location"])
    assert review.status_code == 200 and draft.spec == first.spec
