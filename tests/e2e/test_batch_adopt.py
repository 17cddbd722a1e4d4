"""Adopting in a real browser with a real worker: everything a filter shows, in bulk, with its progress
bar (which survives a reload: the progress is the items' states); and "Adopt it instead" from the
create flow's name field.

The unmanaged rows are made as discovery makes them (sync status Unmanaged, the live spec set)."""
import re

import pytest
from playwright.sync_api import expect

from changes.choices import ChangeState as S, SyncStatus
from changes.models import ChangeRequest
from rules.models import Rule
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def live_rule(name: str) -> dict:
    return {"Arn": f"arn:aws:events:us-east-1:123456789012:rule/{name}",
            "Rule": {"Name": name, "EventBusName": "default", "EventPattern": '{"source":["aws.s3"]}',
                     "State": "ENABLED"}, "Targets": [], "Tags": []}


def unmanaged(environment, names):
    Rule.objects.bulk_create([Rule(environment=environment, name=name, sync_status=SyncStatus.UNMANAGED,
                                   live_spec=live_rule(name), state="ENABLED") for name in names])


def test_bulk_adopt_of_everything_a_filter_shows_with_a_progress_bar_that_survives_a_reload(
        page, sign_in, users, environment, celery_worker):
    unmanaged(environment, [f"legacy-{i:03}" for i in range(240)] + ["other-1", "other-2"])
    sign_in("operator", PASSWORD)
    page.goto("/rules/?q=legacy")
    page.get_by_label("or all 240 matching the filter").check()
    page.get_by_role("button", name="Adopt", exact=True).click()

    expect(page.get_by_role("heading", name="Adopt rules")).to_be_visible()
    expect(page.get_by_test_id("batch-preview")).to_contain_text("240")
    page.get_by_test_id("batch-confirm").click()

    expect(page.locator("h1")).to_contain_text("Adopt 240 rules")
    expect(page.get_by_test_id("batch-progress")).to_be_visible()
    page.reload()  # the progress is the items' states: a reload shows it again, and it carries on
    expect(page.get_by_test_id("batch-progress-count")).to_have_text("240 of 240 done (100%)", timeout=60_000)
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "applied", timeout=30_000)
    expect(page.get_by_test_id("batch-summary")).to_contain_text("240 applied, 0 failed, 0 skipped")
    change = ChangeRequest.objects.get()
    assert change.state == S.APPLIED
    adopted = Rule.objects.filter(name__startswith="legacy-")
    assert set(adopted.values_list("version", "sync_status")) == {(1, SyncStatus.IN_SYNC)}
    assert set(Rule.objects.filter(name__startswith="other-").values_list("sync_status", flat=True)) == {
        SyncStatus.UNMANAGED}


def test_adopt_it_instead_from_the_create_flow(page, sign_in, users, environment, celery_worker):
    unmanaged(environment, ["hand-made"])
    sign_in("operator", PASSWORD)
    page.goto("/rules/")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_role("heading", name="Define rule detail")).to_be_visible()
    page.get_by_role("textbox", name="Name").fill("hand-made")
    page.get_by_role("radio", name="Rule with an event pattern").check()
    page.get_by_role("button", name="Next", exact=True).click()

    expect(page.get_by_text(re.compile("A rule named hand-made already exists on bus default in AWS "
                                       r"\(not managed here\)"))).to_be_visible()
    page.get_by_role("link", name="Adopt it instead").click()
    expect(page.get_by_role("heading", name="Adopt rules")).to_be_visible()
    page.get_by_test_id("batch-confirm").click()
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "applied", timeout=30_000)
    expect(page.locator("h1")).to_contain_text("Adopt default/hand-made")
    rule = Rule.objects.get(name="hand-made")
    assert (rule.version, rule.sync_status) == (1, SyncStatus.IN_SYNC)
    assert rule.desired_spec["Rule"]["Name"] == "hand-made"
