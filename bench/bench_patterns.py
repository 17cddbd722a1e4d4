"""Benchmark awslang.patterns: compiled matching against moto's matcher, and RuleIndex scaling.

Run from the repository root:  .venv/bin/python bench/bench_patterns.py

1. Matching throughput in (pattern, event) pairs per second for the same realistic patterns
   and events, awslang.patterns (compiled) beside moto's ``EventPattern.load(p).matches_event(e)``
   (patterns loaded before timing, as both sides compile once).  Every disagreement is
   classified; only those caused by moto's known bugs (docs/aws-behaviours.md, "Local emulator
   (moto)": arrays of objects, booleans taken for numbers, ``exists`` on empty arrays, the
   ``time`` field) are acceptable.
   Target: at least 30x moto's throughput.
2. RuleIndex.match time per event among 100 / 1,000 / 10,000 / 100,000 generated rules
   (sources, detail-types, resource names, prefixes, numeric ranges, anything-but, cidr, $or)
   beside trying every compiled pattern in turn (only a sample of events at 100,000), with the
   answers compared.  Target: under 0.2 ms per event at 10,000 rules.
"""
from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto.events.models import EventPattern  # noqa: E402

from awslang.patterns import CompiledPattern, RuleIndex, compile  # noqa: E402

SEED = 20261126
ACCOUNT = "123456789012"
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
TEAMS = ["billing", "orders", "search", "identity", "ml", "payments", "logistics", "growth"]
EC2_STATES = ["pending", "running", "stopping", "stopped", "shutting-down", "terminated"]
CLOUDTRAIL = {
    "s3": ["PutBucketPolicy", "DeleteBucket", "PutBucketAcl", "CreateBucket", "PutObjectAcl"],
    "iam": ["CreateUser", "AttachUserPolicy", "CreateAccessKey", "DeleteRole", "PutRolePolicy"],
    "ec2": ["RunInstances", "TerminateInstances", "AuthorizeSecurityGroupIngress", "CreateVpc"],
    "kms": ["ScheduleKeyDeletion", "DisableKey", "CreateKey"],
}
ORDER_TYPES = ["OrderPlaced", "OrderShipped", "OrderCancelled", "PaymentFailed", "RefundIssued"]


