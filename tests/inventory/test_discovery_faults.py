"""Discovery through faults: AWS throttling (the fault proxy), AWS unreachable in the middle of a run,
and a real worker killed mid-run. What AWS holds is seeded with boto3 straight to moto."""
import json
import signal

import boto3
import pytest

from changes.choices import SyncStatus
from environments import aws
from environments.models import Environment
from inventory import discovery
from inventory.models import DiscoveryRun, RunState
from inventory.tasks import environment_discover as discover_task
from rules.models import Rule
from schedules.models import Schedule
from tests.changes.drills import wait_for
from tests.support.services import CeleryWorker

pytestmark = [pytest.mark.aws]
TARGET = {"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/r"}


def moto(aws_url, service):
    """A client straight to moto (no proxy, not our factory): how the account is seeded."""
    return boto3.client(service, region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def seed(aws_url, *, rules: int, schedules: int) -> None:
    events, scheduler = moto(aws_url, "events"), moto(aws_url, "scheduler")
    for i in range(rules):
        events.put_rule(Name=f"rule-{i}", EventPattern=json.dumps({"source": [f"s{i}"]}))
    scheduler.create_schedule_group(Name="g")
    for i in range(schedules):
        scheduler.create_schedule(Name=f"sched.{i}", GroupName="g" if i % 2 else "default",
                                  ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET)


@pytest.fixture
def behind_proxy(db, proxy):
    return Environment.objects.create(name="Throttled", region="us-east-1", endpoint_url=proxy.url,
                                      account_id="123456789012", approvals_required=0)


def test_throttling_slows_discovery_down_and_loses_nothing(aws_url, proxy, behind_proxy):
    seed(aws_url, rules=12, schedules=150)
    proxy.throttle(3)  # the next three requests are refused as AWS throttles (HTTP 400 ThrottlingException)

    run = discovery.environment_discover(behind_proxy)

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.throttled == 3
    assert run.api_calls == proxy.requests == proxy.forwarded + 3  # every attempt counted, the retries too
    assert sorted(Rule.objects.unmanaged().values_list("name", flat=True)) == sorted(f"rule-{i}" for i in range(12))
    assert Schedule.objects.unmanaged().count() == 150
    assert Schedule.objects.filter(group_name="g").count() == 75


def test_aws_unreachable_mid_run_fails_in_words_deletes_nothing_and_a_rerun_completes(aws_url, proxy, behind_proxy,
                                                                                       settings):
    settings.AWS_RETRY_MAX_ATTEMPTS = 2
    aws.clear_cache()
    seed(aws_url, rules=3, schedules=4)
    first = discovery.environment_discover(behind_proxy)
    assert first.state == RunState.SUCCEEDED, first.error
    # gone from AWS since: a complete run would remove them
    moto(aws_url, "events").delete_rule(Name="rule-0")
    moto(aws_url, "scheduler").delete_schedule(Name="sched.0")

    def down_after_the_rules(client, environment, service):
        # AWS stops answering (HTTP 503 on every attempt) once the schedule groups are listed
        client.meta.events.register("after-call.scheduler.ListScheduleGroups", lambda **kw: proxy.fail(2, 503))

    aws.add_client_hook(down_after_the_rules)
    try:
        failed = discovery.environment_discover(behind_proxy)
    finally:
        aws.remove_client_hook(down_after_the_rules)

    assert failed.state == RunState.FAILED
    assert "The AWS endpoint failed with an internal error (HTTP 503)" in failed.error
    assert "Nothing was deleted" in failed.error and failed.finished is not None
    assert failed.removed == 0
    assert Rule.objects.filter(name="rule-0").exists() and Schedule.objects.filter(name="sched.0").exists()

    rerun = discovery.environment_discover(behind_proxy)
    assert rerun.state == RunState.SUCCEEDED, rerun.error
    assert rerun.removed == 2 and rerun.created == 0
    assert sorted(Rule.objects.values_list("name", flat=True)) == ["rule-1", "rule-2"]
    assert sorted(Schedule.objects.values_list("name", flat=True)) == ["sched.1", "sched.2", "sched.3"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_an_interrupted_run_and_a_rerun_completes_without_duplicates(
        aws_url, proxy, settings):
    from eventconsole.celery import app

    environment = Environment.objects.create(name="Drill", region="us-east-1", endpoint_url=proxy.url,
                                             account_id="123456789012", approvals_required=0)
    seed(aws_url, rules=2, schedules=250)
    proxy.delay = 0.2  # slow enough that the kill lands half-way
    worker = CeleryWorker(app).start()
    try:
        run = discovery.run_start(environment)
        discover_task.delay(environment.pk, run.pk)
        wait_for(lambda: DiscoveryRun.objects.get(pk=run.pk).found >= 100, timeout=60,
                 why=lambda: f"no progress: {DiscoveryRun.objects.get(pk=run.pk).__dict__}\n{worker.log()[-3000:]}")
        worker.signal(signal.SIGKILL, group=True)
        worker.process.wait(20)
    finally:
        worker.stop()
    killed = DiscoveryRun.objects.get(pk=run.pk)
    assert killed.state == RunState.RUNNING and 100 <= killed.found < 252
    kept = Schedule.objects.count() + Rule.objects.count()  # what the killed run wrote is kept
    assert 0 < Schedule.objects.count() < 250

    # when its heartbeat is older than DISCOVERY_STALE_SECONDS, it is taken as interrupted
    settings.DISCOVERY_STALE_SECONDS = 1
    wait_for(lambda: discovery.runs_mark_interrupted(environment) == 1, timeout=10)
    killed.refresh_from_db()
    assert killed.state == RunState.INTERRUPTED and "Nothing was deleted" in killed.error
    # and a rerun completes: every object once
    proxy.delay = 0
    rerun = discovery.environment_discover(environment)
    assert rerun.state == RunState.SUCCEEDED, rerun.error
    assert Schedule.objects.count() == 250 and Rule.objects.count() == 2
    assert Schedule.objects.values("group_name", "name").distinct().count() == 250
    assert rerun.created == 252 - kept and rerun.removed == 0
    assert set(Schedule.objects.values_list("sync_status", flat=True)) == {SyncStatus.UNMANAGED}
