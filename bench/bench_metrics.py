"""Metrics: (1) the fetch of 5,000 rules' figures against a moto server: GetMetricData calls against the fewest
the API allows, and wall time; (2) the rules list with its sparklines at 10,000 rules: median server time.

Run: .venv/bin/python -m bench metrics
     BENCH_METRICS_RULES=500 for a quicker fetch part; BENCH_METRICS_PARTS=fetch or list for one part.

(1) 5,000 rules (a quarter on custom buses), each with 8 AWS/Events metrics in two windows (5-minute points over
24 hours, 1-hour points over 7 days): 80,000 queries; GetMetricData takes at most 500 a call, so the fewest is
ceil(5,000 x 8 / 500) = 80 calls per window, 160 in all. 20 of the rules have datapoints published (put_metric_data,
AWS's names and dimensions). The environment allows 1,000 calls a second (the emulator, not the rate limit, is
measured). (2) 10,000 rules, each with 48 stored Invocations points in the last 24 hours and a "fetched" mark with its
24 hourly sums,
2% of them failing; the list as a viewer, 30 requests per page after 3 warm-ups.
"""
from __future__ import annotations

import math
import os
import random
import time
from datetime import timedelta

from setup import django_with_scratch_db, summary, timed

django_with_scratch_db()

from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import user_create  # noqa: E402
from environments import aws  # noqa: E402
from environments.models import Environment  # noqa: E402
from eventconsole import localaws  # noqa: E402
from metrics import catalog, fetch  # noqa: E402
from metrics.models import Datapoint, Watched  # noqa: E402
from metrics.selectors import failing_keys, sparklines  # noqa: E402
from rules.models import Rule  # noqa: E402
from seed_account import CallCounter  # noqa: E402

FETCH_RULES = int(os.environ.get("BENCH_METRICS_RULES", "5000"))
# moto answers a GetMetricData query by scanning every stored datapoint once per period (288 or 168 periods):
# a call's time grows with queries x periods x datapoints stored. Datapoints for every 250th rule keep the
# emulator's share small; the number of calls does not depend on it.
PUBLISH_EVERY = 250
PARTS = os.environ.get("BENCH_METRICS_PARTS", "fetch,list").split(",")
LIST_RULES = 10_000
SPEC = {"Rule": {"Name": "x", "EventBusName": "default", "State": "ENABLED", "EventPattern": '{"source":["x"]}'},
        "Targets": [], "Tags": []}


def bus_of(i: int) -> str:
    return "default" if i % 4 else f"bus-{i % 20}"


def fetch_part() -> None:
    process, url = localaws.start_moto()
    try:
        environment = Environment.objects.create(name="Fetch", region="us-east-1", endpoint_url=url,
                                                 account_id="123456789012", api_rate_limit=1000)
        Rule.objects.bulk_create([Rule(environment=environment, name=f"rule-{i:05d}", event_bus_name=bus_of(i),
                                       desired_spec=SPEC, live_spec=SPEC, version=1, state="ENABLED")
                                  for i in range(FETCH_RULES)], batch_size=2000)
        cloudwatch = aws.client(environment, "cloudwatch")
        now = timezone.now()
        data = []
        for i in range(0, FETCH_RULES, PUBLISH_EVERY):
            dims = catalog.rule_dimensions(bus_of(i), f"rule-{i:05d}")
            data.append({"MetricName": "Invocations", "Dimensions": dims, "Value": float(i % 7 + 1), "Unit": "Count",
                         "Timestamp": now - timedelta(minutes=random.randint(5, 24 * 60))})
        for first in range(0, len(data), 1000):
            cloudwatch.put_metric_data(Namespace="AWS/Events", MetricData=data[first:first + 1000])
        counter = CallCounter()
        aws.add_client_hook(counter)
        fewest = len(catalog.WINDOWS) * math.ceil(FETCH_RULES * len(catalog.EVENTS_METRICS) / 500)
        print(f"(1) fetch of {FETCH_RULES:,} rules x {len(catalog.EVENTS_METRICS)} metrics x "
              f"{len(catalog.WINDOWS)} windows against moto ({len(data):,} series with datapoints)")
        for label in ("first fetch", "second fetch"):
            counter.counts.clear()
            started, cpu = time.perf_counter(), time.process_time()
            run = fetch.environment_fetch(environment)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            calls = counter.by_operation()["GetMetricData"]
            print(f"  {label:<13} {wall:6.1f} s  {run.state}  queries {run.queries:,}  GetMetricData calls {calls} "
                  f"(fewest ceil(queries/500) = {fewest})  datapoints {run.datapoints:,}  "
                  f"EventConsole's own CPU {cpu:.1f} s (the rest is the emulator)", flush=True)
        aws.remove_client_hook(counter)
    finally:
        localaws.stop(process)


