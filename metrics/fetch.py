"""Fetching figures: batched GetMetricData calls for every rule and schedule group of an environment.

One fetch reads, for each window (5-minute points over 24 hours, 1-hour points over 7 days), one query
per metric and set of dimensions, 500 queries per call (the most GetMetricData takes), following
NextToken until each call's results are complete. Datapoints are upserted (a later fetch corrects the
newest, still growing period), the partial-result Messages are kept on the Fetch, and every set of
dimensions asked for is marked fetched. Objects are found through the kind registry (rules: AWS/Events
with their bus and name; schedules: AWS/Scheduler per schedule group); this module never imports a kind.

Every call goes through environments.aws.client (credentials, role, retries, shared rate limit).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from changes import kinds
from environments import aws

from . import catalog
from .models import Datapoint, Fetch, FetchState, Watched

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)  # a running fetch without an end this long after it began: its worker died
REFRESH_AGAIN_AFTER = timedelta(seconds=60)  # "Refresh metrics" again sooner only says how fresh they are
KEEP = catalog.ONE_HOUR.span + timedelta(hours=2)  # datapoints older than the longest window are dropped
MAX_MESSAGES = 20
UPSERT_BATCH = 2000


class FetchBusy(Exception):
    """Another fetch of this environment is running, or one has just finished."""


def _watched(environment) -> list[tuple[str, list[dict[str, str]]]]:
    """(namespace, dimensions) of every rule and schedule group of `environment` that exists in AWS."""
    found: list[tuple[str, list[dict[str, str]]]] = []
    names = {k.name for k in kinds.all_kinds()}
    if "rule" in names:
        kind = kinds.get("rule")
        rows = (kind.model_class.objects.filter(environment=environment, live_spec__isnull=False)
                .order_by(kind.container_field, "name").values_list(kind.container_field, "name"))
        found += [(catalog.EVENTS, catalog.rule_dimensions(bus, name)) for bus, name in rows]
    if "schedule" in names:
        kind = kinds.get("schedule")
        groups = (kind.model_class.objects.filter(environment=environment, live_spec__isnull=False)
                  .order_by(kind.container_field).values_list(kind.container_field, flat=True).distinct())
        found += [(catalog.SCHEDULER, catalog.group_dimensions(group)) for group in groups]
    return found


def fetch_start(environment, *, requested_by=None, now: datetime | None = None) -> Fetch:
    """A new Fetch row (state Running), unless one is running (FetchBusy) or, for a person's
    Refresh, one finished less than a minute ago (FetchBusy, with how fresh the figures are)."""
    now = now or timezone.now()
    with transaction.atomic():
        last = Fetch.objects.select_for_update().filter(environment=environment).order_by("-id").first()
        if last is not None and last.state == FetchState.RUNNING and last.started > now - STALE_AFTER:
            raise FetchBusy(f"Metrics of {environment.name} are being fetched now.")
        if requested_by is not None and last is not None and last.finished and \
                last.finished > now - REFRESH_AGAIN_AFTER and last.state == FetchState.SUCCEEDED:
            seconds = max(1, int((now - last.finished).total_seconds()))
            raise FetchBusy(f"Metrics of {environment.name} were fetched {seconds} second{'s' if seconds != 1 else ''}"
                            " ago; refresh again in a minute.")
        if last is not None and last.state == FetchState.RUNNING:
            Fetch.objects.filter(pk=last.pk).update(state=FetchState.FAILED, finished=now,
                                                     error="Interrupted: its worker stopped before it ended.")
        return Fetch.objects.create(environment=environment, requested_by=requested_by)


def environment_fetch(environment, *, fetch: Fetch | None = None, now: datetime | None = None) -> Fetch:
    """Fetch every figure of `environment` (in the Running `fetch`, else a new one) and store it."""
    fetch = fetch or fetch_start(environment)
    now = now or timezone.now()
    watched = _watched(environment)
    client = aws.client(environment, "cloudwatch")
    try:
        for window in catalog.WINDOWS:
            queries = [(namespace, dims, metric.name) for namespace, dims in watched
                       for metric in catalog.METRICS[namespace]]
            start = catalog.floor(now - window.span, window.period)
            end = catalog.floor(now, 60) + timedelta(minutes=1)
            for first in range(0, len(queries), catalog.MAX_QUERIES_PER_CALL):
                _fetch_batch(client, environment, fetch, queries[first:first + catalog.MAX_QUERIES_PER_CALL],
                             window, start, end, now)
    except (ClientError, BotoCoreError) as exc:
        fetch.state, fetch.error = FetchState.FAILED, aws.describe_error(exc)
        log.warning("metrics fetch of %s failed: %s", environment.name, fetch.error)
    else:
        _mark_watched(environment, watched, now)
        Datapoint.objects.filter(environment=environment, timestamp__lt=now - KEEP).delete()
        fetch.state = FetchState.SUCCEEDED
    fetch.finished = timezone.now()
    fetch.save(update_fields=["state", "error", "finished", "queries", "calls", "datapoints", "messages"])
    return fetch


def _fetch_batch(client, environment, fetch: Fetch, batch, window, start, end, now) -> None:
    by_id = {}
    queries = []
    for index, (namespace, dims, metric) in enumerate(batch):
        qid = catalog.query_id(index)
        by_id[qid] = (namespace, catalog.dimensions_key(dims), metric)
        queries.append({"Id": qid, "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
            "Period": window.period, "Stat": catalog.STAT}})
    fetch.queries += len(queries)
    token = None
    while True:
        params = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
        if token:
            params["NextToken"] = token
        answer = client.get_metric_data(**params)
        fetch.calls += 1
        rows = []
        for result in answer.get("MetricDataResults", []):
            where = by_id.get(result.get("Id"))
            if where is None:
                continue
            namespace, key, metric = where
            for moment, value in zip(result.get("Timestamps", []), result.get("Values", [])):
                rows.append(Datapoint(environment=environment, namespace=namespace, metric=metric, dimensions=key,
                                      period=window.period, timestamp=moment, value=value, fetched_at=now))
            for message in result.get("Messages", []):
                _note(fetch, f"{metric} {key}: {message.get('Code', '')} {message.get('Value', '')}".strip())
        for message in answer.get("Messages", []):
            _note(fetch, f"{message.get('Code', '')} {message.get('Value', '')}".strip())
        _upsert(rows)
        fetch.datapoints += len(rows)
        token = answer.get("NextToken")
        if not token:
            return


def _note(fetch: Fetch, text: str) -> None:
    if len(fetch.messages) < MAX_MESSAGES:
        fetch.messages.append(text)


def _upsert(rows: list[Datapoint]) -> None:
    for first in range(0, len(rows), UPSERT_BATCH):
        Datapoint.objects.bulk_create(
            rows[first:first + UPSERT_BATCH], update_conflicts=True,
            unique_fields=["environment", "namespace", "dimensions", "metric", "period", "timestamp"],
            update_fields=["value", "fetched_at"])


def sparkline_start(now: datetime) -> datetime:
    """The first of the 24 hours a sparkline shows (the last one is the hour `now` is in)."""
    return catalog.floor(now, 3600) - timedelta(hours=catalog.SPARKLINE_HOURS - 1)


def _sparklines(environment, now) -> dict[str, list[float]]:
    """{AWS/Events dimensions: Invocations per hour over the 24 hours up to now}, summed by the database."""
    start = sparkline_start(now)
    lines: dict[str, list[float]] = {}
    for key, hour, total in (Datapoint.objects.filter(
            environment=environment, namespace=catalog.EVENTS, metric=catalog.SPARKLINE_METRIC,
            period=catalog.FIVE_MINUTES.period, timestamp__gte=start)
            .annotate(hour=TruncHour("timestamp")).values("dimensions", "hour").annotate(total=Sum("value"))
            .values_list("dimensions", "hour", "total")):
        index = int((hour - start).total_seconds() // 3600)
        if 0 <= index < catalog.SPARKLINE_HOURS:
            lines.setdefault(key, [0.0] * catalog.SPARKLINE_HOURS)[index] = total
    return lines


def _mark_watched(environment, watched, now) -> None:
    """Every set of dimensions asked for is fetched as of `now`; a rule's keeps its sparkline."""
    lines = _sparklines(environment, now)
    rows = []
    for namespace, dims in watched:
        key = catalog.dimensions_key(dims)
        line = lines.get(key, [0.0] * catalog.SPARKLINE_HOURS) if namespace == catalog.EVENTS else []
        rows.append(Watched(environment=environment, namespace=namespace, dimensions=key, fetched_at=now,
                            sparkline=line))
    for first in range(0, len(rows), UPSERT_BATCH):
        Watched.objects.bulk_create(rows[first:first + UPSERT_BATCH], update_conflicts=True,
                                    unique_fields=["environment", "namespace", "dimensions"],
                                    update_fields=["fetched_at", "sparkline"])
