"""The create-schedule flow through the form views (Django test client), against a moto server over HTTP."""
import json

import pytest

from changes.choices import ChangeState, SyncStatus
from changes.models import ChangeRequest
from environments import aws
from schedules.models import Schedule
from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def _instance_id(environment) -> str:
    ec2 = aws.client(environment, "ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["batch-server"]}])["Reservations"]
    return reservations[0]["Instances"][0]["InstanceId"]


def test_worked_example_two_through_the_forms(client_for, environment, demo_resources, apply_inline):
    # given
    client = client_for("operator")
    instance = _instance_id(environment)
    body = json.dumps({"InstanceIds": [instance]})
    # when
    draft = flow.create(client, environment, detail_data=flow.detail(environment),
                        target_data=flow.universal(input_text=body),
                        settings_data=flow.settings(flow.role_arn(), retry=False))
    # then
    change = ChangeRequest.objects.get(pk=draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    got = aws.client(environment, "scheduler").get_schedule(Name="Start_batch_server_11PM", GroupName="default")
    assert got["ScheduleExpression"] == "cron(0 23 * * ? *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/London"
    assert got["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:ec2:startInstances"
    assert json.loads(got["Target"]["Input"]) == {"InstanceIds": [instance]}
    assert got["Target"]["RoleArn"] == flow.role_arn()
    assert got["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert got["ActionAfterCompletion"] == "NONE" and got["State"] == "ENABLED"
    schedule = Schedule.objects.get(name="Start_batch_server_11PM")
    assert schedule.sync_status == SyncStatus.IN_SYNC and schedule.version == 1
    assert schedule.next_run is not None and schedule.next_run.astimezone().minute == 0
