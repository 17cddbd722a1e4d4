"""A rule's Monitoring tab in a real browser: the vendored chart library draws the stored figures under the
Content-Security-Policy, with no console error, and the range switch redraws them."""
import pytest
from playwright.sync_api import expect

from metrics import fetch
from tests.conftest import PASSWORD
from tests.metrics.conftest import five_minutes_ago, publisher, rule_row

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_the_monitoring_tab_draws_charts_with_no_console_error(page, sign_in, users, environment):
    rule = rule_row(environment, "charted")
    publisher(environment)("AWS/Events", "Invocations", {"RuleName": "charted"}, 5, five_minutes_ago(20))
    fetch.environment_fetch(environment)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in("viewer", PASSWORD)

    page.goto(rule.get_absolute_url())
    page.get_by_role("tab", name="Monitoring").click()

    expect(page.locator("[data-metrics-chart] canvas")).to_have_count(8)
    page.get_by_role("button", name="7 days").click()
    expect(page.get_by_role("button", name="7 days")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-metrics-chart] canvas")).to_have_count(8)
    expect(page.get_by_test_id("metrics-totals")).to_contain_text("Invocations")
    assert errors == []
