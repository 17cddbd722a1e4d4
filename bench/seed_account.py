"""An emulated AWS account at scale, made with boto3 over HTTP against a moto server.

Full size (issue 12, "Scale, measured"): 5,000 rules over 20 event buses (the default bus and 19
others; 0 to 5 targets each, a third of them tagged, one in ten disabled, scheduled rules on the
default bus) and 50,000 schedules over 50 schedule groups (default and 49 others, the others
tagged), created with a thread pool; plus, when Django is set up, the demo environments (Sandbox,
Production) and their demo objects (environments.demo). Quick size (the benches' default smoke
run): 200 rules and 2,000 schedules.

Seeding goes straight at the endpoint with boto3 (not through environments.aws, so not through the
rate limit): building the account is not what the benches measure.

    from seed_account import seed_account, QUICK, FULL
    report = seed_account(url, **QUICK)      # -> Seeded (what was made, and the fewest calls to learn it)

Run on its own:  .venv/bin/python bench/seed_account.py [--full] [--url http://127.0.0.1:4566]
(without --url it starts a moto server, seeds it, prints the report and stops it).
"""
from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
PAGE = 100  # the largest page of ListEventBuses, ListRules, ListTargetsByRule, ListScheduleGroups, ListSchedules
MAX_TARGETS = 5

QUICK = {"rules": 200, "buses": 20, "schedules": 2_000, "groups": 50}
FULL = {"rules": 5_000, "buses": 20, "schedules": 50_000, "groups": 50}


@dataclass
class Seeded:
    """What seed_account made, per container, and what it took."""

    region: str
    rules_per_bus: dict[str, int] = field(default_factory=dict)
    schedules_per_group: dict[str, int] = field(default_factory=dict)
    targets: int = 0
    tagged_rules: int = 0
    disabled_rules: int = 0
    disabled_schedules: int = 0
    calls: int = 0
    seconds: float = 0.0
    demo: dict[str, str] = field(default_factory=dict)

    @property
    def rules(self) -> int:
        return sum(self.rules_per_bus.values())

    @property
    def schedules(self) -> int:
        return sum(self.schedules_per_group.values())

    def fewest_discovery_calls(self) -> dict[str, int]:
        """The fewest calls that learn every rule and schedule in full, by API (on the emulator).

        ListEventBuses pages + per bus ceil(rules/100) ListRules pages (one even when empty) + one
        ListTargetsByRule per rule (5 targets at most: one page) + one ListTagsForResource per rule (moto
        has no Resource Groups Tagging API for rules) + ListScheduleGroups pages + ceil(schedules/100)
        ListSchedules pages (unfiltered, every group) + one GetSchedule per schedule (ListSchedules gives
        only a summary; there is no batch get).
        """
        return {
            "ListEventBuses": _pages(len(self.rules_per_bus)),
            "ListRules": sum(_pages(n) for n in self.rules_per_bus.values()),
            "ListTargetsByRule": self.rules,
            "ListTagsForResource": self.rules,
            "ListScheduleGroups": _pages(len(self.schedules_per_group)),
            "ListSchedules": _pages(self.schedules),
            "GetSchedule": self.schedules,
        }

    def fewest_steady_calls(self) -> dict[str, int]:
        """The fewest calls that tell nothing changed since the last run, by API.

        Schedules: list pages only (ListSchedules' LastModificationDate says a schedule is unchanged). Rules:
        ListRules carries neither targets, tags nor a modification time, so each rule still costs its
        ListTargetsByRule and, on the emulator, its ListTagsForResource (on real AWS the Tagging API's
        GetResources pages replace the latter).
        """
        fewest = self.fewest_discovery_calls()
        fewest["GetSchedule"] = 0
        return fewest


def _pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE))


def bus_names(buses: int) -> list[str]:
    return ["default"] + [f"bench-bus-{i:02d}" for i in range(1, buses)]


def group_names(groups: int) -> list[str]:
    return ["default"] + [f"bench-group-{i:02d}" for i in range(1, groups)]


