"""Benchmark the schedules list with 10,000 schedules: server time per page and queries per page.

Run from the repository root:  .venv/bin/python -m bench schedules   (or this file directly)

A throwaway SQLite database under a temporary directory (bench/setup.py) is migrated and filled with 10,000
schedules (cron, rate and one-time, many time zones, 20 groups, some with a pending change).
Each page is requested through Django's test client, so the time is the whole server side:
middleware, session, the filter form, the query, the table and the template.
Target: median under 50 ms per page, and the same number of queries whatever the page size.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time

from setup import django_with_scratch_db

COUNT = int(os.environ.get("BENCH_SCHEDULES", "10000"))
REPEAT = 15


EXPRESSIONS = ["cron(0 23 * * ? *)", "cron(0 6 ? * MON-FRI *)", "cron(0/15 8-17 ? * MON-FRI *)", "rate(5 minutes)",
               "rate(1 hour)", "cron(30 1 L * ? *)", "cron(0 9 ? * 2#1 *)", "at(2031-06-01T09:00:00)"]
ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Europe/Berlin"]


def fill(count: int):
    from django.utils import timezone

    from accounts.roles import OPERATORS
    from accounts.services import user_create
    from changes.choices import ChangeAction, ChangeKind, ChangeState, SyncStatus
    from changes.models import ChangeRequest
    from environments.models import Environment
    from schedules.kind import denormalise
    from schedules.models import Schedule
    from schedules.spec import canonical_schedule_spec

    user = user_create(username="bench", password="bench-password-123456", roles=[OPERATORS])
    environment = Environment.objects.create(name="Bench", region="us-east-1", account_id="123456789012",
                                             endpoint_url="http://127.0.0.1:9")
    statuses = [SyncStatus.IN_SYNC] * 8 + [SyncStatus.DRIFTED, SyncStatus.MISSING]
    now = timezone.now()
    rows = []
    for i in range(count):
        spec = canonical_schedule_spec({
            "Name": f"schedule-{i:05d}", "GroupName": f"group-{i % 20:02d}",
            "Description": f"Bench schedule number {i}", "ScheduleExpression": EXPRESSIONS[i % len(EXPRESSIONS)],
            "ScheduleExpressionTimezone": ZONES[i % len(ZONES)], "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances" if i % 2 else
                       "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing",
                       "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": '{"InstanceIds": ["i-1"]}'},
            "State": "DISABLED" if i % 13 == 0 else "ENABLED"})
        row = Schedule(environment=environment, name=spec["Name"], group_name=spec["GroupName"], desired_spec=spec,
                       live_spec=spec, version=1, sync_status=statuses[i % len(statuses)], last_applied=now,
                       last_polled=now)
        denormalise(row, spec, now=now)
        rows.append(row)
    Schedule.objects.bulk_create(rows, batch_size=1000)
    pending = [ChangeRequest(kind=ChangeKind.SCHEDULE, action=ChangeAction.UPDATE, environment=environment,
                             author=user, schedule=s, object_name=s.object_name, state=ChangeState.SUBMITTED)
               for s in Schedule.objects.all()[: count // 50]]
    ChangeRequest.objects.bulk_create(pending, batch_size=1000)
    return user


def measure(client, url: str) -> tuple[float, int, int]:
    """(median ms, queries, status) of GET url."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    times = []
    reset_queries()  # request_started resets the log too; start both counts from zero
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    count = len(queries.captured_queries)  # now: the next request resets the log
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), count, response.status_code


def main() -> int:
    workdir = django_with_scratch_db()
    try:
        from django.test import Client

        started = time.perf_counter()
        user = fill(COUNT)
        print(f"{COUNT:,} schedules created in {time.perf_counter() - started:.1f} s "
              f"(throwaway SQLite under {workdir})")
        client = Client()
        client.force_login(user)
        rows = [
            ("first page (50)", "/schedules/"),
            ("middle page (50)", f"/schedules/?page={COUNT // 100}"),
            ("last page (50)", f"/schedules/?page={-(-COUNT // 50)}"),
            ("sorted by next run", "/schedules/?sort=next_run&page=3"),
            ("search 'number 77'", "/schedules/?q=number+77"),
            ("group + state filter", "/schedules/?group_name=group-07&state=ENABLED"),
            ("status: pending change", "/schedules/?status=pending_change"),
            ("htmx table only", "/schedules/?page=7"),
            ("page size 10", "/schedules/?per_page=10&page=5"),
            ("page size 100", "/schedules/?per_page=100&page=5"),
            ("page size 200", "/schedules/?per_page=200&page=5"),
            ("page size 500", "/schedules/?per_page=500&page=5"),
        ]
        print(f"\n{'page':<26}{'median ms':>10}{'queries':>9}")
        medians, by_size = [], {}
        for label, url in rows:
            if label.startswith("htmx"):
                client.defaults["HTTP_HX_REQUEST"] = "true"
            median, queries, status = measure(client, url)
            client.defaults.pop("HTTP_HX_REQUEST", None)
            assert status == 200, (url, status)
            print(f"{label:<26}{median:>10.1f}{queries:>9}")
            if "page size" in label or "(50)" in label:
                by_size[label] = queries
            if "page size" not in label:
                medians.append(median)
        overall = statistics.median(medians)
        constant = len(set(by_size.values())) == 1
        verdict = "met" if overall < 50 else "MISSED"
        print(f"\nmedian over the 50-row pages: {overall:.1f} ms (target < 50 ms: {verdict})")
        print(f"queries per page for page sizes 10-500: {sorted(set(by_size.values()))} "
              f"({'constant' if constant else 'NOT constant'})")
        return 0 if constant else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
