"""The target step lists the resources of the four newer templated targets (CodePipeline pipelines,
Firehose streams, Inspector assessment templates, SageMaker pipelines) and a Lambda function's published
versions and aliases.

The resources are created in a moto server with boto3 in each test; the ARNs expected in the pickers are
the ones moto itself reports back for them (GetPipeline, DescribeDeliveryStream, CreatePipeline,
PublishVersion/CreateAlias), not computed by the code under test.

moto has no Amazon Inspector (classic) API — its server answers ListAssessmentTemplates with an HTTP 500 —
so for Inspector the "could not be listed, enter the ARN" path is what is tested.
"""
import io
import json
import zipfile

import boto3
import pytest

from changes.models import ChangeRequest
from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ACCOUNT = "123456789012"


def boto(aws_url, service):
    return boto3.client(service, endpoint_url=aws_url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def role(aws_url, principal: str) -> str:
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}
    return boto(aws_url, "iam").create_role(RoleName=f"role-{principal.split('.')[0]}",
                                            AssumeRolePolicyDocument=json.dumps(document))["Role"]["Arn"]


@pytest.fixture
def draft(client_for, environment):
    client = client_for("operator")
    draft_id = flow.start(client, environment)
    response = flow.post(client, draft_id, "detail", flow.detail(environment))
    assert response.status_code == 302
    return client, draft_id


def show(client, draft_id, kind, **fields):
    """The target step refreshed for `kind` (what the page does when the templated target changes)."""
    response = flow.post(client, draft_id, "target", flow.templated(kind, "", **fields), go="refresh")
    assert response.status_code == 200
    return response


def resource_choices(response) -> dict[str, str]:
    return {value: label for value, label in response.context["form"].fields["resource"].choices if value}


def test_codepipeline_pipelines_are_listed(draft, aws_url):
    client, draft_id = draft
    codepipeline = boto(aws_url, "codepipeline")
    stage = {"actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
             "configuration": {}}
    codepipeline.create_pipeline(pipeline={
        "name": "release", "roleArn": role(aws_url, "codepipeline.amazonaws.com"),
        "artifactStore": {"type": "S3", "location": "artifacts"},
        "stages": [{"name": "Source", "actions": [{"name": "S", **stage}]},
                   {"name": "Build", "actions": [{"name": "B", **stage}]}]})
    expected = codepipeline.get_pipeline(name="release")["metadata"]["pipelineArn"]
    response = show(client, draft_id, "codepipeline")
    assert resource_choices(response) == {expected: "release"}
    assert expected in response.content.decode()
    # chosen from the list, it is the schedule's target
    response = flow.post(client, draft_id, "target", flow.templated("codepipeline", expected))
    assert response.status_code == 302, response.context["form"].errors
    assert ChangeRequest.objects.get(pk=draft_id).spec["Target"]["Arn"] == expected


def test_firehose_streams_are_listed(draft, aws_url):
    client, draft_id = draft
    firehose = boto(aws_url, "firehose")
    delivery_role = role(aws_url, "firehose.amazonaws.com")
    for name in ("logs", "audit"):
        firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
            "RoleARN": delivery_role, "BucketARN": "arn:aws:s3:::logs-bucket"})
    expected = {firehose.describe_delivery_stream(DeliveryStreamName=n)["DeliveryStreamDescription"][
        "DeliveryStreamARN"]: n for n in ("audit", "logs")}
    response = show(client, draft_id, "firehose")
    assert resource_choices(response) == expected
    assert list(resource_choices(response).values()) == ["audit", "logs"]  # by name


def test_sagemaker_pipelines_are_listed(draft, aws_url):
    client, draft_id = draft
    created = boto(aws_url, "sagemaker").create_pipeline(
        PipelineName="train", PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=role(aws_url, "sagemaker.amazonaws.com"), ClientRequestToken="t" * 32)
    response = show(client, draft_id, "sagemaker")
    assert resource_choices(response) == {created["PipelineArn"]: "train"}


def test_inspector_templates_not_listable_leave_the_arn_to_type(draft):
    """moto has no Inspector (classic) API: the listing fails, the page says so, and a typed ARN is taken."""
    client, draft_id = draft
    response = show(client, draft_id, "inspector")
    assert resource_choices(response) == {}
    assert "Inspector assessment templates could not be listed" in response.content.decode()
    template = f"arn:aws:inspector:us-east-1:{ACCOUNT}:target/0-nvgVhaxX/template/0-7sbz2Kz0"
    response = flow.post(client, draft_id, "target", flow.templated("inspector", "", resource_arn=template))
    assert response.status_code == 302, response.context["form"].errors
    assert ChangeRequest.objects.get(pk=draft_id).spec["Target"]["Arn"] == template