class Pools:
    """Resource names shared by the rule and event generators.

    Pools grow with the rule count, as they do in a real account (more rules watch more
    buckets, instances, alarms, principals...), so an event matches a handful of rules.
    """

    def __init__(self, rules: int, rnd: random.Random) -> None:
        size = max(8, rules // 12)
        self.buckets = [f"{rnd.choice(TEAMS)}-data-{i:06d}" for i in range(size)]
        self.instances = [f"i-{rnd.getrandbits(60):015x}" for _ in range(size)]
        self.alarms = [f"{rnd.choice(['prod', 'staging'])}-{rnd.choice(TEAMS)}-{i}-latency" for i in range(size)]
        self.clusters = [f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{rnd.choice(TEAMS)}-{i}" for i in range(size)]
        self.customers = [f"cust-{i:07d}" for i in range(size)]
        self.users = [f"{rnd.choice(TEAMS)}-{i}" for i in range(size)]
        self.apps = [f"com.acme.{TEAMS[i % len(TEAMS)]}.{i}" for i in range(max(8, size // 10))]


# ------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------

def envelope(rnd: random.Random, source: str, detail_type: str, detail: dict, resources: list[str]) -> dict:
    return {"version": "0", "id": f"{rnd.getrandbits(128):032x}", "detail-type": detail_type,
            "source": source, "account": ACCOUNT, "time": f"2026-11-{rnd.randint(1, 28):02d}T"
            f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:00Z", "region": rnd.choice(REGIONS),
            "resources": resources, "detail": detail}


def s3_event(rnd: random.Random, pools: Pools) -> dict:
    bucket = rnd.choice(pools.buckets)
    key = f"{rnd.choice(['incoming', 'exports', 'tmp', 'logs'])}/{rnd.choice(TEAMS)}/2026/11/{rnd.randint(1, 9999)}.csv"
    return envelope(rnd, "aws.s3", rnd.choice(["Object Created", "Object Deleted"]), {
        "version": "0", "bucket": {"name": bucket},
        "object": {"key": key, "size": rnd.randint(0, 5 * 10**9), "etag": f"{rnd.getrandbits(128):032x}",
                   "sequencer": f"{rnd.getrandbits(64):016X}"},
        "request-id": f"{rnd.getrandbits(64):016X}", "requester": ACCOUNT,
        "source-ip-address": f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
        "reason": rnd.choice(["PutObject", "CopyObject", "CompleteMultipartUpload"])},
        [f"arn:aws:s3:::{bucket}"])


def ec2_event(rnd: random.Random, pools: Pools) -> dict:
    instance = rnd.choice(pools.instances)
    return envelope(rnd, "aws.ec2", "EC2 Instance State-change Notification",
                    {"instance-id": instance, "state": rnd.choice(EC2_STATES)},
                    [f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{instance}"])


def cloudtrail_event(rnd: random.Random, pools: Pools) -> dict:
    service = rnd.choice(list(CLOUDTRAIL))
    user = rnd.choice(pools.users)
    return envelope(rnd, f"aws.{service}", "AWS API Call via CloudTrail", {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": f"AROA{rnd.getrandbits(64):016X}:{user}",
                         "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{user}-admin/{user}",
                         "accountId": ACCOUNT, "sessionContext": {
                             "sessionIssuer": {"type": "Role", "userName": f"{user}-admin"},
                             "attributes": {"creationDate": "2026-11-26T10:00:00Z", "mfaAuthenticated": "false"}}},
        "eventTime": "2026-11-26T10:04:11Z", "eventSource": f"{service}.amazonaws.com",
        "eventName": rnd.choice(CLOUDTRAIL[service]), "awsRegion": rnd.choice(REGIONS),
        "sourceIPAddress": f"{rnd.choice([10, 52, 203])}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": {"bucketName": rnd.choice(pools.buckets), "policy": {"Version": "2012-10-17"}},
        "responseElements": None, "requestID": f"{rnd.getrandbits(64):016X}",
        "eventID": f"{rnd.getrandbits(128):032x}", "readOnly": False, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management"}, [])


def alarm_event(rnd: random.Random, pools: Pools) -> dict:
    alarm = rnd.choice(pools.alarms)
    state = rnd.choice(["OK", "ALARM", "INSUFFICIENT_DATA"])
    return envelope(rnd, "aws.cloudwatch", "CloudWatch Alarm State Change", {
        "alarmName": alarm,
        "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-11-26T10:00:00.000+0000"},
        "previousState": {"value": "OK", "reason": "Threshold not crossed"},
        "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
            "namespace": "AWS/ApplicationELB", "name": "TargetResponseTime",
            "dimensions": {"LoadBalancer": f"app/{alarm}/50dc6c495c0c9188"}}, "period": 60, "stat": "p99"},
            "returnData": True}]}},
        [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{alarm}"])


def ecs_event(rnd: random.Random, pools: Pools) -> dict:
    cluster = rnd.choice(pools.clusters)
    containers = [{"name": f"c{i}", "lastStatus": rnd.choice(["RUNNING", "STOPPED"]),
                   "exitCode": rnd.choice([0, 0, 1, 137]), "image": f"{rnd.choice(TEAMS)}:v{rnd.randint(1, 9)}"}
                  for i in range(rnd.randint(1, 3))]
    return envelope(rnd, "aws.ecs", "ECS Task State Change", {
        "clusterArn": cluster, "lastStatus": rnd.choice(["RUNNING", "STOPPED", "PENDING"]),
        "desiredStatus": "STOPPED", "group": f"service:{rnd.choice(TEAMS)}", "containers": containers,
        "stopCode": rnd.choice(["EssentialContainerExited", "TaskFailedToStart", "UserInitiated"])},
        [f"{cluster.replace(':cluster/', ':task/')}/{rnd.getrandbits(64):016x}"])


def app_event(rnd: random.Random, pools: Pools) -> dict:
    items = [{"sku": f"{rnd.choice(['BK', 'EL', 'TY'])}-{rnd.randint(1, 999):03d}", "qty": rnd.randint(1, 5)}
             for _ in range(rnd.randint(1, 4))]
    return envelope(rnd, rnd.choice(pools.apps), rnd.choice(ORDER_TYPES), {
        "orderId": f"o-{rnd.getrandbits(40):010x}", "customer": {"id": rnd.choice(pools.customers),
                                                                  "tier": rnd.choice(["gold", "silver", "bronze"])},
        "amount": round(rnd.uniform(1, 5000), 2), "currency": rnd.choice(["EUR", "USD", "GBP"]),
        "items": items, "express": rnd.random() < 0.2}, [])


EVENT_KINDS: list[Callable[[random.Random, Pools], dict]] = [
    s3_event, ec2_event, cloudtrail_event, alarm_event, ecs_event, app_event]


def make_event(rnd: random.Random, pools: Pools) -> dict:
    return rnd.choice(EVENT_KINDS)(rnd, pools)


# ------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------

def some(rnd: random.Random, values: list, most: int = 3) -> list:
    return rnd.sample(values, rnd.randint(1, min(most, len(values))))


def s3_rule(rnd: random.Random, pools: Pools) -> dict:
    detail: dict[str, Any] = {"bucket": {"name": some(rnd, pools.buckets, 2)}}
    if rnd.random() < 0.5:
        detail["object"] = {"key": [{"prefix": f"{rnd.choice(['incoming', 'exports'])}/{rnd.choice(TEAMS)}/"}]}
    if rnd.random() < 0.3:
        low = rnd.randint(0, 10**9)
        detail.setdefault("object", {})["size"] = [{"numeric": [">=", low, "<", low + rnd.randint(1, 4 * 10**9)]}]
    if rnd.random() < 0.2:
        detail["reason"] = [{"anything-but": "CopyObject"}]
    return {"source": ["aws.s3"], "detail-type": some(rnd, ["Object Created", "Object Deleted"], 2),
            "detail": detail}


def ec2_rule(rnd: random.Random, pools: Pools) -> dict:
    rule: dict[str, Any] = {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
                            "detail": {"state": some(rnd, EC2_STATES)}}
    if rnd.random() < 0.7:
        rule["resources"] = [f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{i}" for i in some(rnd, pools.instances, 2)]
    else:
        rule["detail"]["instance-id"] = [rnd.choice(pools.instances)]
    return rule


def cloudtrail_rule(rnd: random.Random, pools: Pools) -> dict:
    service = rnd.choice(list(CLOUDTRAIL))
    detail: dict[str, Any] = {"eventSource": [f"{service}.amazonaws.com"],
                              "eventName": some(rnd, CLOUDTRAIL[service])}
    if rnd.random() < 0.5:
        user = rnd.choice(pools.users)
        detail["userIdentity"] = {"arn": [{"prefix": f"arn:aws:sts::{ACCOUNT}:assumed-role/{user}-admin/"}]}
    else:
        detail["requestParameters"] = {"bucketName": [rnd.choice(pools.buckets)]}
    roll = rnd.random()
    if roll < 0.3:
        detail["sourceIPAddress"] = [{"anything-but": {"prefix": "10."}}]
    elif roll < 0.5:
        detail["sourceIPAddress"] = [{"cidr": f"52.{rnd.randint(0, 255)}.0.0/16"}]
    return {"source": [f"aws.{service}"], "detail-type": ["AWS API Call via CloudTrail"], "detail": detail}


def alarm_rule(rnd: random.Random, pools: Pools) -> dict:
    alarm = rnd.choice(pools.alarms)
    name = [alarm] if rnd.random() < 0.6 else [{"prefix": alarm.rsplit("-", 1)[0] + "-"}]
    return {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": name, "state": {"value": some(rnd, ["ALARM", "OK", "INSUFFICIENT_DATA"], 2)}}}


def ecs_rule(rnd: random.Random, pools: Pools) -> dict:
    detail: dict[str, Any] = {"clusterArn": [rnd.choice(pools.clusters)], "lastStatus": ["STOPPED"]}
    if rnd.random() < 0.5:
        detail["containers"] = {"exitCode": [{"anything-but": 0}], "lastStatus": ["STOPPED"]}
    return {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"], "detail": detail}


def app_rule(rnd: random.Random, pools: Pools) -> dict:
    rule: dict[str, Any] = {"source": [rnd.choice(pools.apps)], "detail-type": some(rnd, ORDER_TYPES, 2)}
    detail: dict[str, Any] = {}
    roll = rnd.random()
    if roll < 0.3:
        low = rnd.randint(0, 4000)
        detail["amount"] = [{"numeric": [">", low, "<=", low + rnd.randint(10, 1000)]}]
    elif roll < 0.5:
        detail["customer"] = {"id": [rnd.choice(pools.customers)]}
    elif roll < 0.7:
        detail["items"] = {"sku": [{"prefix": rnd.choice(["BK-", "EL-", "TY-"])}], "qty": [{"numeric": [">=", 3]}]}
    elif roll < 0.85:
        detail["$or"] = [{"customer": {"tier": ["gold"]}}, {"amount": [{"numeric": [">=", 1000]}]}]
    else:
        detail["currency"] = [{"equals-ignore-case": rnd.choice(["eur", "usd"])}]
        detail["express"] = [True]
    if detail:
        rule["detail"] = detail
    return rule


RULE_KINDS = [s3_rule, ec2_rule, cloudtrail_rule, alarm_rule, ecs_rule, app_rule]


def make_rule(rnd: random.Random, pools: Pools) -> dict:
    return rnd.choice(RULE_KINDS)(rnd, pools)


# ------------------------------------------------------------------------------------------
# Part 1: compiled matching vs moto
# ------------------------------------------------------------------------------------------

def walk(node: Any, path: list[str]) -> list[Any]:
    """Values (crushing arrays) found along ``path`` — used to explain disagreements."""
    if not path:
        return [node]
    if isinstance(node, list):
        return [v for item in node for v in walk(item, path)]
    if isinstance(node, dict) and path[0] in node:
        return walk(node[path[0]], path[1:])
    return []


def moto_known_bug(compiled: CompiledPattern, event: dict) -> str | None:
    """Which of moto's known bugs (docs/aws-behaviours.md, "Local emulator (moto)") explains a disagreement."""
    for branch in compiled.branches:
        for cond in branch:
            node: Any = event
            for seg in cond.segs[:-1]:
                node = node.get(seg) if isinstance(node, dict) else None
                if isinstance(node, list) and any(isinstance(item, dict) for item in node):
                    return "arrays of objects"
            values = walk(event, list(cond.segs))
            if any(isinstance(v, bool) for v in values):
                return "booleans taken for numbers"
            if any(v == [] for v in values):
                return "exists on an empty array"
            if cond.name == "time":
                return "the time field"
    return None


def best_of(runs: int, action: Callable[[], Any]) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return min(timings)


def bench_vs_moto() -> None:
    rnd = random.Random(SEED)
    pools = Pools(96, rnd)  # small pools, so that a fair share of the pairs match
    pattern_dicts = [make_rule(rnd, pools) for _ in range(200)]
    events = [make_event(rnd, pools) for _ in range(60)]
    ours = [compile(p) for p in pattern_dicts]
    theirs = [EventPattern.load(json.dumps(p)) for p in pattern_dicts]
    pairs = len(ours) * len(events)

    def timed(pairs_subset: list[tuple[int, int]]) -> tuple[float, float]:
        """Seconds per pair for awslang.patterns and for moto over ``pairs_subset``."""
        our_calls = [(ours[p].matches, events[e]) for p, e in pairs_subset]
        moto_calls = [(theirs[p].matches_event, events[e]) for p, e in pairs_subset]
        ours_s = best_of(5, lambda: [match(event) for match, event in our_calls])
        moto_s = best_of(3, lambda: [match(event) for match, event in moto_calls])
        return ours_s / len(pairs_subset), moto_s / len(pairs_subset)

    everything = [(p, e) for p in range(len(ours)) for e in range(len(events))]
    our_answers = [ours[p].matches(events[e]) for p, e in everything]
    moto_answers = [theirs[p].matches_event(events[e]) for p, e in everything]
    rows = [("all pairs", everything),
            ("pairs that match", [pair for pair, hit in zip(everything, our_answers) if hit]),
            ("pairs that do not match", [pair for pair, hit in zip(everything, our_answers) if not hit])]
    reasons: dict[str, int] = {}
    for (p, e), a, b in zip(everything, our_answers, moto_answers):
        if a != b:
            reason = moto_known_bug(ours[p], events[e]) or "UNEXPLAINED"
            reasons[reason] = reasons.get(reason, 0) + 1
    print(f"\n1. Matching throughput: {len(ours)} patterns x {len(events)} events = {pairs:,} pairs "
          f"({sum(our_answers):,} match)")
    print(f"{'pairs':<26}{'count':>8}{'ours pairs/s':>15}{'moto pairs/s':>15}{'ours us':>9}{'moto us':>9}"
          f"{'speed-up':>10}")
    for label, subset in rows:
        ours_s, moto_s = timed(subset)
        print(f"{label:<26}{len(subset):>8,}{1 / ours_s:>15,.0f}{1 / moto_s:>15,.0f}{ours_s * 1e6:>9.2f}"
              f"{moto_s * 1e6:>9.2f}{moto_s / ours_s:>9.1f}x")
    print("target: >= 30x moto's throughput")
    disagreements = sum(reasons.values())
    detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
    print(f"disagreements with moto: {disagreements} of {pairs:,} ({detail})")
    if "UNEXPLAINED" in reasons:
        raise SystemExit("awslang.patterns and moto disagree where moto is right")


# ------------------------------------------------------------------------------------------
# Part 2: RuleIndex vs trying every pattern
# ------------------------------------------------------------------------------------------

def bench_index() -> None:
    print("\n2. RuleIndex.match per event vs trying every compiled pattern")
    print(f"{'rules':>8}{'build s':>9}{'events':>8}{'index ms':>10}{'candidates':>12}{'matches':>9}"
          f"{'brute ms':>10}{'brute events':>14}{'speed-up':>10}{'same':>6}")
    for count, events_timed, brute_events in ((100, 2000, 2000), (1000, 2000, 1000),
                                              (10_000, 2000, 200), (100_000, 1000, 15)):
        rnd = random.Random(SEED + count)
        pools = Pools(count, rnd)
        began = time.perf_counter()
        gc.disable()  # bulk load: no collector passes over the growing index
        index = RuleIndex()
        compiled = []
        for rule_id in range(count):
            pattern = compile(make_rule(rnd, pools))
            index.add(rule_id, pattern)
            compiled.append(pattern)
        gc.enable()
        build = time.perf_counter() - began
        events = [make_event(rnd, pools) for _ in range(events_timed)]
        found = [index.match(e) for e in events]  # warm-up, and the answers to compare
        index_s = best_of(2, lambda: [index.match(e) for e in events]) / len(events)
        candidates = statistics.mean(len(index._candidates(e)) for e in events)
        brute_sample = events[:brute_events]
        brute_answers: list[set[int]] = []

        def brute() -> None:
            brute_answers.clear()
            for event in brute_sample:
                brute_answers.append({i for i, p in enumerate(compiled) if p.matches(event)})

        brute_s = best_of(1, brute) / len(brute_sample)
        same = all(a == b for a, b in zip(found, brute_answers))
        print(f"{count:>8,}{build:>9.1f}{len(events):>8}{index_s * 1e3:>10.4f}{candidates:>12.1f}"
              f"{statistics.mean(len(f) for f in found):>9.2f}{brute_s * 1e3:>10.3f}{len(brute_sample):>14}"
              f"{brute_s / index_s:>9.0f}x{'yes' if same else 'NO':>6}")
        if not same:
            raise SystemExit(f"RuleIndex and brute force disagree at {count} rules")
    print("build: compile + add of every rule, garbage collector paused; matching runs with it on")
    print("target: under 0.2 ms per event at 10,000 rules")


def main() -> None:
    began = time.perf_counter()
    bench_vs_moto()
    bench_index()
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
