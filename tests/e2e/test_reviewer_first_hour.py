"""The reviewer's first hour (issue 13), in real browsers: the operator creates a rule in Production; the
reviewer finds it on their dashboard, opens it by its title from the Reviews list, approves it and a real
worker applies it. In Sandbox, which needs no approval, the operator lands on the rule's page, which follows
the apply until it is done."""
import re

import pytest
from playwright.sync_api import expect

from environments import aws
from environments.demo import demo_resources_seed
from tests.conftest import PASSWORD
from tests.e2e.rule_steps import NAME, create_worked_example_rule

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_the_reviewer_finds_the_waiting_change_on_the_dashboard_and_approves_it(
        browser, page, sign_in, users, production, celery_worker, live_server):
    demo_resources_seed(production)
    sign_in("operator", PASSWORD)
    create_worked_example_rule(page, "Production")
    expect(page.get_by_test_id("approval-progress")).to_have_text("0 of 1 approval")
    change_id = page.url.rstrip("/").split("/")[-1]

    reviewer = browser.new_context(base_url=live_server.url).new_page()
    reviewer.goto("/accounts/login/")
    reviewer.get_by_label("Username").fill("reviewer")
    reviewer.get_by_label("Password").fill(PASSWORD)
    reviewer.get_by_role("button", name="Sign in").click()

    # The dashboard says what waits for them, and links to it.
    waiting = reviewer.get_by_test_id("waiting-for-review")
    expect(waiting.get_by_role("heading")).to_contain_text("Waiting for my review")
    expect(waiting).to_contain_text(f"default/{NAME}")
    expect(waiting).to_contain_text("by operator")
    waiting.get_by_role("link", name="See all waiting for me").click()

    # The Reviews list, filtered to what waits for them: the row's title is the link.
    expect(reviewer.get_by_label("Waiting for me")).to_be_checked()
    row = reviewer.get_by_role("row").filter(has_text=f"default/{NAME}")
    expect(row).to_contain_text("Production")
    expect(row).to_contain_text("operator")
    row.get_by_role("link", name=re.compile(r"^Create rule")).click()

    expect(reviewer).to_have_url(re.compile(rf"/reviews/{change_id}/$"))
    expect(reviewer.get_by_test_id("approval-progress")).to_have_text("0 of 1 approval")
    reviewer.get_by_role("textbox", name="Reason").fill("Looks right")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator("h1 [data-state]")).to_have_attribute("data-state", "applied", timeout=30_000)
    expect(reviewer.get_by_test_id("approval-progress")).to_have_text("1 of 1 approval")
    assert aws.client(production, "events").describe_rule(Name=NAME)["State"] == "ENABLED"

    # Back on the dashboard, nothing waits any more.
    reviewer.get_by_role("link", name="EventConsole").click()
    expect(reviewer.get_by_test_id("waiting-for-review")).to_contain_text("Nothing is waiting for you.")


def test_the_operator_in_sandbox_lands_on_the_rule_page(page, sign_in, users, environment, demo_resources,
                                                       celery_worker):
    sign_in("operator", PASSWORD)
    create_worked_example_rule(page, "Sandbox")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(page.get_by_role("navigation", name="breadcrumb")).to_contain_text("Rules")
    progress = page.get_by_test_id("apply-progress")
    expect(progress).to_contain_text("Applied", timeout=30_000)
    expect(page.get_by_text(re.compile(r"\d of \d approval"))).to_have_count(0)
    expect(page.locator("h1 [data-status]")).to_have_attribute("data-status", "in_sync")
