"""The fetch: batched GetMetricData against the moto server, what is stored, the dimensions of default and
custom buses and of schedule groups, paging and partial results, and the task (directly and in a worker)."""
import math
import time
from datetime import timedelta

import pytest
from botocore.stub import Stubber
from django.conf import settings
from django.utils import timezone

from environments import aws
from metrics import fetch
from metrics.models import Datapoint, Fetch, FetchState, Watched
from metrics.tasks import metrics_fetch, metrics_fetch_all
from tests.metrics.conftest import five_minutes_ago, rule_row, schedule_row
from tests.support.recording import recorded_calls

pytestmark = [pytest.mark.aws]
calls = pytest.fixture(recorded_calls, name="calls")

EVENTS_METRICS = 8  # Invocations … InvocationsFailedToBeSentToDlq (the list)
SCHEDULER_METRICS = 7
WINDOWS = 2  # 5-minute points over 24 hours, 1-hour points over 7 days


def stored(environment, metric, dimensions, period=300):
    return sorted((p.timestamp, p.value) for p in Datapoint.objects.filter(
        environment=environment, metric=metric, dimensions=dimensions, period=period))


def test_a_rule_on_the_default_bus_is_RuleName_alone_and_one_on_a_custom_bus_adds_EventBusName(
        environment, publish, calls):
    rule_row(environment, "orders-rule")
    rule_row(environment, "orders-rule", bus="orders")
    when = five_minutes_ago(30)
    publish("AWS/Events", "Invocations", {"RuleName": "orders-rule"}, 3, when)
    publish("AWS/Events", "Invocations", {"RuleName": "orders-rule"}, 2, when + timedelta(minutes=2))
    publish("AWS/Events", "Invocations", {"EventBusName": "orders", "RuleName": "orders-rule"}, 7, when)
    publish("AWS/Events", "FailedInvocations", {"EventBusName": "orders", "RuleName": "orders-rule"}, 1, when)

    result = fetch.environment_fetch(environment)

    assert result.state == FetchState.SUCCEEDED, result.error
    bucket = when - timedelta(minutes=1)  # the 5-minute period's start
    assert stored(environment, "Invocations", "RuleName=orders-rule") == [(bucket, 5.0)]
    assert stored(environment, "Invocations", "EventBusName=orders,RuleName=orders-rule") == [(bucket, 7.0)]
    assert stored(environment, "FailedInvocations", "EventBusName=orders,RuleName=orders-rule") == [(bucket, 1.0)]
    assert stored(environment, "FailedInvocations", "RuleName=orders-rule") == []
    hour = bucket.replace(minute=0)
    assert stored(environment, "Invocations", "RuleName=orders-rule", period=3600) == [(hour, 5.0)]
    assert set(Watched.objects.values_list("dimensions", flat=True)) == {
        "RuleName=orders-rule", "EventBusName=orders,RuleName=orders-rule"}
    # the rules list's sparkline: Invocations per hour, 24 hours, the newest last (30 minutes ago: the last or
    # the one before)
    line = Watched.objects.get(dimensions="RuleName=orders-rule").sparkline
    assert len(line) == 24 and sum(line) == 5 and sum(line[-2:]) == 5
    # 2 rules x 8 metrics = 16 queries per window: one call per window
    assert calls == ["GetMetricData"] * WINDOWS
    assert (result.queries, result.calls) == (2 * EVENTS_METRICS * WINDOWS, WINDOWS)


def test_schedule_groups_are_fetched_with_the_ScheduleGroup_dimension_once_per_group(environment, publish):
    schedule_row(environment, "nightly", "batch")
    schedule_row(environment, "weekly", "batch")
    schedule_row(environment, "hourly", "default")
    when = five_minutes_ago(60)
    publish("AWS/Scheduler", "InvocationAttemptCount", {"ScheduleGroup": "batch"}, 4, when)
    publish("AWS/Scheduler", "TargetErrorCount", {"ScheduleGroup": "batch"}, 1, when)

    result = fetch.environment_fetch(environment)

    assert result.queries == 2 * SCHEDULER_METRICS * WINDOWS  # two groups, not three schedules
    bucket = when - timedelta(minutes=1)
    assert stored(environment, "InvocationAttemptCount", "ScheduleGroup=batch") == [(bucket, 4.0)]
    assert stored(environment, "TargetErrorCount", "ScheduleGroup=batch") == [(bucket, 1.0)]
    assert set(Watched.objects.values_list("namespace", "dimensions")) == {
        ("AWS/Scheduler", "ScheduleGroup=batch"), ("AWS/Scheduler", "ScheduleGroup=default")}


@pytest.fixture
def query_sizes():
    """The number of MetricDataQueries and their Ids in every GetMetricData call the factory's clients make."""
    sizes, ids = [], []

    def hook(client, environment, service):
        def seen(params, **_):
            sizes.append(len(params["MetricDataQueries"]))
            ids.extend(q["Id"] for q in params["MetricDataQueries"])
        client.meta.events.register("provide-client-params.cloudwatch.GetMetricData", seen)

    aws.add_client_hook(hook)
    yield sizes, ids
    aws.remove_client_hook(hook)