def rule_request(index: int, bus: str) -> tuple[dict, list[dict]]:
    """PutRule arguments and the targets (0..5) of the index-th rule."""
    name = f"bench-rule-{index:05d}"
    put = {"Name": name, "EventBusName": bus, "State": "DISABLED" if index % 10 == 3 else "ENABLED"}
    if bus == "default" and index % 7 == 0:
        put["ScheduleExpression"] = ["rate(5 minutes)", "cron(0 12 * * ? *)", "rate(1 hour)"][index % 3]
    else:
        put["EventPattern"] = json.dumps({
            "source": [f"app.service{index % 37}"],
            "detail-type": ["Order Placed", "Order Shipped"][: 1 + index % 2],
            "detail": {"amount": [{"numeric": [">", index % 1000]}], "region": [{"prefix": "eu-"}]}})
    if index % 4 == 0:
        put["Description"] = f"Bench rule {index} on {bus}"
    if index % 3 == 0:
        put["Tags"] = [{"Key": "team", "Value": f"team-{index % 5}"}, {"Key": "cost-centre", "Value": str(index % 11)}]
    targets = []
    for t in range(index % (MAX_TARGETS + 1)):
        arn = [f"arn:aws:sqs:{REGION}:{ACCOUNT}:bench-queue-{(index + t) % 40}",
               f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench-fn-{(index + t) % 25}",
               f"arn:aws:sns:{REGION}:{ACCOUNT}:bench-topic-{(index + t) % 15}"][t % 3]
        target = {"Id": f"Target{t}", "Arn": arn}
        if t == 1:
            target["InputPath"] = "$.detail"
        if t == 2:
            target["RetryPolicy"] = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
        targets.append(target)
    return put, targets


def schedule_request(index: int, group: str) -> dict:
    """CreateSchedule arguments of the index-th schedule."""
    request = {
        "Name": f"bench-schedule-{index:05d}", "GroupName": group,
        "ScheduleExpression": ["rate(15 minutes)", "cron(0 23 * * ? *)", "cron(0/5 8-17 ? * MON-FRI *)",
                               "at(2030-01-01T09:00:00)"][index % 4],
        "FlexibleTimeWindow": {"Mode": "OFF"} if index % 5 else {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        "State": "DISABLED" if index % 10 == 7 else "ENABLED",
        "Target": {"Arn": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:bench-queue-{index % 40}",
                           f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench-fn-{index % 25}",
                           "arn:aws:scheduler:::aws-sdk:ec2:startInstances"][index % 3],
                   "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/bench-scheduler-role-{index % 4}",
                   "Input": json.dumps({"n": index})},
    }
    if index % 4 != 3:
        request["ScheduleExpressionTimezone"] = ["UTC", "Europe/London", "America/New_York"][index % 3]
    if index % 6 == 0:
        request["Description"] = f"Bench schedule {index} in {group}"
    return request


def seed_account(url: str, *, rules: int, buses: int, schedules: int, groups: int, region: str = REGION,
                 threads: int = 8, demo: bool = True, progress=None) -> Seeded:
    """Fill the (empty) emulator at `url` with `rules` rules over `buses` buses and `schedules` schedules over
    `groups` groups. demo=True also creates the demo environments and objects (needs Django set up)."""
    started = time.perf_counter()
    config = Config(retries={"mode": "standard", "total_max_attempts": 5}, max_pool_connections=threads * 2)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    events = session.client("events", endpoint_url=url, config=config)
    scheduler = session.client("scheduler", endpoint_url=url, config=config)
    seeded = Seeded(region=region)
    calls = Counter()

    bus_list = bus_names(buses)
    for bus in bus_list[1:]:
        events.create_event_bus(Name=bus, Tags=[{"Key": "purpose", "Value": "bench"}])
        calls["events"] += 1
    group_list = group_names(groups)
    for group in group_list[1:]:
        scheduler.create_schedule_group(Name=group, Tags=[{"Key": "purpose", "Value": "bench"}])
        calls["scheduler"] += 1

    def one_rule(index: int) -> tuple[str, int, bool, bool]:
        bus = bus_list[index % len(bus_list)]
        put, targets = rule_request(index, bus)
        events.put_rule(**put)
        if targets:
            events.put_targets(Rule=put["Name"], EventBusName=bus, Targets=targets)
        return bus, len(targets), "Tags" in put, put["State"] == "DISABLED"

    def one_schedule(index: int) -> tuple[str, bool]:
        request = schedule_request(index, group_list[index % len(group_list)])
        scheduler.create_schedule(**request)
        return request["GroupName"], request["State"] == "DISABLED"

    seeded.rules_per_bus = dict.fromkeys(bus_list, 0)
    seeded.schedules_per_group = dict.fromkeys(group_list, 0)
    with ThreadPoolExecutor(threads) as pool:
        for done, (bus, targets, tagged, disabled) in enumerate(pool.map(one_rule, range(rules)), 1):
            seeded.rules_per_bus[bus] += 1
            seeded.targets += targets
            seeded.tagged_rules += tagged
            seeded.disabled_rules += disabled
            calls["events"] += 1 + bool(targets)
            if progress and done % 1000 == 0:
                progress(f"{done:,} rules")
        for done, (group, disabled) in enumerate(pool.map(one_schedule, range(schedules)), 1):
            seeded.schedules_per_group[group] += 1
            seeded.disabled_schedules += disabled
            calls["scheduler"] += 1
            if progress and done % 10000 == 0:
                progress(f"{done:,} schedules")
    seeded.calls = sum(calls.values())
    if demo:
        seeded.demo = seed_demo(url)
    seeded.seconds = time.perf_counter() - started
    return seeded


