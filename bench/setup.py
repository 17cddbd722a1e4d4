"""Shared set-up for benchmarks that need Django: a throwaway SQLite database and var/ folder."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def django_with_scratch_db(*, broker: str | None = None) -> Path:
    """Point settings at a fresh var/ (SQLite, broker) under a temp dir, set Django up and migrate.

    BENCH_DATABASE_URL (an empty database) replaces the SQLite file, e.g. for PostgreSQL.

    The broker is the filesystem one under that dir unless `broker` names another."""
    scratch = Path(tempfile.mkdtemp(prefix="eventconsole-bench-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.update({"EVENTCONSOLE_VAR_DIR": str(scratch), "DATABASE_URL": database_url,
                       "DJANGO_SETTINGS_MODULE": "eventconsole.settings", "LOG_LEVEL": "WARNING"})
    if broker:
        os.environ["CELERY_BROKER_URL"] = broker
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scratch


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return f"median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms"
