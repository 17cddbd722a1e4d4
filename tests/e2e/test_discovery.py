"""Discover now in a real browser: the environment page's panel, a REAL `celery worker` doing the
discovery against the moto server over HTTP, and the panel polling until the result shows."""
import json

import pytest
from playwright.sync_api import expect

from environments import aws
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_discover_now_shows_progress_then_the_unmanaged_objects(page, sign_in, users, environment, celery_worker):
    events = aws.client(environment, "events")
    for name in ("made.by-hand_1", "made.by-hand_2"):
        events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    sign_in("operator", PASSWORD)
    page.goto(f"/environments/{environment.pk}/")
    panel = page.get_by_test_id("discovery-panel")
    expect(panel.get_by_test_id("discovery-never")).to_have_text("Not discovered yet.")

    page.once("dialog", lambda dialog: dialog.accept())  # "Discover everything in Sandbox now? …"
    panel.get_by_test_id("discover-now").click()

    expect(page.get_by_text("Discovery of Sandbox started")).to_be_visible()
    result = page.get_by_test_id("discovery-result")
    expect(result).to_contain_text("Succeeded", timeout=60_000)  # the panel polled until the worker finished
    expect(page.get_by_test_id("discovery-found")).to_have_text("2 (2 rules, 0 schedules)")
    expect(page.get_by_test_id("discovery-throttled")).to_have_text("0")
    page.get_by_role("link", name="Unmanaged rules (2)").click()
    assert page.url.endswith(f"/rules/?managed=unmanaged&environment={environment.pk}")
