"""The discovery tasks: beat's discover_all, and a task delivered twice or after its worker died."""
import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from environments import aws
from inventory import discovery
from inventory.models import DiscoveryRun, RunState
from inventory.tasks import discover_all, environment_discover
from rules.models import Rule

pytestmark = [pytest.mark.aws]


def test_beat_discovers_every_environment_every_discovery_interval(environment, production, apply_inline):
    assert django_settings.CELERY_BEAT_SCHEDULE["discover-all"] == {
        "task": "inventory.tasks.discover_all", "schedule": float(django_settings.DISCOVERY_INTERVAL_SECONDS)}
    aws.client(environment, "events").put_rule(Name="us-rule", EventPattern=json.dumps({"source": ["x"]}))
    aws.client(production, "events").put_rule(Name="eu-rule", EventPattern=json.dumps({"source": ["x"]}))

    discover_all()

    assert sorted(DiscoveryRun.objects.values_list("environment__name", "state")) == [
        ("Production", RunState.SUCCEEDED), ("Sandbox", RunState.SUCCEEDED)]
    assert sorted(Rule.objects.unmanaged().values_list("environment__name", "name")) == [
        ("Production", "eu-rule"), ("Sandbox", "us-rule")]


def test_beat_skips_an_environment_whose_discovery_is_running_and_interrupts_a_dead_one(environment, production,
                                                                                       apply_inline):
    busy = discovery.run_start(environment)
    DiscoveryRun.objects.filter(pk=busy.pk).update(heartbeat=timezone.now())  # a worker is on it
    dead = discovery.run_start(production)
    long_ago = timezone.now() - timedelta(seconds=django_settings.DISCOVERY_STALE_SECONDS + 1)
    DiscoveryRun.objects.filter(pk=dead.pk).update(heartbeat=long_ago)

    discover_all()

    assert DiscoveryRun.objects.get(pk=busy.pk).state == RunState.RUNNING
    assert DiscoveryRun.objects.filter(environment=environment).count() == 1
    assert DiscoveryRun.objects.get(pk=dead.pk).state == RunState.INTERRUPTED
    assert DiscoveryRun.objects.filter(environment=production).latest("id").state == RunState.SUCCEEDED


def test_a_task_delivered_twice_runs_once_and_one_redelivered_after_its_worker_died_reruns(environment, db):
    run = discovery.run_start(environment)
    environment_discover(environment.pk, run.pk)
    environment_discover(environment.pk, run.pk)  # delivered again: that run is finished
    assert list(DiscoveryRun.objects.values_list("state", flat=True)) == [RunState.SUCCEEDED]

    # a run whose worker died (claimed, then no progress), and its task delivered again
    dead = discovery.run_start(environment)
    long_ago = timezone.now() - timedelta(seconds=django_settings.DISCOVERY_STALE_SECONDS + 1)
    DiscoveryRun.objects.filter(pk=dead.pk).update(heartbeat=long_ago)
    environment_discover(environment.pk, dead.pk)
    assert DiscoveryRun.objects.get(pk=dead.pk).state == RunState.INTERRUPTED
    assert DiscoveryRun.objects.latest("id").state == RunState.SUCCEEDED
    assert DiscoveryRun.objects.count() == 3
