"""Hostile input over every form and JSON field of every page: no response is ever a 500.

Every URL of the console is listed below (a test fails when a new one is not), with the role that
may use it and where its fields come from: the form fields in the HTML of the page that posts to
it. Hypothesis mixes, per field, a value the page offers (so the deep paths are reached: JSON
editor, own sample event, input transformer, universal target…) with hostile ones: JSON nested
thousands deep, escaped and raw surrogates, NUL, huge numbers and strings, invalid UTF-8, numbers
as text, missing, extra and duplicated fields, and ids that do not exist. It runs with the real
database, the Django test client and the moto server, derandomized so every CI run is the same.
"""
from __future__ import annotations

import json
from datetime import timedelta
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies as st

from changes import services
from rules.models import Rule
from schedules.models import Schedule
from dead_letters.models import DeadLetterQueue
from tail.models import TailSession, TailState
from tests.rules import flow as rule_flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing"
RULE_SPEC = {"Rule": {"Name": "fuzz-rule", "EventBusName": "default", "State": "ENABLED",
                      "EventPattern": '{"source":["x"]}'},
             "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}], "Tags": []}
SCHEDULE_SPEC = {"Name": "fuzz-schedule", "GroupName": "default", "ScheduleExpression": "rate(5 minutes)",
                 "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
                 "Target": {"Arn": LAMBDA, "RoleArn": "arn:aws:iam::123456789012:role/any"}}

# ---------------------------------------------------------------------------------------------
# Hostile values
# ---------------------------------------------------------------------------------------------
FIXED = [
    "[" * 10_000 + "]" * 10_000, '{"a":' * 5000 + "1" + "}" * 5000, "[" * 1000 + "]" * 1000, "[" * 101 + "]" * 101,
    '{"source": ["\\ud800"]}', '{"source": ["\\udfff"], "detail": {"\\ud800": [1]}}', '"\\ud800"',
    '{"source": ["a\\u0000"]}', '{"\\u0000": ["x"]}', "\x00", "a\x00b", "\ud800", "x\udfffy",
    "NaN", "[Infinity]", '{"n": [1e999]}', "9" * 5000, '{"n": [' + "9" * 5000 + "]}", "-0", "1e-400",
    "", " ", "{", "[1,", "null", "true", "{}", "[]", '""', "0", "-1", "2147483648", "9223372036854775808",
    "99999999999999999999999999", "1.5", "abc", "2026-13-45", "2026/02/30", "25:61", "../../etc/passwd",
    "<script>alert(1)</script>", "%00", "%ff", "a" * 70_000, "é" * 3000, "\u202e\u200b", "🎉" * 100,
    '{"source": ["x"]}', '{"source": [{"prefix": ""}]}', '{"detail": {"n": [{"numeric": [">", "x"]}]}}',
    '{"a": "$.detail", "b": "$..x"}', '"<aws.events.event.json>"', "<aws.scheduler.scheduled-time>",
    "cron(0 0 * * ? *)", "rate(0 minutes)", "at(2026-02-30T00:00:00)", "arn:aws:lambda:us-east-1:1:function:x",
    "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "step:review", "switch:form", "switch:json", "refresh",
    "back", "save", "next",
]
CHARACTERS = st.characters(exclude_categories=())  # surrogates and control characters included
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(CHARACTERS, max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARACTERS, max_size=5), inner, max_size=3),
    max_leaves=12)
HOSTILE = st.one_of(
    st.sampled_from(FIXED),
    st.text(CHARACTERS, max_size=40),
    JSON_VALUES.map(json.dumps),  # json.dumps writes NaN/Infinity and escapes surrogates as \udxxx
    st.integers().map(str),
    st.integers(min_value=1, max_value=400).map(lambda n: "[" * n + "]" * n),
)


# ---------------------------------------------------------------------------------------------
# Fields of a page, read from its HTML
# ---------------------------------------------------------------------------------------------
class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            self.fields.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            self.fields[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.setdefault(name, [])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea].append(data.strip())


