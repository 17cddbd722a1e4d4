"""Live tail latency on the emulator: from PutEvents to the event in the tail page's read endpoint.

Run: .venv/bin/python -m bench tail        (N events, 30 by default; BENCH_TAIL_EVENTS=100 for more)

A moto server over HTTP, a Sandbox environment on it, and one live tail of all events on the default bus
(opened the way a worker opens it: tail.services.tail_open). Then, N times: PutEvents with boto3 straight at
moto, and the page's own request (POST /listen/<id>/events/, through Django's test client, as signed in)
asked again as soon as it answers, until the event's id is in an answer. The time from the PutEvents call to
that answer is the latency. The page itself waits 200 ms between answers, so a browser shows the event up
to 200 ms later than this measure (plus rendering). Also: the time to open the tail (four AWS calls) and
to close it.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta

from setup import django_with_scratch_db

django_with_scratch_db()

import boto3  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.roles import OPERATORS  # noqa: E402
from accounts.services import user_create  # noqa: E402
from environments.models import Environment  # noqa: E402
from eventconsole import localaws  # noqa: E402
from tail import services  # noqa: E402
from tail.models import TailSession, TailState  # noqa: E402

EVENTS = int(os.environ.get("BENCH_TAIL_EVENTS", "30"))
DEADLINE = 30.0  # seconds an event may take before the run gives up on it


def main() -> None:
    with open(os.devnull, "wb") as log:
        process, url = localaws.start_moto(log=log)
    try:
        run(url)
    finally:
        localaws.stop(process)


def run(url: str) -> None:
    environment = Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=url,
                                             account_id="123456789012", api_rate_limit=1000)
    user = user_create(username="bench-operator", password="bench-password-1", roles=[OPERATORS])
    session = TailSession.objects.create(environment=environment, pattern=json.dumps({"source": [{"prefix": ""}]}),
                                         created_by=user, name=f"eventconsole-tail-bench-{os.getpid()}",
                                         expires_at=timezone.now() + timedelta(minutes=15))
    started = time.perf_counter()
    services.tail_open(session.pk)
    opened = time.perf_counter() - started
    session.refresh_from_db()
    assert session.state == TailState.OPEN, session.error
    events = boto3.client("events", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    client = Client()
    client.force_login(user)
    endpoint = reverse("tail:tail_events", args=[session.pk])
    latencies, reads = [], []
    for n in range(EVENTS):
        sent = time.perf_counter()
        event_id = events.put_events(Entries=[{"Source": "com.example.bench", "DetailType": "Bench",
                                               "Detail": json.dumps({"n": n})}])["Entries"][0]["EventId"]
        count = 0
        while True:
            count += 1
            body = client.post(endpoint).json()
            if any(e["event"].get("id") == event_id for e in body["events"]):
                break
            if time.perf_counter() - sent > DEADLINE:
                sys.exit(f"event {n} did not arrive within {DEADLINE:g} s")
        latencies.append((time.perf_counter() - sent) * 1000)
        reads.append(count)
    started = time.perf_counter()
    TailSession.objects.filter(pk=session.pk).update(state=TailState.CLOSING, closed_reason="bench over")
    services.tail_close(session.pk)  # what the worker does once Stop (or the page's beacon) asked for it
    closed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    print(f"open the tail (PutRule, CreateQueue, GetQueueAttributes, SetQueueAttributes, PutTargets): "
          f"{opened * 1000:.0f} ms")
    print(f"PutEvents -> event in the read endpoint's answer, {EVENTS} events: "
          f"median {statistics.median(latencies):.0f} ms"
          f"   p95 {p95:.0f} ms   min {latencies[0]:.0f} ms   max {latencies[-1]:.0f} ms"
          f"   (reads per event: median {statistics.median(reads):g})")
    print("the page waits 200 ms between reads: in a browser, add up to 200 ms")
    print(f"close the tail (ListTargetsByRule, RemoveTargets, DeleteRule, GetQueueUrl, DeleteQueue): "
          f"{closed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
