"""Worked example 1 in a real browser: an operator clicks through all five steps with the pattern form,
a real Celery worker applies the change, and the moto server then holds the rule and its two targets,
and the permissions that let Do_nothing and Topic1 receive its events (moto stores them; it does not deliver)."""
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

    # Sandbox needs no approval: the operator lands on the rule's page, which follows the apply made by the
    # worker until it is applied; its change page has the plan.
    progress = page.get_by_test_id("apply-progress")
    expect(progress).to_contain_text("Applied", timeout=30_000)
    progress.get_by_role("link").click()
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "applied", timeout=30_000)
    # The plan reviewers see lists what lets the two targets receive events.
    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("AddPermission")
    expect(plan).to_contain_text(f"Allow rule {NAME} to invoke Lambda function Do_nothing")
    expect(plan).to_contain_text("SetTopicAttributes")
    expect(plan).to_contain_text(f"Allow rule {NAME} to publish to SNS topic Topic1")

    events = aws.client(environment, "events")
    rule = events.describe_rule(Name=NAME, EventBusName="default")
    assert json.loads(rule["EventPattern"]) == WORKED_EXAMPLE_PATTERN
    targets = events.list_targets_by_rule(Rule=NAME, EventBusName="default")["Targets"]
    assert sorted(t["Arn"] for t in targets) == sorted([demo_resources["lambda"], demo_resources["topic"]])
    assert "change_request_apply" in celery_worker.log()

    lambda_policy = json.loads(aws.client(environment, "lambda").get_policy(FunctionName="Do_nothing")["Policy"])
    assert [s["Condition"] for s in lambda_policy["Statement"]] == [
        {"ArnLike": {"AWS:SourceArn": f"arn:aws:events:us-east-1:123456789012:rule/{NAME}"}}]

    page.get_by_role("link", name="rule page").click()
    expect(page.get_by_test_id("diagram")).to_contain_text("aws.s3")
    receivers = page.get_by_test_id("receivers")
    expect(receivers).to_contain_text("Do_nothing can receive events from this rule.")
    expect(receivers).to_contain_text("Topic1 can receive events from this rule.")
    expect(page.get_by_test_id("cannot-receive")).to_have_count(0)
    history = page.get_by_test_id("history")
    for entry in ("operator draft step saved", "operator change submitted", "aws api call: Create rule",
                  "aws api call: Put targets", "aws api call: Allow rule", "applied: 4 API calls"):
        expect(history).to_contain_text(entry)
