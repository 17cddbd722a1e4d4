"""Benchmark polling 1,000 schedules against a moto server started here.

Run from the repository root:  .venv/bin/python -m bench schedules_poll   (or this file directly)

1,000 schedules are created in moto (one group) and registered in a throwaway SQLite database.
Then three polls of the environment:

1. cold: nothing read yet;
2. steady: nothing changed in AWS;
3. after 10 schedules were changed directly in AWS.

For each: wall time, the Scheduler API calls made, and the fewest calls that can learn the same
state. ListSchedules gives at most 100 summaries a page (name, state, target ARN,
LastModificationDate) and there is no batch GetSchedule, so learning N full schedules takes
ceil(N/100) + N calls, and learning that nothing changed takes ceil(N/100).
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNT = int(os.environ.get("BENCH_POLL_SCHEDULES", "1000"))
CHANGED = 10
PAGE = 100


def setup_django(workdir: str) -> None:
    os.environ["EVENTCONSOLE_VAR_DIR"] = workdir
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventconsole.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def spec_for(index: int) -> dict:
    return {"Name": f"poll-{index:04d}", "GroupName": "bench",
            "ScheduleExpression": ["cron(0 23 * * ? *)", "rate(15 minutes)", "cron(0/5 8-17 ? * MON-FRI *)"][index % 3],
            "ScheduleExpressionTimezone": ["Europe/London", "UTC", "America/New_York"][index % 3],
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
                       "RoleArn": "arn:aws:iam::123456789012:role/EventBridge_EC2_Startinstance_Role",
                       "Input": '{"InstanceIds": ["i-0123456789abcdef0"]}',
                       "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 0}},
            "ActionAfterCompletion": "NONE", "State": "ENABLED"}


def seed(environment) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    from changes.choices import SyncStatus
    from schedules.kind import denormalise
    from schedules.models import Schedule
    from schedules.plan import body
    from schedules.spec import canonical_schedule_spec

    def client():  # one client per thread, straight at moto: seeding is not what is measured
        return boto3.client("scheduler", endpoint_url=environment.endpoint_url, region_name=environment.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    client().create_schedule_group(Name="bench")
    specs = [canonical_schedule_spec(spec_for(i)) for i in range(COUNT)]

    def create(chunk):
        scheduler = client()
        for spec in chunk:
            scheduler.create_schedule(**body(spec))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, [specs[i::8] for i in range(8)]))
    rows = []
    for spec in specs:
        row = Schedule(environment=environment, name=spec["Name"], group_name="bench", desired_spec=spec, version=1,
                       sync_status=SyncStatus.PENDING)
        denormalise(row, spec)
        rows.append(row)
    Schedule.objects.bulk_create(rows, batch_size=500)


def poll(environment, label: str, fewest: int) -> None:
    from changes.polling import objects_poll

    started = time.perf_counter()
    report = objects_poll(environment, "schedule")
    wall = time.perf_counter() - started
    print(f"{label:<34}{wall:>8.2f} s{report.api_calls:>8}{fewest:>8}{report.reads:>8}   "
          f"in sync {report.in_sync}, drifted {report.drifted}, missing {report.missing}")


def main() -> int:
    from eventconsole import localaws

    with tempfile.TemporaryDirectory(prefix="bench-poll-") as workdir:
        setup_django(workdir)
        with open(Path(workdir) / "moto.log", "wb") as log:
            process, url = localaws.start_moto(log=log)
        try:
            from environments import aws
            from environments.models import Environment

            environment = Environment.objects.create(name="Bench", region="us-east-1", endpoint_url=url,
                                                     account_id="123456789012")
            started = time.perf_counter()
            seed(environment)
            print(f"{COUNT:,} schedules created in moto and registered in {time.perf_counter() - started:.1f} s")
            pages = math.ceil(COUNT / PAGE)
            print(f"\n{'poll':<34}{'wall':>10}{'calls':>8}{'fewest':>8}{'Gets':>8}")
            poll(environment, "1. cold (nothing read yet)", pages + COUNT)
            poll(environment, "2. steady (nothing changed)", pages)
            scheduler = aws.client(environment, "scheduler")
            for index in range(CHANGED):
                changed = spec_for(index)
                changed["ScheduleExpression"] = "cron(30 4 * * ? *)"
                scheduler.update_schedule(**changed)
            poll(environment, f"3. after {CHANGED} changed in AWS", pages + CHANGED)
            print(f"\nA poll that read every schedule each time would make {pages + COUNT} calls every time; "
                  f"ListSchedules' LastModificationDate tells which ones need GetSchedule.")
        finally:
            localaws.stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
