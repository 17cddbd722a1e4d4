"""Beat's poll task, run by a REAL `celery worker` process against a moto server over HTTP."""
import time

import pytest
from django.conf import settings

from changes import services
from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.tasks import objects_poll_all
from environments import aws
from schedules.models import Schedule
from tests.schedules.test_apply import spec

pytestmark = [pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def wait_for(condition, worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"the worker did not do it; its log:\n{worker.log()}"
        time.sleep(0.3)


def test_beat_entry_fans_out_a_poll_per_environment_in_a_real_worker(users, environment, celery_worker):
    # given a schedule the worker applied, then deleted directly in AWS
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.CREATE,
                                                  environment=environment, author=users["operator"], spec=spec())
    services.change_request_submit(change, actor=users["operator"])  # the Sandbox queues the apply at once
    wait_for(lambda: change.refresh_from_db() or change.state == ChangeState.APPLIED, celery_worker)
    schedule = Schedule.objects.get(pk=change.schedule_id)
    aws.client(environment, "scheduler").delete_schedule(Name=schedule.name)
    assert settings.CELERY_BEAT_SCHEDULE["objects-poll"]["task"] == objects_poll_all.name
    # when beat's task runs
    objects_poll_all.delay()
    # then the worker polls the environment's schedules and sees the schedule is gone
    wait_for(lambda: schedule.refresh_from_db() or schedule.sync_status == SyncStatus.MISSING, celery_worker)
    assert "changes.tasks.objects_poll[" in celery_worker.log()
