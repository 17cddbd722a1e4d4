"""The rules and schedules lists and the inventory search with 60,000 objects (5,000 rules over 20 buses,
55,000 schedules over 50 groups; half managed, half unmanaged as discovery leaves them; 3 environments):
median server time per page and queries per page.

Run from the repository root:  .venv/bin/python -m bench inventory_pages   (or make bench)

The rows are made directly in a throwaway SQLite database (bench/setup.py; BENCH_DATABASE_URL for another
database) with bulk_create, each denormalised by its kind from its spec (search columns included), so the
pages read what they read in production. Each page is requested through Django's test client: the time is
the whole server side (middleware, session, permissions, filter form, queries, template).
Target: median under 50 ms per page, and the same number of queries whatever the page size.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time

from setup import django_with_scratch_db  # noqa: E402

RULES = int(os.environ.get("BENCH_INVENTORY_RULES", "5000"))
SCHEDULES = int(os.environ.get("BENCH_INVENTORY_SCHEDULES", "55000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "9"))
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
EXPRESSIONS = ["cron(0 23 * * ? *)", "cron(0 6 ? * MON-FRI *)", "rate(5 minutes)", "rate(1 hour)",
               "cron(30 1 L * ? *)", "at(2031-06-01T09:00:00)"]
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]


def fill():
    from django.utils import timezone

    from accounts.roles import OPERATORS
    from accounts.services import user_create
    from changes.choices import SyncStatus
    from environments.models import Environment
    from rules import kind as rule_kind
    from rules.models import Rule
    from rules.spec import canonical_rule_spec
    from schedules import kind as schedule_kind
    from schedules.models import Schedule
    from schedules.spec import canonical_schedule_spec

    user = user_create(username="bench", password="bench-password-123456", roles=[OPERATORS])
    envs = [Environment.objects.create(name=f"Env {n}", region=region, account_id=account,
                                       endpoint_url="http://127.0.0.1:9")
            for n, (account, region) in enumerate(zip(ACCOUNTS, ["us-east-1", "eu-west-1", "ap-south-1"]))]
    now = timezone.now()

    def state_of(row, spec, i, denormalise, **extra):
        if i % 2:  # managed
            row.desired_spec, row.live_spec, row.version = spec, spec, 1
            row.sync_status = SyncStatus.DRIFTED if i % 11 == 0 else SyncStatus.IN_SYNC
            row.last_applied = row.last_polled = now
        else:  # unmanaged, as discovery leaves it
            row.desired_spec, row.live_spec, row.version = None, spec, 0
            row.sync_status = SyncStatus.UNMANAGED
            row.first_seen = row.last_seen = now
            row.stack_name = f"stack-{i % 40}" if i % 6 == 0 else ""
        denormalise(row, spec, **extra)
        return row

    rules = []
    for i in range(RULES):
        env = envs[i % 3]
        bus = "default" if i % 20 == 0 else f"bus-{i % 20:02d}"
        account = env.account_id
        spec = canonical_rule_spec({
            "Rule": {"Name": f"rule-{i:05d}", "EventBusName": bus, "State": "ENABLED" if i % 5 else "DISABLED",
                     "Description": f"inventory bench rule {i}",
                     "EventPattern": json.dumps({"source": [f"com.example.app{i % 300}"],
                                                 "detail-type": ["Order Placed" if i % 2 else "Order Shipped"]})},
            "Targets": [{"Id": f"t{t}", "Arn": f"arn:aws:lambda:{env.region}:{account}:function:fn-{(i + t) % 200}",
                         **({"DeadLetterConfig": {"Arn": f"arn:aws:sqs:{env.region}:{account}:dlq-{i % 25}"}}
                            if t == 0 else {})}
                        for t in range(1 + i % 5)],
            "Tags": [{"Key": "team", "Value": f"team-{i % 30}"}, {"Key": "env", "Value": "prod" if i % 3 else "dev"}]})
        row = Rule(environment=env, name=spec["Rule"]["Name"], event_bus_name=bus)
        rules.append(state_of(row, spec, i, rule_kind.denormalise))
    Rule.objects.bulk_create(rules, batch_size=1000)
    del rules

    batch = []
    for i in range(SCHEDULES):
        env = envs[i % 3]
        spec = canonical_schedule_spec({
            "Name": f"schedule-{i:05d}", "GroupName": f"group-{i % 50:02d}",
            "Description": f"inventory bench schedule {i}", "ScheduleExpression": EXPRESSIONS[i % len(EXPRESSIONS)],
            "ScheduleExpressionTimezone": ZONES[i % len(ZONES)], "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": f"arn:aws:sqs:{env.region}:{env.account_id}:queue-{i % 500}",
                       "RoleArn": f"arn:aws:iam::{env.account_id}:role/scheduler-{i % 50}"},
            "State": "DISABLED" if i % 13 == 0 else "ENABLED"})
        row = Schedule(environment=env, name=spec["Name"], group_name=spec["GroupName"])
        batch.append(state_of(row, spec, i, schedule_kind.denormalise, now=now))
        if len(batch) == 5000:
            Schedule.objects.bulk_create(batch, batch_size=1000)
            batch = []
    Schedule.objects.bulk_create(batch, batch_size=1000)
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return user


def measure(client, url: str) -> tuple[float, int, int]:
    """(median ms, queries, status) of GET url."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    count = len(queries.captured_queries)
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), count, response.status_code


