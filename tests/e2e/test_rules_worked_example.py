"""Worked example 1 in a real browser: an operator clicks through all five steps with the pattern form,
a real Celery worker applies the change, and the moto server then holds the rule and its two targets."""
import json

import pytest
from playwright.sync_api import expect

from environments import aws
from tests.conftest import PASSWORD
from tests.e2e.rule_steps import NAME, create_worked_example_rule
from tests.rules.flow import WORKED_EXAMPLE_PATTERN

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_operator_creates_the_worked_example_rule_with_the_pattern_form(
        page, sign_in, users, environment, demo_resources, celery_worker, live_server):
    sign_in("operator", PASSWORD)
    create_worked_example_rule(page, "Sandbox")

    # The change page follows the apply made by the worker until it is applied.
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "applied", timeout=30_000)

    events = aws.client(environment, "events")
    rule = events.describe_rule(Name=NAME, EventBusName="default")
    assert json.loads(rule["EventPattern"]) == WORKED_EXAMPLE_PATTERN
    targets = events.list_targets_by_rule(Rule=NAME, EventBusName="default")["Targets"]
    assert sorted(t["Arn"] for t in targets) == sorted([demo_resources["lambda"], demo_resources["topic"]])
    assert "change_request_apply" in celery_worker.log()

    page.get_by_role("link", name="rule page").click()
    expect(page.get_by_test_id("diagram")).to_contain_text("aws.s3")
    history = page.get_by_test_id("history")
    for entry in ("operator draft step saved", "operator change submitted", "aws api call: Create rule",
                  "aws api call: Put targets", "applied: 2 API calls"):
        expect(history).to_contain_text(entry)
