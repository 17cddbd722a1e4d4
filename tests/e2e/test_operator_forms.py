"""Issue 13's operator frictions, in a real browser as an operator would meet them: the Target list follows
the target type, the bucket field shows no error before anything is typed, and the All APIs picker says
what an API needs, fills in its skeleton at once and can be searched. Headless Chromium (Playwright)
against the live server; resources come from moto; the required members from botocore's own model."""
import json
import re

import botocore.session
import pytest
from playwright.sync_api import expect

from environments import aws
from tests.conftest import PASSWORD
from tests.e2e.schedule_steps import new_schedule_at_target_step

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

START_INSTANCES = botocore.session.get_session().get_service_model("ec2").operation_model("StartInstances")


def _new_rule_at_pattern_step(page):
    page.goto("/rules/")
    page.get_by_label("Environment for the new rule").select_option(label="Sandbox")
    page.get_by_role("button", name="Create rule").click()
    page.get_by_role("textbox", name="Name").fill("operator-forms")
    page.get_by_role("radio", name="Rule with an event pattern").check()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Build event pattern")).to_be_visible()


def test_the_bucket_field_shows_no_error_until_a_name_is_typed_or_next_is_clicked(page, sign_in, users,
                                                                                  environment):
    sign_in("operator", PASSWORD)
    _new_rule_at_pattern_step(page)
    page.get_by_role("combobox", name="AWS service").select_option(label="Simple Storage Service (S3)")
    page.get_by_role("combobox", name="Event type").select_option(label="Amazon S3 Event Notification")
    # picking "Specific bucket(s) by name": the preview waits for a name, it does not call it an error
    page.get_by_role("radio", name="Specific bucket(s) by name").check()
    expect(page.get_by_test_id("pattern-json-pending")).to_contain_text(
        "The pattern appears here once Specific bucket(s) by name is filled in.")
    expect(page.get_by_text("Enter at least one value")).to_have_count(0)
    # typing a name shows the pattern
    page.get_by_role("textbox", name="Specific bucket(s) by name").fill("processing-bucket-1")
    page.get_by_role("textbox", name="Specific bucket(s) by name").blur()
    expect(page.get_by_test_id("pattern-json")).to_contain_text('"processing-bucket-1"')
    # cleared and Next clicked: now the field says what is missing
    page.get_by_role("textbox", name="Specific bucket(s) by name").fill("")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_text("Enter at least one value, or choose Any bucket.").first).to_be_visible()


def test_picking_lambda_lists_only_lambda_functions(page, sign_in, users, environment, demo_resources):
    sqs = aws.client(environment, "sqs")
    sqs.create_queue(QueueName="orders")
    sign_in("operator", PASSWORD)
    _new_rule_at_pattern_step(page)
    page.get_by_role("radio", name=re.compile(r"^Custom pattern")).check()
    page.get_by_label("Event pattern", exact=True).fill('{"source": ["aws.s3"]}')
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Select target(s)")).to_be_visible()
    target = page.locator(".target-form").nth(0)
    resource = target.get_by_role("combobox", name="Target", exact=True)

    target.get_by_role("combobox", name="Target type").select_option(label="SNS topic")
    expect(resource.locator("option")).to_have_text(["Choose: SNS topic (or enter an ARN below)", "Topic1"])
    target = page.locator(".target-form").nth(0)
    target.get_by_role("combobox", name="Target", exact=True).select_option(label="Topic1")
    # the type changed back to Lambda function: only functions are listed, Topic1 is not kept, no error yet
    target.get_by_role("combobox", name="Target type").select_option(label="Lambda function")
    target = page.locator(".target-form").nth(0)
    resource = target.get_by_role("combobox", name="Target", exact=True)
    expect(resource.locator("option")).to_have_text(["Choose: Lambda function (or enter an ARN below)",
                                                     "Do_nothing"])
    expect(page.get_by_text("Choose a target, or enter its ARN.")).to_have_count(0)
    resource.select_option(label="Do_nothing")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Configure tags")).to_be_visible()


def test_all_apis_search_needs_line_and_skeleton_at_once(page, sign_in, users, environment):
    sign_in("operator", PASSWORD)
    new_schedule_at_target_step(page, "operator-forms")
    page.get_by_role("radio", name=re.compile(r"^All APIs")).check()
    # before a service is chosen, the input's help is true of any service
    expect(page.get_by_text("The API's request, as JSON")).to_be_visible()
    expect(page.get_by_text("The JSON the function receives.")).to_be_hidden()

    page.get_by_label("Search services").fill("ec2")
    page.get_by_label("Search services").dispatch_event("change")
    expect(page.get_by_role("combobox", name="AWS service")).to_have_value("ec2")
    # the EC2 API list is long; typing part of a name narrows it
    apis = page.get_by_role("combobox", name="API", exact=True)
    assert apis.locator("option").count() > 300
    page.get_by_label("Search APIs").fill("StartIn")
    expect(page.get_by_text(re.compile(r"^1 of \d+ APIs match$"))).to_be_visible()
    expect(apis.locator("option:not([hidden])")).to_have_text(["Choose an API", "StartInstances"])

    # picking it shows what it needs and puts its skeleton in the empty input box, without saving
    apis.select_option(label="StartInstances")
    required = list(START_INSTANCES.input_shape.required_members)
    expect(page.get_by_test_id("required-members")).to_have_text(
        f"StartInstances needs: {', '.join(required)}. See its API reference for the rest.")
    box = page.get_by_role("textbox", name="Input")
    expect(box).to_have_value(re.compile(r'"InstanceIds"'))
    assert list(json.loads(box.input_value())) == required
