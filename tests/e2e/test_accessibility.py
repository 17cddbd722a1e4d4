"""Every page a person reaches, checked with axe-core in a real browser: no "serious" or "critical" violation.

The worked examples are present (rule 1 and schedule 2 applied in Sandbox, the rule then disabled in AWS so
its page shows drift, rule 1 waiting for review in Production, drafts standing at every step of both flows), so the pages show what people really see: tables
with rows, badges, diffs, plans, forms with values. axe-core is vendored under tests/support/axe/ (test
tooling; the console never serves it) and injected through the DevTools protocol (`page.evaluate`), which
the page's Content-Security-Policy does not govern, so the pages are audited under their real policy.
"""
import json
from pathlib import Path

import pytest

from audit.models import AuditEvent
from changes import services
from changes.choices import ChangeAction, SyncStatus
from changes.models import ChangeRequest
from changes.polling import objects_poll
from environments import aws
from environments.demo import demo_resources_seed
from rules.models import Rule
from schedules.invocations import schedule_run_now
from schedules.models import Schedule
from tests.conftest import PASSWORD
from tests.e2e.rule_steps import NAME as RULE_NAME
from tests.rules import flow as rule_flow
from tests.rules.test_apply import worked_example_spec
from tests.schedules import flow as schedule_flow

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "support" / "axe" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# WCAG 2.x A and AA rules plus axe's best practices (landmarks, one main, heading order, …).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]},
               "resultTypes": ["violations"]}
BATCH_SERVER = "i-0123456789abcdef0"


# Every optional part of a page shown: <details> opened, the parts a radio or select reveals (data-show-if)
# unhidden. axe skips what is hidden, and a person reaches each of these parts by a click.
REVEAL = """() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  document.querySelectorAll("[data-show-if].d-none").forEach(e => e.classList.remove("d-none"));
}"""


def axe_violations(page) -> list[str]:
    """The page's serious and critical axe violations, with every optional part shown: one line for each rule
    broken (id, impact, help), then one for each element (its selector and what axe says of it)."""
    page.evaluate(REVEAL)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("options => window.axe.run(document, options)", AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(f"        {node_line(n)}" for n in v["nodes"][:8])
            for v in results["violations"] if v["impact"] in BLOCKING]


def node_line(node: dict) -> str:
    """One offending element: its selector and what axe says of it (e.g. the two colours and their ratio)."""
    says = next((check["message"] for check in node.get("any", []) + node.get("all", []) if check.get("message")), "")
    return f"{' '.join(node['target'])}: {says}"


# Badges carry words: a state is never told by its colour alone.
WORDLESS_BADGES = """() => [...document.querySelectorAll(".badge")]
  .filter(b => !b.textContent.trim() && !b.getAttribute("aria-label")).map(b => b.outerHTML)"""


def check(page, where: str, found: dict[str, list[str]]) -> None:
    """Let the page's htmx fragments load, then record what axe finds there and any badge without words."""
    page.wait_for_load_state("networkidle", timeout=30_000)
    problems = axe_violations(page)
    problems += [f"a badge without words: {html}" for html in page.evaluate(WORDLESS_BADGES)]
    if problems:
        found[where] = problems


def audit(page, path: str, found: dict[str, list[str]]) -> None:
    """Open `path` and check it."""
    assert page.goto(path) is not None
    check(page, path, found)


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}\n" + "\n".join(f"    {line}" for line in lines) for path, lines in found.items())


