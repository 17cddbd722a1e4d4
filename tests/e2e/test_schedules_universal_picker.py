"""The All APIs pickers in a real browser: search a service and an API by typing, the input box is filled
with the API's skeleton (from botocore's model), and nothing typed is replaced. Headless Chromium
(Playwright) against the live server; the pickers list what botocore ships, resources come from moto."""
import json
import re

import botocore.session
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.schedule_steps import new_schedule_at_target_step

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_search_a_service_and_an_api_and_get_its_skeleton(page, sign_in, users, environment):
    sign_in("operator", PASSWORD)
    new_schedule_at_target_step(page, "picker")
    page.get_by_role("radio", name=re.compile(r"^All APIs")).check()
    # Typing Scheduler's name of the service picks it in the select (and the step refreshes with its APIs)
    page.get_by_test_id("service-search").fill("sqs")
    page.get_by_test_id("service-search").dispatch_event("change")
    expect(page.locator("#id_target-service")).to_have_value("sqs")
    expect(page.locator('#id_target-action option[value="sendMessage"]')).to_have_count(1)
    page.get_by_test_id("action-search").fill("SendMessage")
    page.get_by_test_id("action-search").dispatch_event("change")
    expect(page.locator("#id_target-action")).to_have_value("sendMessage")
    required = botocore.session.get_session().get_service_model("sqs").operation_model(
        "SendMessage").input_shape.required_members
    expect(page.locator("#id_target-input")).not_to_have_value("")
    assert list(json.loads(page.locator("#id_target-input").input_value())) == list(required)
    # what the person types is never replaced by another API's skeleton
    page.locator("#id_target-input").fill('{"QueueUrl": "https://q", "MessageBody": "mine"}')
    page.locator("#id_target-action").select_option("sendMessageBatch")
    page.wait_for_timeout(500)
    assert json.loads(page.locator("#id_target-input").input_value())["MessageBody"] == "mine"
    # the example is refused at the field, in words
    page.get_by_test_id("service-search").fill("ec2")
    page.get_by_test_id("service-search").dispatch_event("change")
    expect(page.locator("#id_target-service")).to_have_value("ec2")
    page.locator("#id_target-action").select_option(label="StartInstances")
    # the page put the box's content there (it came back with the step), so StartInstances' skeleton
    # replaces it: wait for it before typing over it (typing while it arrives would mix the two)
    expect(page.locator("#id_target-input")).to_have_value(re.compile(r'"InstanceIds"'))
    page.locator("#id_target-input").fill('{"InstanceIds": "i-123", "Bogus": 1}')
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(page.locator("#id_target-input").locator("xpath=..").locator("..")).to_contain_text(
        "InstanceIds must be a list")
    expect(page.get_by_text("unknown member 'Bogus'")).to_be_visible()
