"""The dashboard ("what needs me?") at 10,000 objects and 1,000,000 audit events: median server time and
queries per page, for each role.

Run from the repository root:  .venv/bin/python -m bench dashboard   (or make bench).
AUDIT_EVENTS=200000 python -m bench dashboard for a quicker run.

The data is bench_audit's (its `seed`: ~10,000 rules and schedules in Sandbox and Production, about
108,000 applied change requests, 1,000,000 audit events on a valid chain, inserted in bulk), plus what
the dashboard shows: 5% of the objects drifted and 2% missing, schedules with a stored next run spread
over the next three days, 300 changes waiting for review, 200 failed, 150 drafts. Each page is requested
through Django's test client (middleware, session, permissions, queries, template: the whole server side).
Target: median under 50 ms, and the same number of queries whatever the data (checked at two sizes).
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from datetime import timedelta

from setup import django_with_scratch_db  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))


def shape(seeded: dict) -> dict:
    """Statuses, next runs and open changes on top of bench_audit's seed (bulk updates, no AWS)."""
    from django.db.models import F
    from django.utils import timezone

    from changes.choices import ChangeState, SyncStatus
    from changes.models import ChangeRequest
    from rules.models import Rule
    from schedules.models import Schedule

    now = timezone.now()
    for model in (Rule, Schedule):
        model.objects.update(sync_status=SyncStatus.IN_SYNC, last_polled=now)
        ids = list(model.objects.order_by("id").values_list("id", flat=True))
        model.objects.filter(id__in=ids[::20]).update(sync_status=SyncStatus.DRIFTED)  # 5%
        model.objects.filter(id__in=ids[7::50]).update(sync_status=SyncStatus.MISSING)  # 2%
    schedules = list(Schedule.objects.only("id"))
    for n, schedule in enumerate(schedules):
        schedule.state, schedule.expression, schedule.timezone = "ENABLED", f"rate({n % 59 + 1} minutes)", "UTC"
        schedule.next_run = now + timedelta(minutes=(n * 7) % (3 * 24 * 60) + 1)
    Schedule.objects.bulk_update(schedules, ["state", "expression", "timezone", "next_run"], batch_size=2000)
    changes = ChangeRequest.objects.order_by("-id").values_list("id", flat=True)
    ids = list(changes[:650])
    ChangeRequest.objects.filter(id__in=ids[:300]).update(state=ChangeState.SUBMITTED, submitted_at=F("created"))
    ChangeRequest.objects.filter(id__in=ids[300:500]).update(state=ChangeState.FAILED, last_error="AccessDenied")
    ChangeRequest.objects.filter(id__in=ids[500:650]).update(state=ChangeState.DRAFT)
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"operator": seeded["operators"][0], "reviewer": seeded["reviewers"][0]}


def measure(client) -> tuple[float, float, int, int]:
    """(median ms, fastest ms, queries, status) of GET /."""
    from django.db import connection

    client.get("/")  # warm-up
    executed = []

    def count(execute, sql, params, many, context):  # every statement, whatever the query log holds
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get("/")
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get("/")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), len(executed), response.status_code


def main() -> int:
    workdir = django_with_scratch_db()
    try:
        from bench_audit import EVENTS, seed

        from django.test import Client

        from accounts.roles import ADMINS, VIEWERS
        from accounts.services import user_create
        from audit.models import AuditEvent
        from rules.models import Rule
        from schedules.models import Schedule

        started = time.perf_counter()
        people = shape(seed(EVENTS))
        people["viewer"] = user_create(username="bench-viewer", password="bench-password-1", roles=[VIEWERS])
        people["admin"] = user_create(username="bench-admin", password="bench-password-1", roles=[ADMINS])
        objects = Rule.objects.count() + Schedule.objects.count()
        print(f"{objects:,} objects, {AuditEvent.objects.count():,} audit events, seeded in "
              f"{time.perf_counter() - started:.0f} s; throwaway database under {workdir}; median of {REPEAT} "
              "requests after one warm-up")
        print(f"\n{'dashboard as':<16}{'median ms':>10}{'fastest ms':>11}{'queries':>9}")
        missed, counts = [], {}
        for role, user in people.items():
            client = Client()
            client.force_login(user)
            median, fastest, queries, status = measure(client)
            assert status == 200, (role, status)
            counts[role] = queries
            print(f"{role:<16}{median:>10.1f}{fastest:>11.1f}{queries:>9}", flush=True)
            if median >= 50:
                missed.append(role)
        # the same queries with a tenth of the open changes and drift: the count does not follow the data
        from changes.choices import SyncStatus
        from changes.models import ChangeRequest

        ChangeRequest.objects.filter(state__in=["submitted", "failed", "draft"]).exclude(id__in=ChangeRequest.objects.filter(
            state__in=["submitted", "failed", "draft"]).order_by("id").values("id")[:60]).update(state="applied")
        for model in (Rule, Schedule):
            model.objects.filter(id__gt=1000).update(sync_status=SyncStatus.IN_SYNC)
        constant = True
        for role, user in people.items():
            client = Client()
            client.force_login(user)
            queries = measure(client)[2]
            constant &= queries == counts[role]
        print(f"\nroles at or over 50 ms: {', '.join(missed) if missed else 'none'}")
        print(f"queries per page {'constant' if constant else 'NOT constant'} when the data shrinks tenfold")
        return 0 if constant else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
