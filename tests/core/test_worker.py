"""A task sent through the real broker is executed by a real `celery worker` process."""
import time

import pytest
from django.conf import settings

from core.models import Heartbeat
from core.tasks import heartbeat

pytestmark = pytest.mark.worker


def test_heartbeat_task_runs_in_a_real_worker(celery_worker):
    assert not Heartbeat.objects.exists()
    heartbeat.delay()
    deadline = time.monotonic() + 30
    while not Heartbeat.objects.exists():
        assert time.monotonic() < deadline, f"the worker did not run the task; its log:\n{celery_worker.log()}"
        time.sleep(0.2)
    beat = Heartbeat.objects.get()
    assert beat.worker and beat.count == 1
    log = celery_worker.log()
    assert f"Connected to {settings.CELERY_BROKER_URL.split('://')[0]}://" in log  # the configured broker
    assert "Task core.tasks.heartbeat[" in log and "succeeded" in log


def test_tasks_are_acknowledged_late():
    assert heartbeat.acks_late is True
    from eventconsole.celery import app

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
