"""Faults between the client factory and moto, injected by our own proxy (tests/support/faultproxy.py)."""
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from environments import aws
from environments.models import Environment

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


@pytest.fixture
def proxied(db, proxy):
    return Environment.objects.create(name="Proxied", region="us-east-1", endpoint_url=proxy.url)


def test_throttling_is_retried_with_backoff_and_succeeds(proxied, proxy):
    proxy.throttle(2)
    aws.client(proxied, "events").put_rule(Name="r1", EventPattern='{"source": ["x"]}')
    assert proxy.requests == 3 and proxy.forwarded == 1
    assert aws.client(proxied, "events").describe_rule(Name="r1")["Name"] == "r1"


def test_persistent_throttling_gives_up_and_is_described(proxied, proxy, settings):
    proxy.throttle(settings.AWS_RETRY_MAX_ATTEMPTS)
    with pytest.raises(ClientError) as caught:
        aws.client(proxied, "events").list_rules()
    assert proxy.requests == settings.AWS_RETRY_MAX_ATTEMPTS and proxy.forwarded == 0
    assert aws.describe_error(caught.value).startswith("AWS is throttling requests")


def test_server_errors_are_retried(proxied, proxy):
    proxy.fail(2, status=503)
    assert aws.client(proxied, "events").list_rules()["Rules"] == []
    assert proxy.requests == 3


def test_dropped_connections_are_retried_then_described(proxied, proxy, settings):
    proxy.drop(1)
    aws.client(proxied, "events").list_rules()
    assert proxy.requests == 2
    proxy.drop(settings.AWS_RETRY_MAX_ATTEMPTS)
    with pytest.raises(ConnectionClosedError) as caught:
        aws.client(proxied, "events").list_rules()
    assert "endpoint" in aws.describe_error(caught.value).lower()


def test_latency_beyond_the_read_timeout_is_described(proxied, proxy, settings):
    settings.AWS_READ_TIMEOUT = 0.3
    settings.AWS_RETRY_MAX_ATTEMPTS = 1
    aws.clear_cache()
    proxy.delay = 0.8
    with pytest.raises(ReadTimeoutError) as caught:
        aws.client(proxied, "events").list_rules()
    assert aws.describe_error(caught.value).endswith("did not answer in time.")


def test_nothing_listening_is_described():
    dead = Environment(pk=99, name="Dead", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(EndpointConnectionError) as caught:
        aws.client(dead, "sts", quick=True).get_caller_identity()
    assert aws.describe_error(caught.value) == 'Could not connect to the AWS endpoint http://127.0.0.1:9/: nothing answered there.'
