"""The shared AWS rate limit (environments.ratelimit) holds across real OS processes, in a file and in Redis.

Several `python` processes each make calls through `aws.client()` to a tiny local HTTP server that answers
ListEventBuses and records when each request arrives. From those timestamps: in no window of W seconds did
more than burst + rate × W calls arrive (plus one, for the few milliseconds between a call's turn and its
arrival). No assertion is on how long the test took.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from bisect import bisect_left
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from environments import aws, ratelimit
from environments.forms import EnvironmentForm
from environments.models import Environment

ROOT = Path(__file__).resolve().parents[2]
RATE = 20  # the schema's default
PROCESSES, CALLS_EACH = 3, 25

CHILD = """
import json, os, sys, time
import django
django.setup()
from environments import aws
from environments.models import Environment

url, account, start_at, calls = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
environment = Environment(name="Child", region="us-east-1", endpoint_url=url, account_id=account, api_rate_limit=20)
events = aws.client(environment, "events")
time.sleep(max(0.0, start_at - time.time()))  # every process starts calling at the same moment
done = 0
for _ in range(calls):
    events.list_event_buses()
    done += 1
print(json.dumps({"done": done}))
"""


class Recorder(BaseHTTPRequestHandler):
    """Answers every POST as ListEventBuses would (no buses) and records its arrival time."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.arrivals.append((time.time(), self.headers.get("X-Amz-Target", "")))
        body = b'{"EventBuses": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.arrivals = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def unique_account() -> str:
    return str(uuid.uuid4().int)[:12].rjust(12, "1")


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(bisect_left(times, t + window) - i for i, t in enumerate(times))


def run_processes(url: str, account: str, env: dict[str, str]) -> None:
    start_at = time.time() + 4  # enough for every child to import Django and boto3 first
    children = [subprocess.Popen([sys.executable, "-c", CHILD, url, account, str(start_at), str(CALLS_EACH)],
                                 cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "eventconsole.settings", **env},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(PROCESSES)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1]) == {"done": CALLS_EACH}


def assert_within_the_limit(arrivals: list[tuple[float, str]]) -> None:
    assert len(arrivals) == PROCESSES * CALLS_EACH
    assert {target for _, target in arrivals} == {"AWSEvents.ListEventBuses"}
    times = [t for t, _ in arrivals]
    burst = ratelimit.burst(RATE)
    assert burst == 10  # half a second's worth at 20 a second
    for window in (0.25, 0.5, 1.0, 2.0, 3.0):
        assert most_in_any_window(times, window) <= burst + RATE * window + 1, window
    # Over the whole run: the 75 calls from 3 processes were spread at 20 a second, not sent at once.
    span = max(times) - min(times)
    assert PROCESSES * CALLS_EACH <= burst + RATE * span + 1


def test_processes_sharing_a_file_bucket_stay_within_the_rate(endpoint, tmp_path):
    server, url = endpoint
    account = unique_account()
    run_processes(url, account, {"AWS_RATE_LIMIT_BACKEND": "file", "EVENTCONSOLE_VAR_DIR": str(tmp_path)})
    assert_within_the_limit(server.arrivals)
    assert [p.suffix for p in (tmp_path / "ratelimit").iterdir()] == [".bucket"]  # one bucket: account|Region|events


def test_processes_sharing_a_redis_bucket_stay_within_the_rate(endpoint):
    server, url = endpoint
    account = unique_account()  # a key of its own in the shared Redis
    redis_url = "redis://127.0.0.1:6379/0"
    prefix = f"drill-{uuid.uuid4().hex[:8]}|"  # the processes' AWS_RATE_LIMIT_KEY_PREFIX: theirs, and shared
    # an emulator: its endpoint is part of the key
    key = f"{ratelimit.REDIS_KEY_PREFIX}{prefix}{url.rstrip('/')}|{account}|us-east-1|events"
    try:
        run_processes(url, account, {"AWS_RATE_LIMIT_BACKEND": "redis", "AWS_RATE_LIMIT_REDIS_URL": redis_url,
                                     "AWS_RATE_LIMIT_KEY_PREFIX": prefix})
        assert_within_the_limit(server.arrivals)
        assert redis.Redis.from_url(redis_url).pttl(key) > 0  # the bucket lived in Redis, and expires by itself
    finally:
        redis.Redis.from_url(redis_url).delete(key)


def test_unreachable_redis_is_a_clear_error_and_nothing_is_sent(endpoint, settings):
    server, url = endpoint
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.AWS_RATE_LIMIT_BACKEND = "redis"
    settings.AWS_RATE_LIMIT_REDIS_URL = f"redis://:secret@127.0.0.1:{port}/0"
    aws.clear_cache()
    environment = Environment(name="X", region="us-east-1", endpoint_url=url, account_id=unique_account())
    with pytest.raises(ratelimit.RateLimitUnavailable) as raised:
        aws.client(environment, "events").list_event_buses()
    words = aws.describe_error(raised.value)
    assert words.startswith(f"The shared AWS rate limit could not reach its store (Redis at "
                            f"redis://:***@127.0.0.1:{port}/0): ")
    assert "secret" not in words
    assert server.arrivals == []