def page_fields(client: Client, url: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code != 500, (url, response.status_code)  # /healthz is 503 without a beat
    parser = _Fields()
    parser.feed(response.content.decode())
    parser.fields.pop("csrfmiddlewaretoken", None)
    return {name: [v for v in values if "__prefix__" not in v] or [""] for name, values in parser.fields.items()}


# ---------------------------------------------------------------------------------------------
# The world each endpoint is fuzzed in
# ---------------------------------------------------------------------------------------------
@dataclass
class World:
    clients: dict[str, Client]
    environment: object
    rule_draft: object
    schedule_draft: object
    spare_draft: object
    rule: object
    schedule: object
    change: object
    extra: dict = field(default_factory=dict)


@pytest.fixture
def world(users, environment, production) -> World:
    clients = {}
    for name in ("operator", "reviewer", "viewer", "admin"):
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(users[name])
    clients["anonymous"] = Client(raise_request_exception=False)
    operator = users["operator"]

    def draft(kind):
        return services.change_request_draft_create(kind=kind, action="create", environment=environment,
                                                    author=operator, spec={})
    rule_draft, schedule_draft, spare = draft("rule"), draft("schedule"), draft("rule")
    # a saved first step, to check that hostile input to another step never loses it
    rule_flow.post(clients["operator"], rule_draft.pk, "detail", rule_flow.detail(environment, name="fuzz"), go="save")
    rule_draft.refresh_from_db()
    rule = Rule.objects.create(environment=environment, name="fuzz-rule", desired_spec=RULE_SPEC, version=1)
    schedule = Schedule.objects.create(environment=environment, name="fuzz-schedule", desired_spec=SCHEDULE_SPEC,
                                       version=1)
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=operator, spec={**RULE_SPEC, "Rule": {
                                                      **RULE_SPEC["Rule"], "Name": "prod-rule"}})
    services.change_request_submit(change, actor=operator)
    tail = TailSession.objects.create(environment=environment, pattern='{"source": [{"prefix": ""}]}', created_by=operator,
                                      name="eventconsole-tail-fuzz", state=TailState.OPEN,
                                      expires_at=timezone.now() + timedelta(minutes=15))
    dlq = DeadLetterQueue.objects.create(environment=environment, rule=rule, target_id="fuzz-target",
                                         queue_arn="arn:aws:sqs:us-east-1:123456789012:fuzz-dlq")
    return World(clients, environment, rule_draft, schedule_draft, spare, rule, schedule, change,
                 extra={"tail": tail, "dlq": dlq})


@dataclass(frozen=True)
class Endpoint:
    user: str
    args: Callable[[World], list] = lambda w: []
    method: str = "POST"
    fields_from: Callable[[World], str] | None = None  # the page whose form posts here (GET: itself)
    arg_slugs: tuple[str, ...] = ()  # values a slug argument may take (beside hostile ones)
    examples: int = 8
    keeps_draft: bool = False  # posting here must never lose the draft's other saved steps


def _step(app, which, step):
    return lambda w: reverse(f"{app}:draft_step", args=[getattr(w, which).pk, step])


def _url(name, *args):
    return lambda w: reverse(name, args=[a(w) if callable(a) else a for a in args])


def _pk(which):
    return lambda w: getattr(w, which).pk


