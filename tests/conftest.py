"""Shared fixtures: a moto server over HTTP, environments pointing at it, users per role, a real worker."""
from __future__ import annotations

import os
import signal

import pytest
from django.test import Client

from accounts.roles import ADMINS, OPERATORS, REVIEWERS, VIEWERS
from accounts.services import user_create
from environments import aws
from environments.models import Environment
from tests.support.services import CeleryWorker, MotoServer

PASSWORD = "correct-horse-battery-9"
ROLE_USERS = {"operator": OPERATORS, "reviewer": REVIEWERS, "viewer": VIEWERS, "admin": ADMINS}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the audit tables refuse TRUNCATE (audit migration 0005), and Django empties the database
    after each transactional test with TRUNCATE: the suite's own test database lets that through. The refusal
    itself is drilled on a scratch database of its own (tests/audit/test_tamper_postgresql.py)."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_truncate")
                cursor.execute("ALTER TABLE audit_auditchainhead DISABLE TRIGGER audit_auditchainhead_no_truncate")


@pytest.fixture(autouse=True)
def own_rate_limit_buckets(settings):
    """Each test process has its own AWS rate-limit buckets (environments.ratelimit): test processes run side by
    side against environments with the same account and Region, and one process's calls must not spend another's
    time budget. The workers a test starts inherit the prefix (tests.support.services.CeleryWorker)."""
    settings.AWS_RATE_LIMIT_KEY_PREFIX = f"suite-{os.getpid()}|"


@pytest.fixture(autouse=True)
def page_aws_budget(settings):
    """A page's AWS calls may take 10 s in all in the suite, not the 3 s of AWS_INTERACTIVE_BUDGET_SECONDS:
    four test processes, their emulators, workers and browsers share two cores, and a page that merely checks a
    name must not fail because the machine is busy. The budget itself is drilled with its own values, against
    a delaying proxy (tests/environments/test_interactive_budget.py)."""
    settings.AWS_INTERACTIVE_BUDGET_SECONDS = 10


@pytest.fixture(autouse=True)
def audit_checkpoints(settings, tmp_path):
    """Each test's own checkpoint file: checkpoints of a test's events must not outlive its database."""
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "audit-checkpoints.jsonl")
    return tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Resource listings are cached for a while; each test starts from what AWS has now."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def moto_server():
    """One moto server process for the whole run; tests that use AWS reset it first (`aws_url`)."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws_url(moto_server):
    moto_server.reset()
    aws.clear_cache()
    yield moto_server.url
    aws.clear_cache()


# The environments of the suite allow 1,000 AWS calls a second (the schema's maximum) rather than the default 20:
# the emulator answers a few hundred a second, so the shared rate limit (environments.ratelimit) is on every call
# without slowing the suite down. tests/environments/test_ratelimit.py drills the limit itself at 20 a second.
SUITE_RATE_LIMIT = 1000


@pytest.fixture
def environment(db, aws_url):
    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=aws_url,
                                      account_id="123456789012", approvals_required=0, api_rate_limit=SUITE_RATE_LIMIT)


@pytest.fixture
def proxy(aws_url):
    """The fault-injecting proxy (latency, throttling, 5xx, dropped connections) in front of the moto server."""
    from tests.support.faultproxy import FaultProxy

    proxy = FaultProxy(aws_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied(proxy, db):
    """Sandbox whose AWS calls go through the fault proxy (its latency lets a drill kill a worker half-way)."""
    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=proxy.url,
                                      account_id="123456789012", api_rate_limit=SUITE_RATE_LIMIT)


@pytest.fixture
def production(db, aws_url):
    return Environment.objects.create(name="Production", region="eu-west-1", endpoint_url=aws_url,
                                      account_id="123456789012", is_production=True, approvals_required=1,
                                      api_rate_limit=SUITE_RATE_LIMIT)


@pytest.fixture
def users(db):
    return {name: user_create(username=name, password=PASSWORD, roles=[role]) for name, role in ROLE_USERS.items()}


@pytest.fixture
def client_for(users):
    """client_for("operator") -> a Django test client signed in as that role's user."""
    def make(name: str) -> Client:
        client = Client()
        client.force_login(users[name])
        return client
    return make


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` process on the configured broker, reading the test database."""
    from eventconsole.celery import app

    worker = CeleryWorker(app).start()
    yield worker
    worker.stop()


@pytest.fixture
def workers():
    """workers(**kwargs) starts a real worker process (tests.support.services.CeleryWorker) for a drill; at the
    end each one still running is killed, whatever state the drill left it, its broker or its database in."""
    from eventconsole.celery import app

    started = []

    def start(**kwargs):
        worker = CeleryWorker(app, **kwargs).start()
        started.append(worker)
        return worker
    yield start
    for worker in reversed(started):
        if worker.process.poll() is None:
            worker.signal(signal.SIGKILL, group=True)  # the drill is over (its broker may be gone already)
            worker.process.wait(20)
        worker.stop()


@pytest.fixture
def demo_resources(environment):
    """The worked examples' AWS resources (Lambda Do_nothing, SNS Topic1, …) in the Sandbox environment."""
    from environments.demo import demo_resources_seed

    demo_resources_seed(environment)
    lam, sns = aws.client(environment, "lambda"), aws.client(environment, "sns")
    return {
        "lambda": lam.get_function(FunctionName="Do_nothing")["Configuration"]["FunctionArn"],
        "topic": next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":Topic1")),
        "account": "123456789012",
    }


@pytest.fixture
def apply_inline(transactional_db):
    """Run apply tasks in this process as soon as the transaction that queued them commits.

    For form tests that are about the flow; the worker tests use a real `celery worker` process.
    (Real commits: on_commit callbacks fire as they would in production.)
    """
    from eventconsole.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


def pytest_collection_finish(session):
    """What is loaded by now (Django, botocore's models, the test modules) lives for the whole run: move it out
    of the garbage collector's sight (gc.freeze), so each collection walks only what the tests themselves make,
    and collect less often. The tests allocate freely; a full collection over the whole heap each time was a
    measurable part of the suite's time."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
