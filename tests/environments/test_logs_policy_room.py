"""The CloudWatch Logs target check: a Region holds at most 10 account resource policies (CloudWatch Logs
quotas), so a rule whose log group needs a statement cannot get one when all 10 are someone else's.

The policies are put in a moto server with boto3; what the check reads is moto's stored state over HTTP.
"""
import json

import boto3
import pytest
from django.core.cache import cache

from environments import resources

LOGS_POLICY = "EventConsole-EventBridge-to-Logs"  # the name the rule plan gives its shared Logs policies

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/*:*"}]})


def put_policies(aws_url, names):
    logs = boto3.client("logs", endpoint_url=aws_url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")
    for name in names:
        logs.put_resource_policy(policyName=name, policyDocument=DOCUMENT)
    return logs


def test_ten_policies_none_of_them_ours_is_warned_about(environment, aws_url):
    logs = put_policies(aws_url, [f"team-{n}" for n in range(10)])
    assert len(logs.describe_resource_policies()["resourcePolicies"]) == 10
    warning, error = resources.logs_policy_room_warning(environment, ours=LOGS_POLICY)
    assert error == ""
    assert "us-east-1 already has 10 CloudWatch Logs resource policies" in warning
    assert "none is EventConsole's" in warning


def test_room_left_or_a_policy_of_ours_is_no_warning(environment, aws_url):
    put_policies(aws_url, [f"team-{n}" for n in range(9)])
    assert resources.logs_policy_room_warning(environment, ours=LOGS_POLICY) == ("", "")
    cache.clear()  # the listing is cached for a short while; this reads the Region again
    put_policies(aws_url, ["EventConsole-EventBridge-to-Logs"])  # the tenth is EventConsole's: it takes statements
    assert resources.logs_policy_room_warning(environment, ours=LOGS_POLICY) == ("", "")


def test_policies_that_cannot_be_read_say_so(environment):
    environment.endpoint_url = "http://127.0.0.1:9"  # nothing listens there
    environment.save()
    warning, error = resources.logs_policy_room_warning(environment, ours=LOGS_POLICY)
    assert warning == "" and error.startswith("CloudWatch Logs resource policies could not be read")
