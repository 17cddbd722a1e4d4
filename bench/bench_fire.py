"""The local emulator's firing beat (schedules.invocations.schedules_fire_due) at 10,000 enabled schedules in an
emulated environment, none of them due: what one beat costs when it finds nothing to fire (every 10 s).

Run from the repository root:  .venv/bin/python -m bench fire

The schedules are inserted in bulk (no AWS): in sync, applied a day ago, half cron(0 23 * * ? *) in
Europe/London, half rate(n minutes) with n from 7 to 59, each with 20 runs already fired, the last by the
previous beat a second ago, so none is due. Target: a beat under 2 s (a fifth of its interval), in 3 queries
or fewer whatever the number of schedules (no JSON spec read).
"""
from __future__ import annotations

import os
import statistics
import sys
from datetime import UTC, datetime, timedelta

from setup import django_with_scratch_db, timed  # noqa: E402

SCHEDULES = int(os.environ.get("SCHEDULES", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))


def seed(now: datetime) -> None:
    from changes.choices import SyncStatus
    from environments.models import Environment
    from schedules.models import Schedule, ScheduleRun

    environment = Environment.objects.create(name="Emulator", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                             account_id="123456789012")
    applied = now - timedelta(days=1, seconds=10)  # rate steps fall on :20 s, never within the last second
    rows = []
    for n in range(SCHEDULES):
        expression = "cron(0 23 * * ? *)" if n % 2 else f"rate({n % 53 + 7} minutes)"
        spec = {"Name": f"s{n}", "GroupName": "default", "ScheduleExpression": expression,
                "ScheduleExpressionTimezone": "Europe/London", "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED", "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                                                "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": "x" * 200}}
        rows.append(Schedule(environment=environment, name=f"s{n}", version=1, state="ENABLED", expression=expression,
                             timezone="Europe/London", sync_status=SyncStatus.IN_SYNC, desired_spec=spec,
                             live_spec=spec, last_applied=applied, target_arn=spec["Target"]["Arn"]))
    Schedule.objects.bulk_create(rows, batch_size=2000)
    # the previous beat (a second ago) fired whatever was due
    runs = [ScheduleRun(schedule=schedule, time=now, trigger=ScheduleRun.EMULATOR, execution_id="x",
                        scheduled_time=now - timedelta(seconds=1, minutes=k), ok=True)
            for schedule in Schedule.objects.only("id") for k in range(20)]
    ScheduleRun.objects.bulk_create(runs, batch_size=5000)


def main() -> int:
    django_with_scratch_db()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from schedules.invocations import schedules_fire_due

    now = datetime.now(UTC).replace(second=30, microsecond=0)
    seed(now)
    with CaptureQueriesContext(connection) as queries:
        report = schedules_fire_due(now=now)
    assert report.fired == 0, report
    times = timed(lambda: schedules_fire_due(now=now), REPEAT)
    median = statistics.median(times) / 1000
    print(f"{SCHEDULES:,} schedules, none due: one beat {median * 1000:.0f} ms (median of {REPEAT}), "
          f"{len(queries.captured_queries)} queries")
    ok = median < 2.0 and len(queries.captured_queries) <= 3
    print("OK" if ok else "TOO SLOW")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