def seed_demo(url: str) -> dict[str, str]:
    """The demo environments (Sandbox us-east-1, Production eu-west-1) on `url`, and their demo objects."""
    from environments.demo import demo_environments_seed, demo_resources_seed
    from environments.models import Environment

    report = demo_environments_seed(endpoint_url=url)
    for environment in Environment.objects.filter(endpoint_url=url, name__in=("Sandbox", "Production")):
        report.update({f"{environment.name}: {key}": value for key, value in demo_resources_seed(environment).items()})
    return report


BENCH_RATE = 1000  # the Sandbox's api_rate_limit in the benches: the emulator, not the rate limit, is measured


def seeded_sandbox(url: str, sizes: dict[str, int]):
    """Seed the account at `url` (printing progress) and give back (Seeded, the Sandbox environment on it),
    its api_rate_limit raised to BENCH_RATE. Needs Django set up (the benches do it first)."""
    from environments import aws
    from environments.models import Environment

    seeded = seed_account(url, **sizes, progress=lambda text: print(f"  seeding … {text}", flush=True))
    print(f"seeded: {describe(seeded)}")
    environment = Environment.objects.get(name="Sandbox", endpoint_url=url)
    Environment.objects.filter(pk=environment.pk).update(api_rate_limit=BENCH_RATE)
    environment.refresh_from_db()
    aws.clear_cache()
    return seeded, environment


def sizes_from(argv: list[str]) -> dict[str, int]:
    """FULL with --full (or BENCH_FULL=1), else QUICK: `python -m bench` runs the quick size."""
    import os

    return FULL if "--full" in argv or os.environ.get("BENCH_FULL") == "1" else QUICK


class CallCounter:
    """Counts every request environments.aws clients send (each attempt), by service and operation.

    A client hook (environments.aws.add_client_hook): a botocore before-send handler on every new client.
    """

    def __init__(self):
        self.counts: Counter = Counter()

    def __call__(self, client, environment, service_name) -> None:
        def count(event_name: str, **_):
            self.counts[(service_name, event_name.rsplit(".", 1)[-1])] += 1

        client.meta.events.register("before-send", count)

    def by_operation(self) -> Counter:
        result = Counter()
        for (_, operation), n in self.counts.items():
            result[operation] += n
        return result

    def by_service(self) -> Counter:
        result = Counter()
        for (service, _), n in self.counts.items():
            result[service] += n
        return result

    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()


def describe(seeded: Seeded) -> str:
    return (f"{seeded.rules:,} rules over {len(seeded.rules_per_bus)} buses ({seeded.targets:,} targets, "
            f"{seeded.tagged_rules:,} tagged, {seeded.disabled_rules:,} disabled) and {seeded.schedules:,} schedules "
            f"over {len(seeded.schedules_per_group)} groups ({seeded.disabled_schedules:,} disabled) in "
            f"{seeded.region}: {seeded.calls:,} calls in {seeded.seconds:.1f} s"
            + (f", plus {len(seeded.demo)} demo objects" if seeded.demo else ""))


def main(argv: list[str]) -> int:
    sizes = FULL if "--full" in argv else QUICK
    url = argv[argv.index("--url") + 1] if "--url" in argv else None
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from eventconsole import localaws

    process = None
    if url is None:
        process, url = localaws.start_moto()
    try:
        seeded = seed_account(url, **sizes, demo=False, progress=lambda text: print(f"  … {text}", flush=True))
        print(describe(seeded))
        print(f"fewest calls to learn it all: {sum(seeded.fewest_discovery_calls().values()):,} "
              f"{seeded.fewest_discovery_calls()}")
    finally:
        if process is not None:
            localaws.stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