def list_part() -> None:
    environment = Environment.objects.create(name="Bench", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    user = user_create(username="bench", password="bench-password-1", roles=["Viewers"])
    Rule.objects.bulk_create([Rule(environment=environment, name=f"rule-{i:05d}", event_bus_name=bus_of(i),
                                   desired_spec=SPEC, live_spec=SPEC, version=1, state="ENABLED", targets_count=1)
                              for i in range(LIST_RULES)], batch_size=2000)
    now = timezone.now()
    start = now.replace(second=0, microsecond=0, minute=now.minute - now.minute % 5) - timedelta(hours=24)
    started = time.perf_counter()
    for first in range(0, LIST_RULES, 500):
        points = []
        for i in range(first, first + 500):
            key = catalog.rule_key(bus_of(i), f"rule-{i:05d}")
            for n in range(48):
                points.append(Datapoint(environment=environment, namespace=catalog.EVENTS, metric="Invocations",
                                        dimensions=key, period=300, value=float((i + n) % 9),
                                        timestamp=start + timedelta(minutes=30 * n + 5), fetched_at=now))
            if i % 50 == 0:
                points.append(Datapoint(environment=environment, namespace=catalog.EVENTS, metric="FailedInvocations",
                                        dimensions=key, period=300, value=1.0, timestamp=now - timedelta(hours=2),
                                        fetched_at=now))
        Datapoint.objects.bulk_create(points, batch_size=5000)
    Watched.objects.bulk_create([Watched(environment=environment, namespace=catalog.EVENTS, fetched_at=now,
                                         dimensions=catalog.rule_key(bus_of(i), f"rule-{i:05d}"),
                                         sparkline=[float((i + h) % 9) * 2 for h in range(24)])
                                 for i in range(LIST_RULES)], batch_size=5000)
    print(f"\n(2) rules list with sparklines: {LIST_RULES:,} rules, {Datapoint.objects.count():,} stored datapoints "
          f"(seeded in {time.perf_counter() - started:.0f} s); SQLite; 30 requests per page after 3 warm-ups")
    client = Client()
    client.force_login(user)
    for label, url in (("list, page 1", "/rules/"), ("list, page 100", "/rules/?page=100"),
                       ("list, failing", "/rules/?failing=failing"),
                       ("list, 200 a page", "/rules/?per_page=200")):
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 200
        sparks = response.content.decode().count('data-testid="sparkline"')
        print(f"  {label:<18} {summary(timed(lambda: client.get(url), 30))}   {sparks} sparklines", flush=True)
    rows = list(Rule.objects.order_by("name").values_list("environment_id", "event_bus_name", "name")[:50])
    print(f"  the sparklines of 50 rows alone (one query): {summary(timed(lambda: sparklines(rows), 30))}")
    print(f"  the failing rules' dimensions alone (one query): {summary(timed(failing_keys, 30))}")


if "fetch" in PARTS:
    fetch_part()
if "list" in PARTS:
    list_part()
