"""Benchmark the universal target ("All APIs"): validation and skeleton time per check, and the picker page.

Run from the repository root:  .venv/bin/python -m bench universal   (or this file directly)

1. The service index (every service botocore ships, read from the head of each model file) cold, in
   this process; then the skeleton and botocore-validator check per operation, for operations spread
   over many services (each model loaded once first, so the figure is the check, not the load).
2. The Select target step with All APIs → Amazon EC2 chosen, through Django's test client against a
   moto server started here: page weight (bytes, and how many options the pickers hold), the first
   response of a fresh process (the service index is built then) and the warm median.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from setup import django_with_scratch_db, summary, timed

REPEAT = 20
SAMPLE = 300


def bench_checks() -> None:
    from schedules import targets

    started = time.perf_counter()
    services = targets.services()
    print(f"service index: {len(services)} services in {(time.perf_counter() - started) * 1000:.0f} ms (cold)")
    random.seed(11)
    names = random.sample(sorted(services), 40) + ["ec2", "sqs", "sfn", "ecs", "rds", "lambda", "dynamodb", "s3"]
    pairs = [(name, action) for name in names for action, _ in targets.actions(name)]
    pairs = random.sample(pairs, min(SAMPLE, len(pairs)))
    for name, action in pairs:  # load each model once: what follows times the checks alone
        targets._input_shape(name, action)
    skeleton = targets.skeleton.__wrapped__  # uncached: the work done the first time an API is picked
    times = timed(lambda: [skeleton(n, a) for n, a in pairs], REPEAT)
    per = [t / len(pairs) for t in times]
    print(f"skeleton, per operation ({len(pairs)} operations, {len(names)} services):  {summary(per)}")
    bodies = [(n, a, targets.skeleton(n, a)) for n, a in pairs]
    times = timed(lambda: [targets.check_universal(n, a, b) for n, a, b in bodies], REPEAT)
    print(f"validation of the skeleton, per check:                         {summary([t / len(bodies) for t in times])}")
    example = '{"InstanceIds": "i-123", "Bogus": 1}'
    print(f"validation of the issue's example (ec2 startInstances):          "
          f"{summary(timed(lambda: targets.check_universal('ec2', 'startInstances', example), 200))}")
    big = json.dumps({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": "x" * 200_000,
                      "MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)}})
    print(f"validation of a 200 KB sqs sendMessage:                          "
          f"{summary(timed(lambda: targets.check_universal('sqs', 'sendMessage', big), 50))}")


def bench_page(url: str) -> None:
    from django.test import Client

    from accounts.roles import OPERATORS
    from accounts.services import user_create
    from environments.models import Environment

    user = user_create(username="bench", password="bench-password-123456", roles=[OPERATORS])
    environment = Environment.objects.create(name="Bench", region="us-east-1", account_id="123456789012",
                                             endpoint_url=url)
    client = Client()
    client.force_login(user)
    response = client.post("/schedules/new/", {"environment": environment.pk})
    step = response["Location"].rstrip("/").rsplit("/", 1)[0] + "/target/"
    data = {"target-target_api": "universal", "target-templated": "lambda", "target-service": "ec2",
            "target-action": "startInstances", "target-input": "", "_go": "save"}
    started = time.perf_counter()
    first = client.post(step, data)  # saving renders nothing; the GET below is the first page shown
    first_page = client.get(step)
    cold = (time.perf_counter() - started) * 1000
    assert first.status_code == 302 and first_page.status_code == 200, (first.status_code, first_page.status_code)
    html = first_page.content.decode()
    times = timed(lambda: client.get(step), REPEAT)
    print(f"\nAll APIs picker (Amazon EC2 chosen): {len(html.encode()):,} bytes, "
          f"{html.count('<option')} options (services and EC2 APIs, select and search lists)")
    print(f"first response in a fresh process (save + first GET, index built): {cold:.0f} ms")
    print(f"warm GET of the step:  {summary(times)}  (median {statistics.median(times):.0f} ms)")
    skeleton = timed(lambda: client.get(step, {"skeleton": "1", "service": "ec2", "action": "runInstances"}), REPEAT)
    print(f"skeleton endpoint (ec2 runInstances):  {summary(skeleton)}")


def main() -> int:
    workdir = django_with_scratch_db()
    from eventconsole import localaws

    with tempfile.TemporaryDirectory(prefix="bench-universal-") as logs:
        with open(Path(logs) / "moto.log", "wb") as log:
            process, url = localaws.start_moto(log=log)
        try:
            bench_page(url)  # first: the page's first response includes building the service index
            print()
            bench_checks()
        finally:
            localaws.stop(process)
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