@pytest.fixture
def worked_examples(users, environment, production, demo_resources, client_for, apply_inline):
    """The objects of both worked examples, a change waiting for review, and drafts at every flow step (and in
    the steps' other modes: a scheduled rule, a pattern in the JSON editor, a schedule with a Lambda target)."""
    admin = client_for("admin")

    # Worked example 1 through the flow, applied in Sandbox (no approval needed).
    rule_draft = rule_flow.start(admin, environment)
    rule_flow.post(admin, rule_draft, "detail", rule_flow.detail(environment))
    rule_flow.post(admin, rule_draft, "pattern", rule_flow.worked_example_pattern_form())
    rule_flow.post(admin, rule_draft, "targets", rule_flow.targets(
        rule_flow.target(0, demo_resources["lambda"]), rule_flow.target(1, demo_resources["topic"], kind="sns")))
    rule_flow.post(admin, rule_draft, "tags", rule_flow.tags(team="data"))
    admin.post(rule_flow.step_url(rule_draft, "review"), {"_go": "submit"})

    # Worked example 2, applied in Sandbox.
    schedule_draft = schedule_flow.create(
        admin, environment, detail_data=schedule_flow.detail(environment),
        target_data=schedule_flow.universal(input_text=json.dumps({"InstanceIds": [BATCH_SERVER]})),
        settings_data=schedule_flow.settings(schedule_flow.role_arn(), retry=False))

    # Worked example 1 in Production, submitted by the operator: waiting for a review the admin may give.
    demo_resources_seed(production)
    lambda_arn = demo_resources["lambda"].replace("us-east-1", production.region)
    topic_arn = demo_resources["topic"].replace("us-east-1", production.region)
    waiting = services.change_request_draft_create(
        kind="rule", action=ChangeAction.CREATE, environment=production, author=users["operator"],
        spec=worked_example_spec({"lambda": lambda_arn, "topic": topic_arn}))
    services.change_request_submit(waiting, actor=users["operator"])

    # Drafts: a pattern rule at every step, a scheduled rule, a schedule at every step.
    open_rule = rule_flow.start(admin, environment)
    rule_flow.post(admin, open_rule, "detail", rule_flow.detail(environment, name="draft-rule"))
    rule_flow.post(admin, open_rule, "pattern", rule_flow.worked_example_pattern_form())
    rule_flow.post(admin, open_rule, "targets", rule_flow.targets(rule_flow.target(0, demo_resources["lambda"])))
    rule_flow.post(admin, open_rule, "tags", rule_flow.tags())
    timed_rule = rule_flow.start(admin, environment)
    rule_flow.post(admin, timed_rule, "detail", rule_flow.detail(environment, name="timed-rule", rule_type="schedule"))
    json_rule = rule_flow.start(admin, environment)  # the pattern typed in the JSON editor, with a mistake
    rule_flow.post(admin, json_rule, "detail", rule_flow.detail(environment, name="json-rule"))
    rule_flow.post(admin, json_rule, "pattern", {**rule_flow.worked_example_pattern_form(),
                                                 "pattern-creation_method": "json", "pattern-pattern_json": "{oops"})
    lambda_schedule = schedule_flow.start(admin, environment)  # a templated target (Lambda) instead of All APIs
    schedule_flow.post(admin, lambda_schedule, "detail", schedule_flow.detail(environment, name="lambda-schedule"))
    schedule_flow.post(admin, lambda_schedule, "target", schedule_flow.templated("lambda", demo_resources["lambda"]))
    open_schedule = schedule_flow.start(admin, environment)
    schedule_flow.post(admin, open_schedule, "detail", schedule_flow.detail(environment, name="draft-schedule"))
    schedule_flow.post(admin, open_schedule, "target", schedule_flow.universal(
        input_text=json.dumps({"InstanceIds": [BATCH_SERVER]})))
    schedule_flow.post(admin, open_schedule, "settings", schedule_flow.settings(schedule_flow.role_arn()))

    applied_rule = ChangeRequest.objects.get(pk=rule_draft)
    applied_schedule = ChangeRequest.objects.get(pk=schedule_draft)
    assert applied_rule.rule_id and applied_schedule.schedule_id, (applied_rule.last_error,
                                                                   applied_schedule.last_error)
    # Someone disables the rule in AWS: its page shows the drift (the schedule's stays in sync).
    aws.client(environment, "events").disable_rule(Name=RULE_NAME)
    objects_poll(environment, "rule")
    assert Rule.objects.get(pk=applied_rule.rule_id).sync_status == SyncStatus.DRIFTED
    # Run now on the schedule (its instance id is not the batch server's, so the run fails, in words): its page
    # shows the Runs table.
    schedule_run_now(Schedule.objects.get(pk=applied_schedule.schedule_id), actor=users["admin"])
    return {"rule": applied_rule.rule_id, "schedule": applied_schedule.schedule_id, "applied": rule_draft,
            "waiting": waiting.pk, "open_rule": open_rule, "timed_rule": timed_rule, "json_rule": json_rule,
            "open_schedule": open_schedule, "lambda_schedule": lambda_schedule, "environment": environment.pk,
            "event": AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()}