def function(aws_url) -> str:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("f.py", "def h(event, context):\n    return 1\n")
    return boto(aws_url, "lambda").create_function(
        FunctionName="Do_nothing", Runtime="python3.11", Role=role(aws_url, "lambda.amazonaws.com"), Handler="f.h",
        Code={"ZipFile": code.getvalue()})["FunctionArn"]


def test_lambda_versions_and_aliases_of_the_chosen_function(draft, aws_url):
    client, draft_id = draft
    arn = function(aws_url)
    lam = boto(aws_url, "lambda")
    first = lam.publish_version(FunctionName="Do_nothing")["Version"]
    lam.create_alias(FunctionName="Do_nothing", Name="live", FunctionVersion=first)
    # no function chosen yet: nothing to offer
    response = show(client, draft_id, "lambda")
    assert response.context["form"].qualifiers == []
    assert 'list="qualifier-options"' not in response.content.decode()
    # the function chosen: its alias and published version are offered in the box ($LATEST is no qualifier)
    response = show(client, draft_id, "lambda", resource=arn)
    offered = [r.arn for r in response.context["form"].qualifiers]
    assert sorted(offered) == sorted(["live", first])
    page = response.content.decode()
    assert 'list="qualifier-options"' in page and '<datalist id="qualifier-options">' in page
    assert f'<option value="live" label="live (alias of version {first})">' in page
    # and a typed ARN of the same function is listed the same way
    response = show(client, draft_id, "lambda", resource_arn=arn)
    assert sorted(r.arn for r in response.context["form"].qualifiers) == sorted(["live", first])
    # the one picked is the target's qualifier
    response = flow.post(client, draft_id, "target", flow.templated("lambda", arn, qualifier="live"))
    assert response.status_code == 302, response.context["form"].errors
    assert ChangeRequest.objects.get(pk=draft_id).spec["Target"]["Arn"] == f"{arn}:live"


def test_lambda_versions_of_a_missing_function_say_so(draft):
    client, draft_id = draft
    missing = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gone"
    response = show(client, draft_id, "lambda", resource_arn=missing)
    assert response.context["form"].qualifiers == []
    assert "Versions and aliases could not be listed" in response.content.decode()
    response = flow.post(client, draft_id, "target", flow.templated("lambda", "", resource_arn=missing,
                                                                    qualifier="3"))
    assert response.status_code == 302, response.context["form"].errors


def test_message_group_id_only_for_a_fifo_queue_and_required_there(client_for, environment, aws_url):
    """SQS: a FIFO queue's name ends in .fifo, and SendMessage to it needs a message group ID."""
    sqs = boto(aws_url, "sqs")
    standard_url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    fifo_url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    # the queues exist before the flow starts (its Settings step lists queues too, and listings are cached)
    client = client_for("operator")
    draft_id = flow.start(client, environment)
    assert flow.post(client, draft_id, "detail", flow.detail(environment)).status_code == 302
    standard, fifo = (sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                      for url in (standard_url, fifo_url))
    # a standard queue: no message group box, and a value left over from a FIFO queue is not sent
    response = show(client, draft_id, "sqs", resource=standard)
    assert set(resource_choices(response)) == {standard, fifo}
    assert 'data-testid="message-group-id"' not in response.content.decode()
    response = flow.post(client, draft_id, "target", flow.templated("sqs", standard, "m", message_group_id="g1"))
    assert response.status_code == 302, response.context["form"].errors
    assert ChangeRequest.objects.get(pk=draft_id).spec["Target"] == {"Arn": standard, "Input": "m"}
    # a FIFO queue: the box is there, and required
    response = show(client, draft_id, "sqs", resource=fifo)
    assert 'data-testid="message-group-id"' in response.content.decode()
    response = flow.post(client, draft_id, "target", flow.templated("sqs", fifo, "m", message_group_id=""))
    assert response.status_code == 200
    assert "is required" in " ".join(response.context["form"].errors["message_group_id"])
    assert 'data-testid="message-group-id"' in response.content.decode()  # shown with its error
    response = flow.post(client, draft_id, "target", flow.templated("sqs", fifo, "m", message_group_id="g1"))
    assert response.status_code == 302, response.context["form"].errors
    assert ChangeRequest.objects.get(pk=draft_id).spec["Target"] == {
        "Arn": fifo, "Input": "m", "SqsParameters": {"MessageGroupId": "g1"}}
    # a typed FIFO queue ARN shows the box too
    response = show(client, draft_id, "sqs", resource_arn=fifo)
    assert 'data-testid="message-group-id"' in response.content.decode()
