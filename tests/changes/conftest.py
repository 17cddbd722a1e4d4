"""Fixtures of the apply drills: a Sandbox whose AWS calls pass through the fault proxy."""
import signal

import pytest

from environments.models import Environment
from tests.conftest import SUITE_RATE_LIMIT
from tests.support.services import CeleryWorker


@pytest.fixture
def sandbox(proxy, db):
    """Sandbox (no approvals) whose AWS calls go through the fault proxy."""
    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=proxy.url,
                                      account_id="123456789012", approvals_required=0,
                                      api_rate_limit=SUITE_RATE_LIMIT)


@pytest.fixture
def workers():
    """Real worker processes started by a test; stopped (or already dead) at the end."""
    started = []

    def start(**kwargs):
        from eventconsole.celery import app

        worker = CeleryWorker(app, **kwargs).start()
        started.append(worker)
        return worker
    yield start
    for worker in reversed(started):
        if worker.process.poll() is None:
            worker.signal(signal.SIGKILL, group=True)  # the drill is over (its broker may be gone already)
            worker.process.wait(20)
        worker.stop()
