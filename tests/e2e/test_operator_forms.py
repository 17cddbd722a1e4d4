"""exploration"""
import re
import pytest
from playwright.sync_api import expect
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_explore(page, sign_in, users, environment, demo_resources):
    sign_in("operator", PASSWORD)
    page.goto("/rules/")
    page.get_by_label("Environment for the new rule").select_option(label="Sandbox")
    page.get_by_role("button", name="Create rule").click()
    page.get_by_role("textbox", name="Name").fill("x1")
    page.get_by_role("radio", name="Rule with an event pattern").check()
    page.get_by_role("button", name="Next", exact=True).click()
    page.get_by_role("combobox", name="AWS service").select_option(label="Simple Storage Service (S3)")
    page.get_by_role("combobox", name="Event type").select_option(label="Amazon S3 Event Notification")
    page.get_by_role("radio", name="Specific bucket(s) by name").check()
    page.wait_for_timeout(1500)
    page.screenshot(path="/tmp/h4/pattern.png", full_page=True)
    print(page.locator("#pattern-step").inner_text())
    page.get_by_role("textbox", name="Specific bucket(s) by name").fill("b1")
    page.get_by_role("button", name="Next", exact=True).click()
    first = page.locator(".target-form").nth(0)
    print([o for o in first.get_by_role("combobox", name="Target", exact=True).locator("option").all_inner_texts()])
    first.get_by_role("combobox", name="Target type").select_option(label="SNS topic")
    page.wait_for_timeout(1500)
    first = page.locator(".target-form").nth(0)
    print([o for o in first.get_by_role("combobox", name="Target", exact=True).locator("option").all_inner_texts()])
    page.screenshot(path="/tmp/h4/targets.png", full_page=True)
