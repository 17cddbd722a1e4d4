"""`verify_audit` over 1,000,000 events: time, events per second, memory, and the checkpoint it writes.

Run: python -m bench chain_verify   (AUDIT_EVENTS=200000 for a quicker run; BENCH_POSTGRES=1 to run it on
PostgreSQL at 127.0.0.1:5432 as postgres, in a scratch database that is dropped afterwards).

The events are the realistic mix of bench_audit (drafts with before/after/diff, API calls with their
data, sign-ins), written with a valid keyed chain. The walk reads 5,000 events per query (keyset
pagination), so memory stays flat however long the chain: the figure printed is the growth of the
process's peak RSS during the walk.
"""
from __future__ import annotations

import os
import resource
import shutil
import time

EVENTS = int(os.environ.get("AUDIT_EVENTS", "1000000"))
POSTGRES = os.environ.get("BENCH_POSTGRES") == "1"
PG_DB = "ec_bench_chain_verify"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    pg_admin = None
    if POSTGRES:
        import psycopg

        pg_admin = psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True)
        pg_admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
        pg_admin.execute(f'CREATE DATABASE "{PG_DB}"')
        os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    from setup import django_with_scratch_db

    scratch = django_with_scratch_db()
    from bench_audit import seed
    from django.db import connection

    from audit.checkpoints import audit_checkpoint_write
    from audit.services import audit_verify

    print(f"{connection.vendor}: inserting {EVENTS:,} audit events with a keyed chain …", flush=True)
    data = seed(EVENTS)
    print(f"set-up: {data['seconds']:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent")

    rss = _rss_mb()
    started = time.perf_counter()
    result = audit_verify()
    seconds = time.perf_counter() - started
    assert result.ok, result.problem
    print(f"verify: {result.count:,} events in {seconds:.1f} s ({result.count / seconds:,.0f} events/s); "
          f"peak RSS {rss:.0f} MB before, +{_rss_mb() - rss:.0f} MB during the walk", flush=True)
    started = time.perf_counter()
    mark = audit_checkpoint_write()
    print(f"checkpoint: event {mark.event_id:,}, count {mark.count:,}, written in "
          f"{(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    started = time.perf_counter()
    result = audit_verify()
    print(f"verify again, holding the chain against 1 checkpoint: {time.perf_counter() - started:.1f} s "
          f"({result.checkpoints} checkpoint matched)", flush=True)

    connection.close()
    shutil.rmtree(scratch, ignore_errors=True)
    if pg_admin is not None:
        pg_admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
