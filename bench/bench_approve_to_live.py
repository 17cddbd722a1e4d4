"""Approve-to-live: from the reviewer's Approve click to the rule being in the moto server, with a real
Celery worker on Redis (median of 20). Falls back to the filesystem broker, and says so, if Redis is not
reachable on 127.0.0.1:6379.

Run: python -m bench approve_to_live   (or make bench)
"""
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), 1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


BROKER = "redis://127.0.0.1:6379/14" if redis_up() else None
os.environ["CELERY_QUEUE"] = "bench-approve"

from setup import django_with_scratch_db  # noqa: E402

scratch = django_with_scratch_db(broker=BROKER)

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.services import user_create  # noqa: E402
from changes import services  # noqa: E402
from environments import aws  # noqa: E402
from environments.models import Environment  # noqa: E402
from eventconsole import localaws  # noqa: E402

RUNS = 20
ROOT = Path(__file__).resolve().parents[1]
moto, url = localaws.start_moto()
env = {**os.environ, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1"}
log_path = scratch / "worker.log"
worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "eventconsole", "worker", "-l", "INFO", "-Q",
                           "bench-approve", "--concurrency", "2", "--without-mingle", "--without-gossip"],
                          cwd=ROOT, env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)
try:
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
    production = Environment.objects.create(name="Production", region="eu-west-1", endpoint_url=url,
                                            account_id="123456789012", is_production=True, approvals_required=1)
    operator = user_create(username="operator", password="bench-password-1", roles=["Operators"])
    reviewer = user_create(username="reviewer", password="bench-password-1", roles=["Reviewers"])
    browser = Client()
    browser.force_login(reviewer)
    events = aws.client(production, "events")
    times = []
    for i in range(RUNS):
        name = f"approve-to-live-{i}"
        spec = {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                         "EventPattern": '{"source":["aws.s3"],"detail-type":["Object Created"]}'},
                "Targets": [{"Id": "Target1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}], "Tags": []}
        change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                      author=operator, spec=spec)
        services.change_request_submit(change, actor=operator)
        start = time.perf_counter()
        response = browser.post(f"/reviews/{change.pk}/approve/", {"reason": ""})
        assert response.status_code == 302
        while True:
            try:
                if events.list_targets_by_rule(Rule=name)["Targets"]:
                    break
            except events.exceptions.ResourceNotFoundException:
                pass
            time.sleep(0.005)
            assert time.perf_counter() - start < 30, log_path.read_text()[-3000:]
        times.append((time.perf_counter() - start) * 1000)
    print(f"broker: {settings.CELERY_BROKER_URL}; {RUNS} approvals, each timed from the Approve POST to the rule and its target in moto")
    print(f"approve-to-live: median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, "
          f"max {max(times):.0f} ms")
finally:
    worker.terminate()
    worker.wait(20)
    localaws.stop(moto)