def pages_of(w: dict, group: str) -> list[str]:
    """Every page a signed-in person reaches, with the worked examples' objects in it (not Django's own admin
    site, which Admins alone use to manage users), in groups audited side by side."""
    rule, schedule, env = w["rule"], w["schedule"], w["environment"]
    return {
        # rules: list, detail (every tab), delete confirmation, every step of the flow, sandbox pages
        "rules": ["/rules/", "/rules/?q=process", f"/rules/{rule}/", f"/rules/{rule}/?tab=monitoring",
                  f"/rules/{rule}/?tab=history", f"/rules/{rule}/delete/",
                  *(f"/rules/drafts/{w['open_rule']}/{step}/" for step in ("detail", "pattern", "targets", "tags",
                                                                           "review")),
                  f"/rules/drafts/{w['timed_rule']}/schedule/", f"/rules/drafts/{w['json_rule']}/pattern/",
                  "/rules/sandbox/", "/rules/match/"],
        # schedules: list, detail, delete confirmation, every step of the flow, upcoming runs
        "schedules": ["/schedules/", f"/schedules/{schedule}/", f"/schedules/{schedule}/?tab=monitoring",
                      f"/schedules/{schedule}/?tab=history", f"/schedules/{schedule}/delete/",
                      *(f"/schedules/drafts/{w['open_schedule']}/{step}/" for step in ("detail", "target", "settings",
                                                                                       "review")),
                      f"/schedules/drafts/{w['lambda_schedule']}/target/", "/schedules/upcoming/"],
        "the rest": [
            "/", "/health/",
            # change requests: the list, an applied change, a change waiting for review
            "/reviews/", "/reviews/?mine=1", f"/reviews/{w['applied']}/", f"/reviews/{w['waiting']}/",
            # audit: list, one event, one object's history
            "/audit/", f"/audit/{w['event']}/", f"/audit/history/rule/{rule}/", f"/audit/history/schedule/{schedule}/",
            # environments: list, detail (with its discovery panel), forms
            "/environments/", f"/environments/{env}/", "/environments/add/", f"/environments/{env}/edit/",
            f"/environments/{env}/delete/",
            # inventory search, empty and with results
            "/inventory/", "/inventory/?q=batch",
            # refusals
            "/admin/login/", "/rules/999999/",
        ],
        # did it fire? send a test event (from a rule and from the Sandbox), listen to events
        "monitoring": [f"/listen/send/?rule={rule}", "/listen/send/", "/listen/", f"/schedules/{schedule}/run/"],
        # what the other roles see differently: their dashboard, the actions an object and a change offer them
        "roles": ["/", f"/rules/{rule}/", f"/schedules/{schedule}/", "/reviews/?waiting=true", f"/reviews/{w['waiting']}/"],
    }[group]


# What the element that has the keyboard focus looks like: an outline or a focus ring (a box shadow). When the
# focus is inside the browser's own part of a control (a date input's calendar button), the element itself no
# longer matches :focus and the browser draws that part's focus itself.
FOCUS_STYLE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const ringed = style.boxShadow && style.boxShadow !== "none";
  const browsers = !el.matches(":focus");
  const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "").trim().slice(0, 40);
  return {what: el.tagName.toLowerCase() + (el.type ? "[" + el.type + "]" : "") + " " + name,
          visible: outlined || ringed || browsers, body: el === document.body};
}"""
TABS = 80  # enough to walk a whole page: the navigation bar, the filters, the table, the form


def unmarked_focus(page) -> list[str]:
    """Tab through the page from its start; the elements that take the focus without showing it."""
    unmarked = []
    for _ in range(TABS):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)
        if focus["body"]:
            break
        if not focus["visible"]:
            unmarked.append(focus["what"])
    return unmarked


def test_focus_is_visible_on_everything_the_keyboard_reaches(page, sign_in, users, environment, client_for):
    draft = rule_flow.start(client_for("admin"), environment)
    sign_in("admin", PASSWORD)
    page.emulate_media(reduced_motion="reduce")  # focus rings appear at once, not through a transition
    found = {}
    for path in ("/rules/", f"/rules/drafts/{draft}/detail/", f"/rules/drafts/{draft}/pattern/", "/reviews/",
                 "/audit/"):
        page.goto(path)
        page.wait_for_load_state("networkidle", timeout=30_000)
        if unmarked := unmarked_focus(page):
            found[path] = unmarked
    assert not found, found


def test_sign_in_page_has_no_serious_violation(page, live_server, users):
    found: dict[str, list[str]] = {}
    audit(page, "/accounts/login/", found)
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    check(page, "sign-in page after a wrong password", found)
    assert not found, report(found)


@pytest.mark.parametrize("group", ["rules", "schedules", "the rest", "monitoring"])
def test_every_page_has_no_serious_violation(page, sign_in, worked_examples, group):
    sign_in("admin", PASSWORD)
    found: dict[str, list[str]] = {}
    for path in pages_of(worked_examples, group):
        audit(page, path, found)

    if group == "rules":
        # Pages after a person's actions: a step's errors at the field, the sandbox's and the matcher's results.
        page.goto(f"/rules/drafts/{worked_examples['timed_rule']}/detail/")
        page.get_by_role("textbox", name="Name").fill("")
        page.get_by_role("button", name="Next", exact=True).click()
        check(page, "rule detail step with an error at the field", found)
        page.goto("/rules/sandbox/")
        page.get_by_role("button", name="Test pattern").click()
        check(page, "Sandbox with its result", found)
        page.goto("/rules/match/")
        page.get_by_role("button", name="Find matching rules").click()
        check(page, "Which rules match? with its result", found)

    assert not found, report(found)


def test_each_role_sees_pages_with_no_serious_violation(browser, live_server, worked_examples):
    """The reviewer (an approval form), the operator (the objects' actions) and the viewer (nothing to act on)
    see other parts of the same pages than the admin."""
    found: dict[str, list[str]] = {}
    for role in ("reviewer", "operator", "viewer"):
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(role)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        for path in pages_of(worked_examples, "roles"):
            assert page.goto(path) is not None
            check(page, f"{path} as {role}", found)
        context.close()
    assert not found, report(found)