RULE_STEPS = ("detail", "pattern", "targets", "tags", "review", "schedule")
SCHEDULE_STEPS = ("detail", "target", "settings", "review")
ENDPOINTS: dict[str, Endpoint] = {
    "login": Endpoint("anonymous", fields_from=_url("login")),
    "logout": Endpoint("viewer"),
    "healthz": Endpoint("anonymous", method="GET"),
    "favicon": Endpoint("anonymous", method="GET"),
    "dashboard:dashboard": Endpoint("viewer", method="GET"),
    "core:health": Endpoint("viewer", method="GET"),
    "environments:environment_list": Endpoint("viewer", method="GET"),
    "environments:environment_add": Endpoint("admin", fields_from=_url("environments:environment_add")),
    "environments:environment_detail": Endpoint("viewer", lambda w: [w.environment.pk], method="GET"),
    "environments:environment_edit": Endpoint("admin", lambda w: [w.environment.pk],
                                              fields_from=lambda w: reverse("environments:environment_edit",
                                                                            args=[w.environment.pk])),
    "environments:environment_delete": Endpoint("admin", lambda w: [w.environment.pk], examples=3),
    "environments:environment_test": Endpoint("operator", lambda w: [w.environment.pk], examples=3),
    "inventory:discovery_panel": Endpoint("viewer", lambda w: [w.environment.pk], method="GET"),
    "inventory:discovery_start": Endpoint("operator", lambda w: [w.environment.pk], examples=3),
    "rules:rule_list": Endpoint("viewer", method="GET"),
    "rules:rule_add": Endpoint("operator", fields_from=_url("rules:rule_list"), examples=4),
    "rules:sandbox": Endpoint("viewer", fields_from=_url("rules:sandbox"), examples=15),
    "rules:event_match": Endpoint("viewer", fields_from=_url("rules:event_match"), examples=15),
    "rules:rule_detail": Endpoint("viewer", lambda w: [w.rule.pk], method="GET"),
    "rules:rule_delete": Endpoint("operator", lambda w: [w.rule.pk], examples=3),
    "rules:rule_action": Endpoint("operator", lambda w: [w.rule.pk, "edit"],
                                  arg_slugs=("edit", "clone", "enable", "disable", "delete"), examples=6),
    "rules:rule_batch": Endpoint("operator", lambda w: ["adopt"], arg_slugs=("adopt", "release", "reapply", "accept"),
                                 fields_from=lambda w: reverse("rules:rule_batch", args=["release"])
                                 + f"?scope=all&pk={w.rule.pk}", examples=8),
    "rules:draft_discard": Endpoint("operator", lambda w: [w.spare_draft.pk], examples=3),
    "rules:pattern_preview": Endpoint("operator", lambda w: [w.rule_draft.pk],
                                      fields_from=_step("rules", "rule_draft", "pattern"), examples=15),
    "rules:pattern_test": Endpoint("operator", lambda w: [w.rule_draft.pk],
                                   fields_from=_step("rules", "rule_draft", "pattern"), examples=15),
    "rules:schedule_preview": Endpoint("operator", lambda w: [w.rule_draft.pk], examples=5),
    "rules:target_preview": Endpoint("operator", lambda w: [w.rule_draft.pk, "0"], arg_slugs=("0", "1", "__prefix__"),
                                     fields_from=_step("rules", "rule_draft", "targets"), examples=15),
    "rules:draft_step": Endpoint("operator", lambda w: [w.rule_draft.pk, "pattern"], arg_slugs=RULE_STEPS,
                                 fields_from=_step("rules", "rule_draft", "pattern"), examples=12, keeps_draft=True),
    "schedules:schedule_list": Endpoint("viewer", method="GET"),
    "schedules:schedule_add": Endpoint("operator", fields_from=_url("schedules:schedule_list"), examples=4),
    "schedules:upcoming": Endpoint("viewer", method="GET"),
    "schedules:schedule_detail": Endpoint("viewer", lambda w: [w.schedule.pk], method="GET"),
    "schedules:schedule_delete": Endpoint("operator", lambda w: [w.schedule.pk], examples=3),
    "schedules:schedule_action": Endpoint("operator", lambda w: [w.schedule.pk, "clone"],
                                          arg_slugs=("edit", "clone", "enable", "disable", "delete"), examples=6),
    "schedules:schedule_batch": Endpoint("operator", lambda w: ["release"],
                                         arg_slugs=("adopt", "release", "reapply", "accept"),
                                         fields_from=lambda w: reverse("schedules:schedule_batch", args=["release"])
                                         + f"?pk={w.schedule.pk}", examples=8),
    "schedules:draft_discard": Endpoint("operator", lambda w: [w.schedule_draft.pk], examples=3),
    "schedules:schedule_preview": Endpoint("operator", lambda w: [w.schedule_draft.pk],
                                           fields_from=_step("schedules", "schedule_draft", "detail"), examples=12),
    "schedules:draft_step": Endpoint("operator", lambda w: [w.schedule_draft.pk, "target"], arg_slugs=SCHEDULE_STEPS,
                                     fields_from=_step("schedules", "schedule_draft", "target"), examples=12),
    "changes:review_list": Endpoint("reviewer", method="GET"),
    "changes:change_detail": Endpoint("reviewer", lambda w: [w.change.pk], method="GET"),
    "changes:change_progress": Endpoint("reviewer", lambda w: [w.change.pk], method="GET"),
    "changes:change_action": Endpoint("reviewer", lambda w: [w.change.pk, "comment"],
                                      arg_slugs=("approve", "reject", "comment", "withdraw", "submit", "retry",
                                                 "redraft", "restore"),
                                      fields_from=lambda w: reverse("changes:change_detail", args=[w.change.pk])),
    "inventory:search": Endpoint("viewer", method="GET", examples=15),
    "audit:event_list": Endpoint("viewer", method="GET", examples=12),
    "audit:event_detail": Endpoint("viewer", lambda w: [1], method="GET"),
    "audit:object_history": Endpoint("viewer", lambda w: ["rule", w.rule.pk], method="GET",
                                     arg_slugs=("rule", "schedule", "change", "environment", "user")),
    "tail:tail_list": Endpoint("operator", method="GET"),
    "tail:tail_start": Endpoint("operator", fields_from=_url("tail:tail_list"), examples=8),
    "tail:send_test_event": Endpoint("operator", fields_from=lambda w: reverse("tail:send_test_event")
                                     + f"?rule={w.rule.pk}", examples=15),
    "tail:tail_detail": Endpoint("operator", lambda w: [w.extra["tail"].pk], method="GET"),
    "tail:tail_events": Endpoint("operator", lambda w: [w.extra["tail"].pk], examples=4),
    "tail:tail_stop": Endpoint("operator", lambda w: [w.extra["tail"].pk], examples=4),
    "schedules:schedule_run": Endpoint("operator", lambda w: [w.schedule.pk],
                                       fields_from=lambda w: reverse("schedules:schedule_run", args=[w.schedule.pk]),
                                       examples=6),
    "dead_letters:panel": Endpoint("viewer", lambda w: ["rule", w.rule.pk], method="GET", arg_slugs=("rule", "schedule")),
    "dead_letters:refresh": Endpoint("viewer", lambda w: ["rule", w.rule.pk], arg_slugs=("rule", "schedule"),
                                     examples=3),
    "dead_letters:peek": Endpoint("viewer", lambda w: [w.extra["dlq"].pk], method="GET"),
    "dead_letters:redrive": Endpoint("operator", lambda w: [w.extra["dlq"].pk], examples=3),
    "metrics:refresh": Endpoint("viewer", lambda w: [w.environment.pk], examples=3),
    "metrics:schedule_group": Endpoint("viewer", lambda w: [w.environment.pk, "default"], method="GET"),
}
# Not fuzzed here, with the reason.
NOT_FUZZED = {
    "admin": "Django's own admin site (namespace admin:), reached by Admins only; its forms are Django's",
}
OFFERED_QUERY = {"format": ["", "csv", "jsonl"], "show": ["open", "all"], "mine": ["1"], "production": ["1"],
                 "page": ["1", "2"], "per_page": ["10", "100"]}
