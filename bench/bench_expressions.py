"""Benchmark next_runs(count=10) for schedule expressions of varying sparseness.

Run from the repository root:  .venv/bin/python bench/bench_expressions.py [calls-per-row]

Each row calls next_runs with a different ``after`` spread over 2026-2029 (so
DST transitions and month ends are hit), after one warm-up call that fills the
parse cache. Target: under 1 ms per cron call.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awslang.expressions import next_runs, parse  # noqa: E402

EXPRESSIONS = [
    ("every minute", "cron(* * * * ? *)"),
    ("every 5 min, office hours", "cron(0/5 8-17 ? * MON-FRI *)"),
    ("daily 23:00", "cron(0 23 * * ? *)"),
    ("daily 01:30 (DST hour)", "cron(30 1 * * ? *)"),
    ("weekdays 06:00", "cron(0 6 ? * MON-FRI *)"),
    ("last day of month", "cron(0 0 L * ? *)"),
    ("last weekday of month", "cron(0 9 LW * ? *)"),
    ("nearest weekday to 15th", "cron(0 9 15W * ? *)"),
    ("first Monday", "cron(0 9 ? * 2#1 *)"),
    ("fifth Friday", "cron(0 0 ? * 6#5 *)"),
    ("last Friday 2019-2030", "cron(15 10 ? * 6L 2019-2030)"),
    ("Feb 29", "cron(0 0 29 2 ? *)"),
    ("last day of Feb 2100-2199", "cron(0 0 L 2 ? 2100-2199)"),
    ("yearly, year list", "cron(0 12 1 JAN ? 2027,2031,2042,2060,2099,2150,2199)"),
    ("never fires (Feb 30)", "cron(0 0 30 2 ? *)"),
    ("never fires (31st, 5 months)", "cron(* * 31 2,4,6,9,11 ? *)"),
    ("rate 5 minutes", "rate(5 minutes)"),
    ("rate 1 day", "rate(1 day)"),
    ("at", "at(2029-12-01T09:00:00)"),
]
ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney"]


def measure(expression: str, zone: str, calls: int) -> list[float]:
    """Per-call times in microseconds."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    stride = timedelta(days=4 * 365) / calls
    next_runs(expression, zone, base, 10)  # warm the parse cache
    timings = []
    for index in range(calls):
        after = base + stride * index
        began = time.perf_counter_ns()
        next_runs(expression, zone, after, 10)
        timings.append((time.perf_counter_ns() - began) / 1000)
    return timings


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print(f"next_runs(count=10), {calls} calls per row, Python {sys.version.split()[0]}\n")
    print(f"{'schedule':28} {'time zone':18} {'mean µs':>9} {'p95 µs':>9} {'max µs':>9}")
    print("-" * 77)
    worst_cron_p95 = 0.0
    for label, expression in EXPRESSIONS:
        for zone in ZONES:
            timings = sorted(measure(expression, zone, calls))
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(f"{label:28} {zone:18} {statistics.fmean(timings):9.1f} {p95:9.1f} {timings[-1]:9.1f}")
            if expression.startswith("cron("):
                worst_cron_p95 = max(worst_cron_p95, p95)
    cold = []
    for label, expression in EXPRESSIONS:
        parse.cache_clear()
        began = time.perf_counter_ns()
        next_runs(expression, "Europe/London", datetime(2026, 1, 1, tzinfo=UTC), 10)
        cold.append((time.perf_counter_ns() - began) / 1000)
    print("-" * 77)
    print(f"worst cron p95: {worst_cron_p95:.1f} µs "
          f"({'within' if worst_cron_p95 < 1000 else 'OVER'} the 1 ms target)")
    print(f"first call with an empty parse cache: mean {statistics.fmean(cold):.1f} µs, "
          f"max {max(cold):.1f} µs")


if __name__ == "__main__":
    main()
