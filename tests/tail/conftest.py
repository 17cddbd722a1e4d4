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
