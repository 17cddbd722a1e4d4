"""Run now through the pages: who may, the confirmation naming the target and what it does, production asking
twice, the run recorded on the schedule's page and audited; the target really invoked in moto over HTTP."""
import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from changes.choices import SyncStatus
from environments import aws
from schedules.models import Schedule, ScheduleRun

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ROLE = "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role"


def stopped_instance(environment) -> str:
    ec2 = aws.client(environment, "ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[instance])
    return instance


def state_of(environment, instance) -> str:
    reservations = aws.client(environment, "ec2").describe_instances(InstanceIds=[instance])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"]


def schedule_starting(environment, instance, *, sync_status=SyncStatus.IN_SYNC, **fields) -> Schedule:
    spec = {"Name": "Start_batch_server_11PM", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
                       "Input": json.dumps({"InstanceIds": [instance]})}}
    return Schedule.objects.create(environment=environment, name=spec["Name"], version=1, state="ENABLED",
                                   sync_status=sync_status, desired_spec=spec, expression=spec["ScheduleExpression"],
                                   timezone="Europe/London",
                                   target_arn="arn:aws:scheduler:::aws-sdk:ec2:startInstances", **fields)


def run_url(schedule):
    return reverse("schedules:schedule_run", args=[schedule.pk])


def test_the_confirmation_names_the_target_and_what_it_does(client_for, environment):
    schedule = schedule_starting(environment, "i-0123456789abcdef0")
    page = client_for("operator").get(run_url(schedule))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Amazon EC2 StartInstances" in html
    assert "starts EC2 instance i-0123456789abcdef0" in html
    assert "Sandbox" in html and ROLE in html
    assert ScheduleRun.objects.count() == 0  # looking is not running


def test_run_now_starts_the_instance_records_the_run_and_audits_it(client_for, users, environment):
    instance = stopped_instance(environment)
    schedule = schedule_starting(environment, instance)
    client = client_for("operator")
    # a POST without the confirmation's step only shows the confirmation
    assert client.post(run_url(schedule)).status_code == 200
    assert ScheduleRun.objects.count() == 0 and state_of(environment, instance) == "stopped"
    # confirmed
    response = client.post(run_url(schedule), {"step": "1"})
    assert response.status_code == 302 and response["Location"] == f"{schedule.get_absolute_url()}#runs"
    assert state_of(environment, instance) == "running"
    run = ScheduleRun.objects.get()
    assert (run.schedule, run.trigger, run.actor, run.ok, run.api) == (
        schedule, ScheduleRun.RUN_NOW, users["operator"], True, "ec2:StartInstances")
    assert run.request["params"] == {"InstanceIds": [instance]} and run.request["role"] == ROLE
    assert run.response["StartingInstances"][0]["InstanceId"] == instance
    event = AuditEvent.objects.get(action="schedule.run")
    assert event.actor_name == "operator" and event.object_id == str(schedule.pk)
    assert event.message == "Run now: Amazon EC2 StartInstances succeeded"
    assert event.data["request"]["params"] == {"InstanceIds": [instance]}
    # the schedule's page shows the run beside its next runs
    page = client.get(schedule.get_absolute_url()).content.decode()
    assert 'data-testid="runs"' in page and "Run now by operator" in page and run.execution_id in page
    assert "Next 10 runs" in page


def test_production_asks_twice(client_for, production):
    instance = stopped_instance(production)
    schedule = schedule_starting(production, instance)
    client = client_for("operator")
    second = client.post(run_url(schedule), {"step": "1"})
    assert second.status_code == 200 and 'data-testid="run-now-production"' in second.content.decode()
    assert "Production is a production environment" in second.content.decode()
    assert ScheduleRun.objects.count() == 0 and state_of(production, instance) == "stopped"
    assert client.post(run_url(schedule), {"step": "2"}).status_code == 302
    assert state_of(production, instance) == "running"
    assert ScheduleRun.objects.get().ok is True


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_viewers_and_reviewers_are_refused(client_for, environment, role):
    instance = stopped_instance(environment)
    schedule = schedule_starting(environment, instance)
    client = client_for(role)
    assert client.get(run_url(schedule)).status_code == 403
    assert client.post(run_url(schedule), {"step": "2"}).status_code == 403
    assert ScheduleRun.objects.count() == 0 and state_of(environment, instance) == "stopped"
    assert 'data-testid="run-now"' not in client.get(schedule.get_absolute_url()).content.decode()


def test_a_failed_run_is_recorded_and_told_in_words(client_for, environment):
    schedule = schedule_starting(environment, "i-0000000000000dead")
    response = client_for("operator").post(run_url(schedule), {"step": "1"}, follow=True)
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]]
    assert len(said) == 1 and said[0].startswith("Run now: Amazon EC2 StartInstances failed.")
    assert "i-0000000000000dead" in said[0]
    run = ScheduleRun.objects.get()
    assert run.ok is False and run.error_code == "InvalidInstanceID.NotFound"
    assert 'data-testid="run-error"' in response.content.decode()


@pytest.mark.parametrize("status, words", [
    (SyncStatus.PENDING, "The schedule is not in AWS, so there is nothing to run"),
    (SyncStatus.COMPLETED, "The schedule is not in AWS, so there is nothing to run"),
    (SyncStatus.UNMANAGED, "EventConsole does not manage this schedule"),
])
def test_schedules_that_cannot_run_are_refused_in_words(client_for, environment, status, words):
    schedule = schedule_starting(environment, "i-0123456789abcdef0", sync_status=status)
    client = client_for("operator")
    for response in (client.get(run_url(schedule), follow=True), client.post(run_url(schedule), {"step": "1"},
                                                                               follow=True)):
        assert response.status_code == 200
        assert [str(m) for m in response.context["messages"]] == [f"Run now: {words}."]
    assert ScheduleRun.objects.count() == 0


@pytest.mark.parametrize("data", [{"step": "3"}, {"step": ""}, {"step": "1' OR 1=1"}, {"step": ["1", "2"]}])
def test_odd_steps_only_show_the_confirmation(client_for, environment, data):
    schedule = schedule_starting(environment, "i-0123456789abcdef0")
    response = client_for("operator").post(run_url(schedule), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert 'data-testid="run-now-confirm"' in response.content.decode()


def test_a_schedule_that_does_not_exist(client_for, environment):
    assert client_for("operator").get(reverse("schedules:schedule_run", args=[999999])).status_code == 404


def test_an_endpoint_that_does_not_answer_spends_the_pages_budget_and_says_so(client_for, aws_url, settings):
    from environments.models import Environment
    from tests.support.faultproxy import FaultProxy

    settings.AWS_INTERACTIVE_BUDGET_SECONDS = 1
    proxy = FaultProxy(aws_url).start()
    proxy.delay = 30
    try:
        hung = Environment.objects.create(name="Hung", region="us-east-1", endpoint_url=proxy.url,
                                          account_id="123456789012")
        schedule = schedule_starting(hung, "i-0123456789abcdef0")
        response = client_for("operator").post(run_url(schedule), {"step": "1"}, follow=True)
    finally:
        proxy.stop()
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Run now: Amazon EC2 StartInstances failed. AWS did not answer within 1 s (this page's time budget for AWS "
        "calls); the call may still have reached AWS."]
    run = ScheduleRun.objects.get()
    assert run.ok is False and run.error_code == "BudgetSpent"
