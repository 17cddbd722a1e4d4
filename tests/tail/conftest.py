"""What the live tail and test event tests share: moto read straight with boto3 (the independent view of AWS)."""
import boto3
import pytest


@pytest.fixture
def moto(aws_url):
    """boto3 clients straight to the moto server (not our factory): what AWS holds, seen from outside."""
    def make(service, region="us-east-1"):
        return boto3.client(service, region_name=region, endpoint_url=aws_url, aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    return make


@pytest.fixture
def operator(client_for):
    return client_for("operator")


@pytest.fixture
def proxied(proxy, db):
    """Sandbox whose AWS calls go through the fault proxy (its latency lets a drill kill a worker half-way)."""
    from environments.models import Environment
    from tests.conftest import SUITE_RATE_LIMIT

    return Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=proxy.url,
                                      account_id="123456789012", api_rate_limit=SUITE_RATE_LIMIT)