PAGES = [
    ("rules", "first page", "/rules/"),
    ("rules", "managed", "/rules/?managed=managed"),
    ("rules", "unmanaged", "/rules/?managed=unmanaged"),
    ("rules", "status unmanaged", "/rules/?status=unmanaged"),
    ("rules", "status drifted", "/rules/?status=drifted"),
    ("rules", "environment + bus", "/rules/?environment=2&event_bus_name=bus-07"),
    ("rules", "state + type", "/rules/?state=DISABLED&rule_type=pattern"),
    ("rules", "search 'rule 77'", "/rules/?q=rule+77"),
    ("rules", "unmanaged, page 40", "/rules/?managed=unmanaged&page=40"),
    ("schedules", "first page", "/schedules/"),
    ("schedules", "managed", "/schedules/?managed=managed"),
    ("schedules", "unmanaged", "/schedules/?managed=unmanaged"),
    ("schedules", "status unmanaged", "/schedules/?status=unmanaged"),
    ("schedules", "group + state", "/schedules/?group_name=group-07&state=ENABLED"),
    ("schedules", "occurrence rate", "/schedules/?occurrence=rate"),
    ("schedules", "search 'schedule 777'", "/schedules/?q=schedule+777"),
    ("schedules", "unmanaged, page 500", "/schedules/?managed=unmanaged&page=500"),
    ("inventory", "everything, page 1", "/inventory/"),
    ("inventory", "everything, page 600", "/inventory/?page=600"),
    ("inventory", "in name", "/inventory/?in=name&q=rule-0042"),
    ("inventory", "in pattern (rules)", "/inventory/?in=pattern&q=com.example.app299"),
    ("inventory", "in expression (schedules)", "/inventory/?in=pattern&q=asia/kolkata"),
    ("inventory", "in target (Lambda)", "/inventory/?in=target&q=function:fn-199"),
    ("inventory", "in target (queue)", "/inventory/?in=target&q=queue-499"),
    ("inventory", "in tag", "/inventory/?in=tag&q=team%3Dteam-7"),
    ("inventory", "in role", "/inventory/?in=role&q=role/scheduler-49"),
    ("inventory", "anything", "/inventory/?q=fn-42"),
    ("inventory", "unmanaged schedules, env", "/inventory/?kind=schedule&managed=unmanaged&environment=3"),
    ("inventory", "status drifted", "/inventory/?status=drifted"),
]


def main() -> int:
    workdir = django_with_scratch_db()
    try:
        from django.test import Client

        started = time.perf_counter()
        user = fill()
        print(f"{RULES:,} rules + {SCHEDULES:,} schedules (half unmanaged, 3 environments) created in "
              f"{time.perf_counter() - started:.1f} s; throwaway database under {workdir}; median of {REPEAT} "
              "requests after one warm-up")
        client = Client()
        client.force_login(user)
        print(f"\n{'page':<44}{'median ms':>10}{'queries':>9}")
        missed = []
        for group, label, url in PAGES:
            median, queries, status = measure(client, url)
            assert status == 200, (url, status)
            name = f"{group}: {label}"
            print(f"{name:<44}{median:>10.1f}{queries:>9}", flush=True)
            if median >= 50:
                missed.append(name)
        print("\nqueries per page by page size (10 / 50 / 200):")
        constant = True
        for base in ("/rules/?managed=unmanaged", "/schedules/?managed=unmanaged", "/inventory/?in=target&q=fn-1"):
            counts = [measure(client, f"{base}&per_page={size}")[1] for size in (10, 50, 200)]
            constant &= len(set(counts)) == 1
            print(f"  {base:<42} {counts}")
        print(f"\npages at or over 50 ms: {', '.join(missed) if missed else 'none'}")
        print(f"queries per page {'constant' if constant else 'NOT constant'} across page sizes")
        return 0 if constant else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
