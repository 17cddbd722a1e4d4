"""In a real browser: a user with no role sees a page saying so (and can sign out); an operator in
Sandbox only sees that in the menu, is offered only Sandbox for a new rule, and is refused Production."""
import pytest
from playwright.sync_api import expect

from accounts.services import user_create, user_set_environment_roles
from environments.models import Environment
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_no_role_page_then_a_role_in_one_environment(page, sign_in, live_server):
    sandbox = Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    production = Environment.objects.create(name="Production", region="eu-west-1", endpoint_url="http://127.0.0.1:9",
                                            is_production=True, approvals_required=1)
    alice = user_create(username="alice", password=PASSWORD, roles=[])

    sign_in("alice", PASSWORD)
    expect(page.get_by_test_id("no-role")).to_contain_text("You have no role in EventConsole yet")
    response = page.goto("/rules/")
    assert response.status == 403
    expect(page.get_by_test_id("no-role")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")

    user_set_environment_roles(user=alice, environment=sandbox, roles=["Operators"])
    sign_in("alice", PASSWORD)
    expect(page.get_by_test_id("user-roles")).to_have_text("(Operators in Sandbox)")
    page.goto("/rules/")
    picker = page.get_by_label("Environment for the new rule")
    expect(picker.locator("option")).to_have_text(["Sandbox"])
    response = page.goto(f"/environments/{production.pk}/")
    assert response.status == 403
