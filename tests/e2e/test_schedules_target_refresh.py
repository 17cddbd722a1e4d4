"""The target step in a real browser: picking a FIFO queue brings up the message group ID box, picking a
standard queue takes it away; picking a Lambda function offers its versions and aliases in the
"Version or alias" box. Headless Chromium (Playwright) against the live server; the queues and the function
are created in moto with boto3 before the flow starts (the flow's listings are cached for a short while)."""
import io
import json
import re
import zipfile

import boto3
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.schedule_steps import new_schedule_at_target_step

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def boto(aws_url, service):
    return boto3.client(service, endpoint_url=aws_url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_fifo_queue_brings_the_message_group_box_and_a_function_its_versions(page, sign_in, users, environment,
                                                                              aws_url):
    sqs = boto(aws_url, "sqs")
    sqs.create_queue(QueueName="jobs")
    sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})
    role = boto(aws_url, "iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("f.py", "def h(event, context):\n    return 1\n")
    lam = boto(aws_url, "lambda")
    lam.create_function(FunctionName="Do_nothing", Runtime="python3.11", Role=role, Handler="f.h",
                        Code={"ZipFile": code.getvalue()})
    version = lam.publish_version(FunctionName="Do_nothing")["Version"]
    lam.create_alias(FunctionName="Do_nothing", Name="live", FunctionVersion=version)

    sign_in("operator", PASSWORD)
    new_schedule_at_target_step(page, "picker")
    page.get_by_label("Templated target", exact=True).select_option(label="Amazon SQS SendMessage")
    expect(page.get_by_label("SQS queue")).to_be_visible()
    expect(page.get_by_test_id("message-group-id")).to_have_count(0)
    page.get_by_label("SQS queue").select_option(label="jobs.fifo")
    expect(page.get_by_label("Message group ID", exact=True)).to_be_visible()
    page.get_by_label("Message group ID", exact=True).fill("g1")
    page.get_by_label("SQS queue").select_option(label="jobs")
    expect(page.get_by_test_id("message-group-id")).to_have_count(0)
    page.get_by_label("SQS queue").select_option(label="jobs.fifo")  # back again: what was typed is still there
    expect(page.get_by_label("Message group ID", exact=True)).to_have_value("g1")

    page.get_by_label("Templated target", exact=True).select_option(label="AWS Lambda Invoke")
    expect(page.get_by_label("Lambda function")).to_be_visible()
    page.get_by_label("Lambda function").select_option(label="Do_nothing")
    expect(page.locator("#id_target-qualifier")).to_have_attribute("list", "qualifier-options")
    options = page.locator("#qualifier-options option")
    expect(options).to_have_count(2)
    assert sorted(options.evaluate_all("els => els.map(e => e.value)")) == sorted(["live", version])
    expect(page.get_by_test_id("lambda-qualifiers")).to_contain_text(re.compile(r"live \(alias of version"))