def test_queries_are_batched_500_to_a_call_the_fewest_calls_GetMetricData_allows(environment, calls, query_sizes):
    rules = 130  # 130 x 8 = 1,040 queries a window: 3 calls each (500, 500, 40)
    for i in range(rules):
        rule_row(environment, f"rule-{i:03d}", bus="default" if i % 2 else "orders")

    result = fetch.environment_fetch(environment)

    fewest = WINDOWS * math.ceil(rules * EVENTS_METRICS / 500)
    assert calls.count("GetMetricData") == fewest == 6
    sizes, ids = query_sizes
    assert sorted(sizes) == [40, 40, 500, 500, 500, 500]
    assert all(i[0].islower() for i in ids)  # an Id starts with a lowercase letter
    assert result.queries == rules * EVENTS_METRICS * WINDOWS


def test_next_token_pages_are_followed_and_partial_messages_are_kept(environment):
    rule_row(environment, "paged")
    stubbers = []

    def hook(client, env, service):
        if service != "cloudwatch":
            return
        stubber = Stubber(client)
        now = timezone.now().replace(second=0, microsecond=0)
        for window in range(WINDOWS):
            stubber.add_response("get_metric_data", {
                "MetricDataResults": [{"Id": "m0", "Label": "Invocations", "Timestamps": [now - timedelta(hours=1)],
                                       "Values": [2.0], "StatusCode": "PartialData"}],
                "NextToken": f"page-2-{window}",
                "Messages": [{"Code": "MaxDatapointsExceeded", "Value": "More datapoints than one answer holds"}]})
            stubber.add_response("get_metric_data", {
                "MetricDataResults": [{"Id": "m0", "Label": "Invocations", "Timestamps": [now - timedelta(hours=2)],
                                       "Values": [3.0], "StatusCode": "Complete",
                                       "Messages": [{"Code": "ArithmeticError", "Value": "x"}]}]})
        stubber.activate()
        stubbers.append(stubber)

    aws.add_client_hook(hook)
    try:
        result = fetch.environment_fetch(environment)
    finally:
        aws.remove_client_hook(hook)

    assert result.state == FetchState.SUCCEEDED, result.error
    assert result.calls == 2 * WINDOWS
    stubbers[0].assert_no_pending_responses()
    assert "MaxDatapointsExceeded More datapoints than one answer holds" in result.messages
    assert "Invocations RuleName=paged: ArithmeticError x" in result.messages
    assert [v for _, v in stored(environment, "Invocations", "RuleName=paged")] == [3.0, 2.0]


def test_an_unreachable_endpoint_fails_the_fetch_in_words_and_keeps_what_was_stored(db):
    from environments.models import Environment

    offline = Environment.objects.create(name="Offline", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    rule_row(offline, "r")
    result = fetch.environment_fetch(offline)
    assert result.state == FetchState.FAILED
    assert "Could not connect to the AWS endpoint http://127.0.0.1:9" in result.error
    assert not Watched.objects.exists()  # never marked fetched


def test_beat_fetches_every_environment_and_a_fetch_is_not_run_twice(environment, production, publish, apply_inline):
    assert settings.CELERY_BEAT_SCHEDULE["metrics-fetch-all"] == {
        "task": "metrics.tasks.metrics_fetch_all", "schedule": float(settings.METRICS_FETCH_INTERVAL_SECONDS)}
    rule_row(environment, "a")
    rule_row(production, "b")
    metrics_fetch_all()
    assert sorted(Fetch.objects.values_list("environment__name", "state")) == [
        ("Production", FetchState.SUCCEEDED), ("Sandbox", FetchState.SUCCEEDED)]
    done = Fetch.objects.filter(environment=environment).get()
    metrics_fetch(environment.pk, done.pk)  # delivered again: finished, not run again
    assert Fetch.objects.get(pk=done.pk).calls == WINDOWS
    assert Fetch.objects.count() == 2


@pytest.mark.worker
def test_a_worker_fetches_and_stores(celery_worker, environment, publish):
    rule_row(environment, "worker-rule")
    when = five_minutes_ago(10)
    publish("AWS/Events", "MatchedEvents", {"RuleName": "worker-rule"}, 9, when)

    metrics_fetch.delay(environment.pk)

    deadline = time.monotonic() + 60
    while not Fetch.objects.filter(state=FetchState.SUCCEEDED).exists():
        assert time.monotonic() < deadline, celery_worker.log()
        time.sleep(0.2)
    assert stored(environment, "MatchedEvents", "RuleName=worker-rule") == [(when - timedelta(minutes=1), 9.0)]


def test_a_fetch_running_blocks_another_until_its_worker_is_taken_as_lost(environment, users):
    running = fetch.fetch_start(environment)
    with pytest.raises(fetch.FetchBusy, match="Metrics of Sandbox are being fetched now."):
        fetch.fetch_start(environment, requested_by=users["viewer"])
    Fetch.objects.filter(pk=running.pk).update(started=timezone.now() - fetch.STALE_AFTER - timedelta(seconds=1))
    replacement = fetch.fetch_start(environment)
    lost = Fetch.objects.get(pk=running.pk)
    assert (lost.state, lost.error) == (FetchState.FAILED, "Interrupted: its worker stopped before it ended.")
    assert replacement.state == FetchState.RUNNING
