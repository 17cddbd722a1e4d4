"""Worked example 1 in an environment needing one approval, in real browsers: the operator creates the rule;
it is not in AWS yet; the reviewer sees the difference and the plan and approves; a real worker applies it;
the rule's history shows draft, submit, approve, apply and each API call, with who did them."""
import json

import pytest
from playwright.sync_api import expect

from environments import aws
from environments.demo import demo_resources_seed
from tests.conftest import PASSWORD
from tests.e2e.rule_steps import NAME, create_worked_example_rule
from tests.rules.flow import WORKED_EXAMPLE_PATTERN

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_reviewer_approves_and_the_worker_applies(browser, page, sign_in, users, production, celery_worker,
                                                  live_server):
    demo_resources_seed(production)
    events = aws.client(production, "events")

    sign_in("operator", PASSWORD)
    create_worked_example_rule(page, "Production")
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "submitted")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # nobody approves their own change
    assert events.list_rules()["Rules"] == []  # not in AWS before the review
    change_url = page.url

    reviewer = browser.new_context(base_url=live_server.url).new_page()
    reviewer.goto("/accounts/login/")
    reviewer.get_by_label("Username").fill("reviewer")
    reviewer.get_by_label("Password").fill(PASSWORD)
    reviewer.get_by_role("button", name="Sign in").click()
    reviewer.get_by_role("link", name="Reviews").click()
    reviewer.get_by_role("checkbox", name="Waiting for me").check()
    reviewer.get_by_role("link", name=f"#{change_url.rstrip('/').split('/')[-1]}").click()
    expect(reviewer.get_by_test_id("plan")).to_contain_text("PutRule")
    expect(reviewer.get_by_test_id("plan")).to_contain_text("PutTargets")
    expect(reviewer.get_by_test_id("diff")).to_contain_text("processing-bucket-1")
    reviewer.get_by_role("textbox", name="Reason").fill("Looks right")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator("h1 [data-state]")).to_have_attribute("data-state", "applied", timeout=30_000)

    rule = events.describe_rule(Name=NAME)
    assert json.loads(rule["EventPattern"]) == WORKED_EXAMPLE_PATTERN
    assert len(events.list_targets_by_rule(Rule=NAME)["Targets"]) == 2

    reviewer.get_by_role("link", name="rule page").click()
    history = reviewer.get_by_test_id("history")
    for entry in ("operator draft step saved", "operator change submitted", "reviewer change approved: Looks right",
                  "system (approved by reviewer) apply started", "system (approved by reviewer) aws api call: Create rule",
                  "system (approved by reviewer) aws api call: Put targets", "system (approved by reviewer) applied"):
        expect(history).to_contain_text(entry)
