"""In a real browser, under the Content-Security-Policy: the main pages load with no violation, and the
behaviour that used to be inline script (refresh on change, confirm, auto-submit, sample picker) still works."""
import re

import pytest
from playwright.sync_api import expect

from changes.choices import ChangeAction, ChangeKind, ChangeState
from changes.models import ChangeRequest
from changes.services import change_request_draft_create
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

# Records every violation the page reports, from the first script on (added before any page script runs).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(LISTEN)
    console = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))  # e.g. a script that broke
    page.on("response", lambda response: console.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)

    def check(where: str) -> None:
        page.wait_for_load_state("load")
        violations = page.evaluate("window.__violations || []")
        assert violations == [] and console == [], (where, violations, console)
    return check


def test_main_pages_have_no_csp_violation(page, sign_in, users, environment, watched):
    sign_in("admin", PASSWORD)
    watched("sign-in")
    admin = users["admin"]
    rule = change_request_draft_create(kind=ChangeKind.RULE, action=ChangeAction.CREATE, environment=environment,
                                       author=admin, spec={})
    schedule = change_request_draft_create(kind=ChangeKind.SCHEDULE, action=ChangeAction.CREATE,
                                           environment=environment, author=admin, spec={})
    pages = ["/", "/health/", "/rules/", "/rules/sandbox/", "/rules/match/", "/schedules/", "/schedules/upcoming/",
             "/reviews/", "/environments/", f"/environments/{environment.pk}/", "/audit/", "/admin/",
             "/admin/auth/user/", f"/rules/drafts/{rule.pk}/detail/", f"/rules/drafts/{rule.pk}/pattern/",
             f"/rules/drafts/{rule.pk}/targets/", f"/schedules/drafts/{schedule.pk}/detail/",
             f"/schedules/drafts/{schedule.pk}/target/", f"/schedules/drafts/{schedule.pk}/settings/"]
    for path in pages:
        response = page.goto(path)
        assert response.status < 400, (path, response.status)
        watched(path)

    # htmx requests run (the pattern preview loads by itself) without a violation either.
    page.goto(f"/rules/drafts/{rule.pk}/pattern/")
    page.get_by_label("Other").check()  # event source: the step refreshes (was an inline listener)
    expect(page.get_by_role("textbox", name=re.compile("Event pattern", re.I)).first).to_be_visible()
    page.get_by_role("button", name="Test pattern").click()
    expect(page.locator("#pattern-test-result")).not_to_be_empty()
    watched("pattern step after htmx")


def test_former_inline_handlers_still_work(page, sign_in, users, environment, watched):
    sign_in("operator", PASSWORD)
    draft = change_request_draft_create(kind=ChangeKind.RULE, action=ChangeAction.CREATE, environment=environment,
                                        author=users["operator"], spec={})

    # Sample picker: choosing a sample fills the event box.
    page.goto("/rules/match/")
    page.get_by_role("combobox", name="Sample event").select_option(label="S3 Object Created")
    expect(page.get_by_role("textbox", name="Event (JSON)")).to_have_value(re.compile(r'"source": "aws.s3"'))

    # data-autosubmit: ticking a filter reloads the list with it.
    page.goto("/reviews/")
    page.get_by_label("Waiting for me").check()
    page.wait_for_url(re.compile(r"waiting=true"))

    # data-confirm: dismissing the question keeps the draft, accepting it discards it.
    page.goto("/rules/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Discard").click()
    page.wait_for_load_state("load")
    assert ChangeRequest.objects.get(pk=draft.pk).state == ChangeState.DRAFT
    page.once("dialog", lambda dialog: (dialog.message == "Discard this draft?") and dialog.accept())
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("button", name="Discard")).to_have_count(0)
    assert ChangeRequest.objects.get(pk=draft.pk).state == ChangeState.WITHDRAWN

    # data-refresh-on: changing the service on the pattern form refreshes the step with its event types.
    second = change_request_draft_create(kind=ChangeKind.RULE, action=ChangeAction.CREATE, environment=environment,
                                         author=users["operator"], spec={})
    page.goto(f"/rules/drafts/{second.pk}/pattern/")
    page.get_by_role("combobox", name="AWS service").select_option(label="Simple Storage Service (S3)")
    expect(page.get_by_role("combobox", name="Event type")).to_contain_text("Amazon S3 Event Notification")
    watched("former inline handlers")
