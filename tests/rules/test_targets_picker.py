"""The target picker lists only resources of the chosen type, read from moto over HTTP, every page of them.

Also on this step's neighbours: the rule state with CloudTrail management events, and the pattern size
quota of the environment.
"""
import json

import pytest

from changes.models import ChangeRequest
from environments import aws
from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def picker(operator, draft, kind) -> set[str]:
    """The ARNs offered after choosing `kind` (the page refreshes the step when the type changes)."""
    response = flow.post(operator, draft, "targets", flow.targets(flow.target(0, "", kind=kind)), go="refresh")
    assert response.status_code == 200
    return {value for value, _label in response.context["form"].forms[0].fields["resource"].choices if value}


def test_the_picker_lists_only_the_chosen_type(operator, environment, at_targets):
    sqs, sns, kinesis = (aws.client(environment, name) for name in ("sqs", "sns", "kinesis"))
    events = aws.client(environment, "events")
    queue = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="orders")["QueueUrl"],
                                     AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    connection = events.create_connection(
        Name="partner", AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "secret"}})["ConnectionArn"]
    destination = events.create_api_destination(
        Name="orders-api", ConnectionArn=connection, InvocationEndpoint="https://example.com/orders",
        HttpMethod="POST")["ApiDestinationArn"]

    assert picker(operator, at_targets, "sqs") == {queue}
    assert picker(operator, at_targets, "sns") == {topic}
    assert picker(operator, at_targets, "kinesis") == {stream}
    assert picker(operator, at_targets, "api_destination") == {destination}
    assert picker(operator, at_targets, "apigateway") == set()  # typed: its ARN names a stage, method and path


def test_every_page_of_a_listing_is_offered(operator, environment, at_targets):
    """ListTopics returns 100 topics a page (AWS and moto): the 101st is on the second page."""
    sns = aws.client(environment, "sns")
    topics = {sns.create_topic(Name=f"topic-{i:03d}")["TopicArn"] for i in range(101)}
    first_page = sns.list_topics()
    assert "NextToken" in first_page  # moto pages it as AWS does, so this test sees the second page
    assert picker(operator, at_targets, "sns") == topics


def test_a_listing_that_fails_still_lets_the_arn_be_typed(operator, environment, at_targets):
    """Moto has no Incident Manager: the step says the list could not be read, and a typed ARN is kept."""
    response = flow.post(operator, at_targets, "targets", flow.targets(flow.target(0, "", kind="incidents")),
                         go="refresh")
    assert response.status_code == 200
    errors = response.context["form"].forms[0].listing_errors
    assert errors and "Enter the ARN below" in errors[0]


def test_a_log_group_target_warns_when_the_region_has_no_room_for_a_logs_policy(operator, environment, at_targets):
    """CloudWatch Logs allows 10 resource policies per Region (CloudWatch Logs quotas). With 10 that are not
    EventConsole's, the statement letting EventBridge write to the log group has nowhere to go: the step says
    so when the log-group type is chosen (a warning: one of them may already cover the group)."""
    logs = aws.client(environment, "logs")
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "logs:PutLogEvents",
        "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/team/*:*"}]})
    for n in range(10):
        logs.put_resource_policy(policyName=f"team-{n}", policyDocument=document)
    response = flow.post(operator, at_targets, "targets", flow.targets(flow.target(0, "", kind="logs")), go="refresh")
    assert response.status_code == 200
    warnings = response.context["form"].forms[0].listing_errors
    assert any("already has 10 CloudWatch Logs resource policies" in w for w in warnings), warnings
    body = response.content.decode()
    assert "already has 10 CloudWatch Logs resource policies" in body
    # Another type makes no such read and shows no such warning.
    response = flow.post(operator, at_targets, "targets", flow.targets(flow.target(0, "", kind="sqs")), go="refresh")
    assert not any("CloudWatch Logs" in w for w in response.context["form"].forms[0].listing_errors)


def test_state_with_all_cloudtrail_management_events(operator, environment):
    from botocore.session import get_session

    state = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    assert state in get_session().get_service_model("events").shape_for("RuleState").enum
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment, cloudtrail_management_events="on"))
    assert ChangeRequest.objects.get(pk=draft).spec["Rule"]["State"] == state
    response = flow.post(operator, draft, "detail", flow.detail(environment, enabled="",
                                                                cloudtrail_management_events="on"))
    assert response.context["form"].errors["cloudtrail_management_events"][0].startswith(
        "Only an enabled rule can receive CloudTrail management events")


def test_a_cloudtrail_pattern_with_plain_enabled_is_warned_about(operator, environment):
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment))
    pattern = {"source": ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"],
               "detail": {"eventSource": ["s3.amazonaws.com"]}}
    response = flow.post(operator, draft, "pattern", {**flow.worked_example_pattern_form(),
                                                      "pattern-creation_method": "json",
                                                      "pattern-pattern_json": json.dumps(pattern)}, go="save")
    response = operator.get(flow.step_url(draft, "pattern"))
    assert "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" in response.context["switch_warning"]
    response = operator.get(flow.step_url(draft, "detail"))
    assert "AWS API Call via CloudTrail" in response.context["state_warning"]
    # With the state that receives them, no warning.
    flow.post(operator, draft, "detail", flow.detail(environment, cloudtrail_management_events="on"))
    assert operator.get(flow.step_url(draft, "detail")).context["state_warning"] == ""


def test_pattern_size_is_the_environments_quota(operator, environment):
    """Default 2,048 characters (the "Event pattern size" quota); an environment whose quota AWS raised says so."""
    pattern = {"source": ["aws.s3"], "detail": {"key": ["k" * 2100]}}
    size = len(json.dumps(pattern, separators=(",", ":")))
    assert 2048 < size < 4096
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment))
    data = {**flow.worked_example_pattern_form(), "pattern-creation_method": "json",
            "pattern-pattern_json": json.dumps(pattern, indent=2)}
    response = flow.post(operator, draft, "pattern", data)
    assert response.status_code == 200
    assert any("the limit is 2,048" in e for e in response.context["form"].errors["pattern_json"])
    environment.pattern_size_max = 4096
    environment.save()
    assert flow.post(operator, draft, "pattern", data).status_code == 302


def test_the_quota_is_edited_on_the_environment_form(db):
    from environments.forms import EnvironmentForm

    base = {"name": "Other", "region": "us-east-1", "approvals_required": "0", "account_id": "", "endpoint_url": "",
            "role_arn": "", "description": ""}
    form = EnvironmentForm(data=base)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["pattern_size_max"] == 2048
    form = EnvironmentForm(data={**base, "pattern_size_max": "5000"})
    assert "pattern_size_max" in form.errors  # above the API's 4,096
