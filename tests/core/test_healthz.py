"""/healthz: database, broker, heartbeat and each environment's AWS endpoint; 503 when one is down."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.models import Heartbeat
from core.services import heartbeat_record
from environments.models import Environment
from tests.support.faultproxy import FaultProxy
from tests.support.services import MotoServer

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


@pytest.fixture
def own_moto():
    server = MotoServer().start()
    yield server
    server.stop()


def test_healthz_is_ok_then_503_when_the_moto_server_stops(client, client_for, own_moto):
    Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=own_moto.url)
    heartbeat_record(worker="test")
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "heartbeat": "ok",
                                               "aws:Sandbox": "ok"}}
    admin = client_for("admin").get("/healthz").json()
    assert "123456789012" in admin["checks"]["aws:Sandbox"]["detail"]

    own_moto.stop()
    cache.clear()  # as when HEALTH_CACHE_SECONDS have passed
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"] == {"database": "ok", "broker": "ok", "heartbeat": "ok", "aws:Sandbox": "down"}
    admin = client_for("admin").get("/healthz")
    assert admin.status_code == 503
    assert "Could not connect" in admin.json()["checks"]["aws:Sandbox"]["detail"]


def test_a_missing_or_stale_heartbeat_is_down(client_for, settings):
    settings.HEALTH_CACHE_SECONDS = 0
    client = client_for("admin")
    assert client.get("/healthz").json()["checks"]["heartbeat"]["ok"] is False
    Heartbeat.objects.create(name="beat", last_seen=timezone.now() - timezone.timedelta(
        seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 5))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "beat or the workers are down" in response.json()["checks"]["heartbeat"]["detail"]


def test_anonymous_and_non_admin_callers_get_no_detail(client, client_for, aws_url):
    Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=aws_url, account_id="123456789012")
    heartbeat_record(worker="worker-host-7.internal")
    admin = client_for("admin").get("/healthz").json()
    detail = json.dumps(admin)
    # The admin's view holds what must not leak (so the checks below can fail).
    for secret in ("123456789012", "arn:aws:", "us-east-1", "worker-host-7.internal"):
        assert secret in detail
    for caller in (client, client_for("viewer"), client_for("operator")):
        response = caller.get("/healthz")
        assert response.status_code == 200
        text = response.content.decode()
        for secret in ("123456789012", "arn:", "us-east-1", "worker-host-7", "127.0.0.1", "localhost", "detail",
                       "sqlite", "postgresql", "seconds"):
            assert secret not in text, (secret, text)
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "heartbeat": "ok",
                                                              "aws:Sandbox": "ok"}}
    # The health page tells signed-in admins the same detail, and everyone else only ok/down.
    assert "123456789012" in client_for("admin").get("/health/").content.decode()
    for caller in (client_for("viewer"), client_for("operator")):
        page = caller.get("/health/").content.decode()
        assert "aws:Sandbox" in page and "shown to admins" in page
        for secret in ("123456789012", "arn:aws:", "worker-host-7"):
            assert secret not in page, secret


@pytest.mark.django_db(transaction=True)  # the requests run in threads, on their own connections
def test_a_flood_of_requests_makes_one_sts_call_per_environment_per_interval(client, aws_url):
    proxies = [FaultProxy(aws_url).start() for _ in range(2)]
    try:
        for number, proxy in enumerate(proxies):
            Environment.objects.create(name=f"Env{number}", region="us-east-1", endpoint_url=proxy.url)
        heartbeat_record(worker="test")
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: client.get("/healthz").status_code, range(40)))
        assert statuses == [200] * 40
        assert [p.requests for p in proxies] == [1, 1]  # one GetCallerIdentity each, for 40 requests
        cache.clear()  # the interval is over
        assert client.get("/healthz").status_code == 200
        assert [p.requests for p in proxies] == [2, 2]
    finally:
        for proxy in proxies:
            proxy.stop()


def test_health_page_shows_the_heartbeat_to_admins(client_for):
    heartbeat_record(worker="worker-host-1")
    page = client_for("admin").get("/health/")
    assert page.status_code == 200
    assert b"worker-host-1" in page.content and b"heartbeat" in page.content


def test_heartbeat_is_safe_to_run_twice():
    heartbeat_record(worker="a")
    beat = heartbeat_record(worker="b")
    assert Heartbeat.objects.count() == 1 and beat.count == 2 and beat.worker == "b"