GENERIC_QUERY = ("page", "per_page", "sort", "q", "environment", "status", "format", "export", "show", "mine",
                 "production", "zone", "group", "after", "before", "action", "actor", "object_type", "next")


def _names(patterns, prefix="") -> set[str]:
    found = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found |= _names(entry.url_patterns, prefix + (entry.namespace + ":" if entry.namespace else ""))
        elif isinstance(entry, URLPattern) and entry.name:
            found.add(prefix + entry.name)
    return found


def test_every_url_of_the_console_is_fuzzed():
    names = {n for n in _names(get_resolver().url_patterns) if n.split(":")[0] not in NOT_FUZZED}
    missing = sorted(names - set(ENDPOINTS))
    assert not missing, f"add these URLs to ENDPOINTS in {__name__} (role, fields): {missing}"
    assert not sorted(set(ENDPOINTS) - names), "ENDPOINTS names a URL that no longer exists"


# ---------------------------------------------------------------------------------------------
# The fuzzer
# ---------------------------------------------------------------------------------------------
def _encode(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass")


@st.composite
def _request(draw, fields: dict[str, list[str]], slugs: tuple[str, ...], n_args: int):
    pairs: list[tuple[str, str]] = []
    for name, offered in fields.items():
        how = draw(st.sampled_from(("offered", "offered", "hostile", "missing", "twice")))
        if how == "missing":
            continue
        value = draw(st.sampled_from(offered)) if how != "hostile" else draw(HOSTILE)
        pairs.append((name, value))
        if how == "twice":
            pairs.append((name, draw(HOSTILE)))
    for _ in range(draw(st.integers(0, 2))):  # fields the form does not know
        pairs.append((draw(st.sampled_from(sorted(fields) or ["x"]) | st.text(CHARACTERS, max_size=10)),
                      draw(HOSTILE)))
    slug = draw(st.sampled_from(slugs) | HOSTILE.filter(lambda s: s and "/" not in s and len(s) < 100)) \
        if slugs else None
    broken_id = draw(st.sampled_from((None, None, None, 0, 999_999, 2**31, 10**30))) if n_args else None
    htmx = draw(st.booleans())  # the same URL asked for its htmx partial
    return pairs, slug, broken_id, htmx


def _build_url(name: str, endpoint: Endpoint, world: World, slug, broken_id) -> str:
    args = endpoint.args(world)
    if slug is not None and args:
        args[-1] = slug
    if broken_id is not None and args and isinstance(args[0], int):
        args[0] = broken_id
    try:
        return reverse(name, args=args)
    except Exception:  # a slug the URL conf does not take: the unreachable URL gives its own 404
        from urllib.parse import quote

        return reverse(name, args=endpoint.args(world)).rstrip("/").rsplit("/", 1)[0] + "/" + quote(
            str(slug), safe="", errors="surrogatepass") + "/"


# Endpoints that destroy part of the world run last, so the others see it whole.
DESTRUCTIVE = ("rules:draft_discard", "schedules:draft_discard", "rules:rule_delete", "schedules:schedule_delete",
               "rules:rule_action", "schedules:schedule_action", "changes:change_action", "logout",
               "environments:environment_delete", "tail:tail_stop")


def test_no_hostile_input_gives_a_500(world):
    """One world for every endpoint (its set-up is most of the cost); each endpoint gets its own run."""
    failures: list[str] = []
    for name in sorted(set(ENDPOINTS) - set(DESTRUCTIVE)) + list(DESTRUCTIVE):
        failures += _fuzz(world, name)
    assert not failures, "\n".join(failures)


def _fuzz(world: World, name: str) -> list[str]:
    endpoint = ENDPOINTS[name]
    client = world.clients[endpoint.user]
    url = reverse(name, args=endpoint.args(world))
    if endpoint.method == "GET":
        fields = page_fields(client, url)
        fields.update({k: OFFERED_QUERY.get(k, [""]) for k in GENERIC_QUERY if k not in fields})
    else:
        fields = page_fields(client, endpoint.fields_from(world)) if endpoint.fields_from else {}
        fields.setdefault("_go", ["next", "save", "back", "refresh", "switch:form", "switch:json", "step:review"])
    world.rule_draft.refresh_from_db()
    saved = {"detail": world.rule_draft.wizard.get("detail")}
    failures: list[str] = []

    @settings(max_examples=endpoint.examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(request=_request(fields, endpoint.arg_slugs, len(endpoint.args(world))))
    def fuzz(request):
        pairs, slug, broken_id, htmx = request
        target = _build_url(name, endpoint, world, slug, broken_id)
        headers = {"HX-Request": "true"} if htmx else {}
        if endpoint.method == "GET":
            response = client.get(target + "?" + _encode(pairs), headers=headers)
        else:
            response = client.post(target, _encode(pairs), content_type="application/x-www-form-urlencoded",
                                   headers=headers)
        if response.status_code >= 500 and not (name == "healthz" and response.status_code == 503):
            failures.append(f"{name}: {endpoint.method} {target} {pairs!r:.2000} -> {response.status_code}")
        assert not failures, failures[-1]
        if endpoint.keeps_draft:
            world.rule_draft.refresh_from_db()
            if slug == "detail" and broken_id is None:  # that step itself keeps what was typed, as typed
                saved["detail"] = world.rule_draft.wizard.get("detail")
            assert world.rule_draft.wizard.get("detail") == saved["detail"], "the saved detail step was lost"

    try:
        fuzz()
    except AssertionError as exc:
        return failures or [f"{name}: {exc}"]
    return failures


def test_wrong_methods_and_absurd_urls_are_4xx(world):
    """Every URL with the other method, and ids far past any database's range: never a 500."""
    for name, endpoint in ENDPOINTS.items():
        client = world.clients[endpoint.user]
        url = reverse(name, args=endpoint.args(world))
        response = client.get(url) if endpoint.method == "POST" else client.post(url, {})
        assert response.status_code != 500, (name, response.status_code)
        for method in ("put", "patch", "delete", "options"):
            assert getattr(client, method)(url).status_code != 500, (name, method)
    client = world.clients["viewer"]
    for url in ("/rules/" + "9" * 5000 + "/", "/schedules/" + "9" * 30 + "/", "/reviews/" + "1" * 400 + "/",
                "/audit/history/rule/" + "9" * 100 + "/", "/rules/" + "x" * 20_000 + "/", "/%ff%fe/",
                "/rules/?page=" + "9" * 5000):
        assert client.get(url).status_code in (200, 302, 400, 404), url
