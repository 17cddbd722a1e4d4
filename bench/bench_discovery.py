"""Discovery of a whole account against a moto server: wall time and API calls, against the fewest possible.

Run: .venv/bin/python -m bench discovery          (quick: 200 rules, 2,000 schedules)
     BENCH_FULL=1 .venv/bin/python -m bench discovery, or python bench/bench_discovery.py --full
                                                   (5,000 rules over 20 buses, 50,000 schedules over 50 groups)

The account is made by bench/seed_account.py (boto3 straight at moto, plus the demo environments and
objects). Then `inventory.discovery.environment_discover(Sandbox)` runs twice:

1. first run: every rule and schedule is new;
2. steady state: nothing changed in AWS since.

For each: wall time, the run's outcome, and the API calls counted at the clients (each attempt, by
operation) next to the fewest that learn the same state (bench/seed_account.py `Seeded.fewest_*`).
The Sandbox environment's api_rate_limit is set to 1,000 calls a second for the emulator (the default
20 would make the rate limit, not discovery, the measure); the output says what 20 would cost.
"""
from __future__ import annotations

import importlib.util
import sys
import time

from setup import django_with_scratch_db

django_with_scratch_db()

from environments import aws, ratelimit  # noqa: E402
from environments.models import Environment  # noqa: E402
from eventconsole import localaws  # noqa: E402
from seed_account import BENCH_RATE, CallCounter, seeded_sandbox, sizes_from  # noqa: E402

DEFAULT_RATE = Environment._meta.get_field("api_rate_limit").default
SERVICE_OF = {"ListEventBuses": "events", "ListRules": "events", "ListTargetsByRule": "events",
              "ListTagsForResource": "events", "ListScheduleGroups": "scheduler", "ListSchedules": "scheduler",
              "GetSchedule": "scheduler"}


def table(measured, fewest: dict[str, int]) -> None:
    operations = list(fewest) + sorted(set(measured) - set(fewest))
    print(f"    {'operation':<24}{'calls':>9}{'fewest':>9}")
    for operation in operations:
        print(f"    {operation:<24}{measured.get(operation, 0):>9,}{fewest.get(operation, 0):>9,}")
    print(f"    {'total':<24}{sum(measured.values()):>9,}{sum(fewest.values()):>9,}")


def at_default_rate(counter: CallCounter) -> str:
    parts = [f"{service} {n:,} calls ≥ {max(0, n - ratelimit.burst(DEFAULT_RATE)) / DEFAULT_RATE:,.0f} s"
             for service, n in sorted(counter.by_service().items())]
    return f"at the default {DEFAULT_RATE} calls/s per service: " + ", ".join(parts)


def discover(environment, label: str, counter: CallCounter, fewest: dict[str, int]):
    from inventory.discovery import environment_discover

    counter.reset()
    started = time.perf_counter()
    run = environment_discover(environment)
    wall = time.perf_counter() - started
    print(f"\n{label}: {wall:.1f} s, run {run.state}: found {run.found:,} (by kind {run.counts}), created "
          f"{run.created:,}, updated {run.updated:,}, removed {run.removed:,}; the run counted {run.api_calls:,} "
          f"API calls, {run.throttled} throttled" + (f"; error: {run.error}" if run.error else ""))
    table(counter.by_operation(), fewest)
    print(f"    {at_default_rate(counter)}")
    return run


def main(argv: list[str]) -> int:
    sizes = sizes_from(argv)
    if importlib.util.find_spec("inventory.discovery") is None:
        print("inventory.discovery is not there: nothing to measure")
        return 1
    from rules.models import Rule
    from schedules.models import Schedule

    process, url = localaws.start_moto()
    counter = CallCounter()
    aws.add_client_hook(counter)
    try:
        seeded, environment = seeded_sandbox(url, sizes)
        print(f"discovering {environment.name} ({environment.region}) with api_rate_limit = {BENCH_RATE} calls/s "
              f"per service (raised from {DEFAULT_RATE} for the emulator; rate-limit backend: "
              f"{ratelimit.backend_name()})")

        fewest = seeded.fewest_discovery_calls()
        print("\nfewest calls that learn the whole account (ListEventBuses pages + per bus ceil(rules/100) ListRules "
              "+ a ListTargetsByRule and a ListTagsForResource per rule + ListScheduleGroups pages + "
              "ceil(schedules/100) ListSchedules + a GetSchedule per schedule): "
              f"{sum(fewest.values()):,}")
        discover(environment, "1. first run", counter, fewest)
        rules = Rule.objects.filter(environment=environment)
        schedules = Schedule.objects.filter(environment=environment)
        print(f"    in the database: {rules.unmanaged().count():,} unmanaged rules (seeded {seeded.rules:,}; "
              f"{rules.exclude(owner_service='').count()} owned by an AWS service), "
              f"{schedules.unmanaged().count():,} unmanaged schedules (seeded {seeded.schedules:,})")

        steady = seeded.fewest_steady_calls()
        print(f"\nfewest calls that tell nothing changed: list pages only for schedules, plus a ListTargetsByRule and a "
              f"ListTagsForResource per rule (no change marker for rules; on real AWS GetResources pages replace the "
              f"tag reads): {sum(steady.values()):,}")
        discover(environment, "2. steady state (nothing changed)", counter, steady)
    finally:
        aws.remove_client_hook(counter)
        localaws.stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
