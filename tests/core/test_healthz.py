"""/healthz: database, broker, heartbeat and each environment's AWS endpoint; 503 when one is down."""
import pytest
from django.utils import timezone

from core.models import Heartbeat
from core.services import heartbeat_record
from environments.models import Environment
from tests.support.services import MotoServer

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


@pytest.fixture
def own_moto():
    server = MotoServer().start()
    yield server
    server.stop()


def test_healthz_is_ok_then_503_when_the_moto_server_stops(client, own_moto):
    Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=own_moto.url)
    heartbeat_record(worker="test")
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "heartbeat", "aws:Sandbox"}
    assert "123456789012" in body["checks"]["aws:Sandbox"]["detail"]

    own_moto.stop()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"]["aws:Sandbox"]["ok"] is False
    assert "Could not connect" in body["checks"]["aws:Sandbox"]["detail"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_a_missing_or_stale_heartbeat_is_down(client, settings):
    assert client.get("/healthz").json()["checks"]["heartbeat"]["ok"] is False
    Heartbeat.objects.create(name="beat", last_seen=timezone.now() - timezone.timedelta(
        seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 5))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "beat or the workers are down" in response.json()["checks"]["heartbeat"]["detail"]


def test_health_page_shows_the_heartbeat(client_for):
    heartbeat_record(worker="worker-host-1")
    page = client_for("viewer").get("/health/")
    assert page.status_code == 200
    assert b"worker-host-1" in page.content and b"heartbeat" in page.content


def test_heartbeat_is_safe_to_run_twice():
    heartbeat_record(worker="a")
    beat = heartbeat_record(worker="b")
    assert Heartbeat.objects.count() == 1 and beat.count == 2 and beat.worker == "b"
