"""In a real browser: sign in as the operator, see the navigation, sign out."""
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_signs_in_sees_navigation_and_signs_out(page, sign_in, users, live_server):
    page.goto("/environments/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/environments/")

    sign_in("operator", "wrong password")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()

    sign_in("operator", PASSWORD)
    expect(page.get_by_test_id("current-user")).to_contain_text("operator")
    expect(page.get_by_test_id("current-user")).to_contain_text("Operators")
    nav = page.get_by_role("navigation", name="Main navigation")
    for item in ("Rules", "Schedules", "Reviews", "Audit", "Environments"):
        expect(nav.get_by_text(item, exact=True)).to_be_visible()
    nav.get_by_role("link", name="Environments").click()
    expect(page.get_by_role("heading", name="Environments")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