def test_same_account_and_region_share_a_bucket_other_regions_do_not(endpoint, settings, tmp_path):
    server, url = endpoint
    settings.AWS_RATE_LIMIT_BACKEND = "file"
    settings.VAR_DIR = tmp_path
    aws.clear_cache()
    account = unique_account()
    first = Environment(name="A", region="us-east-1", endpoint_url=url, account_id=account, api_rate_limit=1)
    second = Environment(name="B", region="us-east-1", endpoint_url=url + "/", account_id=account, api_rate_limit=1)
    other_region = Environment(name="C", region="eu-west-1", endpoint_url=url, account_id=account, api_rate_limit=1)
    other_account = Environment(name="D", region="us-east-1", endpoint_url=url, account_id=unique_account(),
                                api_rate_limit=1)
    # The clients exist first (loading a service's model takes part of a second on a busy machine).
    clients = {name: aws.client(env, service, interactive=True) for name, env, service in (
        ("first", first, "events"), ("second", second, "events"), ("other region", other_region, "events"),
        ("other account", other_account, "events"), ("other service", second, "sqs"))}
    # The first environment books the next 10 turns of its bucket (1 a second) without sleeping through them.
    for _ in range(10):
        ratelimit.acquire(ratelimit.bucket_for(first, "events"), max_wait=20, sleep=lambda seconds: None)

    def page_call(name: str, operation: str):
        """A call made while a person waits: 3 s for it, in all."""
        with aws.interactive_budget(3):
            return aws.within_budget(lambda: getattr(clients[name], operation)())

    # A page's call in the second environment would wait ~9 s for its turn: more than the page's 3 s budget.
    with pytest.raises(aws.BudgetSpent):
        page_call("second", "list_event_buses")
    assert server.arrivals == []  # it was never sent
    # The same service in another Region, and another account, have buckets of their own: they go at once.
    page_call("other region", "list_event_buses")
    page_call("other account", "list_event_buses")
    # So has another service of the same account and Region.
    page_call("other service", "list_queues")
    assert [target for _, target in server.arrivals] == [
        "AWSEvents.ListEventBuses", "AWSEvents.ListEventBuses", "AmazonSQS.ListQueues"]
    # The first environment's own next call is refused just the same: one bucket for both.
    with pytest.raises(aws.BudgetSpent):
        page_call("first", "list_event_buses")
    assert len(server.arrivals) == 3
    # A process with another AWS_RATE_LIMIT_KEY_PREFIX (here: this one, after changing it) has buckets of its own.
    settings.AWS_RATE_LIMIT_KEY_PREFIX = "another-installation|"
    page_call("first", "list_event_buses")
    assert len(server.arrivals) == 4


def test_background_call_that_would_wait_too_long_fails_with_words(endpoint, settings, tmp_path):
    server, url = endpoint
    settings.AWS_RATE_LIMIT_BACKEND = "file"
    settings.VAR_DIR = tmp_path
    aws.clear_cache()
    environment = Environment(name="A", region="eu-west-1", endpoint_url=url, account_id=unique_account(),
                              api_rate_limit=1)
    bucket = ratelimit.bucket_for(environment, "events")
    for _ in range(int(ratelimit.BACKGROUND_MAX_WAIT_SECONDS) + 5):  # a queue longer than a worker may wait
        ratelimit.acquire(bucket, max_wait=1000, sleep=lambda seconds: None)
    with pytest.raises(ratelimit.RateLimitExceeded) as raised:
        aws.client(environment, "events").list_event_buses()
    assert aws.describe_error(raised.value).startswith(
        f"EventConsole's own AWS rate limit (1 calls a second to events in {environment.account_id} eu-west-1) "
        f"would have made this call wait ")
    assert server.arrivals == []


def test_environment_form_shows_and_checks_the_rate(db, client_for, users):
    page = client_for("admin").get("/environments/add/").content.decode()
    assert "AWS calls per second" in page
    assert Environment._meta.get_field("api_rate_limit").help_text.split(" (")[0] in page
    base = {"name": "Other", "region": "us-east-1", "approvals_required": "0"}
    form = EnvironmentForm(data=base)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["api_rate_limit"] == 20  # empty: the default
    assert EnvironmentForm(data={**base, "api_rate_limit": "50"}).is_valid()
    assert "api_rate_limit" in EnvironmentForm(data={**base, "api_rate_limit": "0"}).errors
    assert "api_rate_limit" in EnvironmentForm(data={**base, "api_rate_limit": "5000"}).errors
