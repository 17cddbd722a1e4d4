"""Audit pages: the global list (filters, search, keyset pages), one event, one object's history."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone as dt_timezone
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import context as audit_context
from audit import selectors
from audit.choices import AuditAction, ObjectType
from audit.models import AuditEvent
from audit.services import audit_record
from changes.models import ChangeRequest
from environments.models import Environment
from rules.models import Rule
from schedules.models import Schedule

pytestmark = pytest.mark.django_db

LIST = reverse("audit:event_list")
START = datetime(2099, 3, 1, 9, 30, tzinfo=dt_timezone.utc)
ACTIONS = [AuditAction.DRAFT_SAVED, AuditAction.SUBMITTED, AuditAction.APPROVED, AuditAction.API_CALL,
           AuditAction.APPLIED, AuditAction.DRIFT_DETECTED, AuditAction.SIGNED_IN]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """audit_record() stamps events with this clock (clock.now = … moves it), from before the users exist.

    It starts in 2099, after the events the test database already holds (migrate's role set-up is
    recorded at the real time), so times still follow ids.

    Events are numbered in the order they are recorded and their times follow (as on a real system);
    the date filters rely on that, within audit.selectors.CLOCK_SKEW.
    """
    state = SimpleNamespace(now=START)
    monkeypatch.setattr("audit.services.timezone", SimpleNamespace(now=lambda: state.now))
    return state


@pytest.fixture
def envs(db):
    return {"sandbox": Environment.objects.create(name="Sandbox", region="us-east-1",
                                                  endpoint_url="http://127.0.0.1:9"),
            "production": Environment.objects.create(name="Production", region="eu-west-1",
                                                     endpoint_url="http://127.0.0.1:9", is_production=True)}


@pytest.fixture
def history(users, envs, clock):
    """60 events over 60 days: three actors, seven actions, rules and schedules in two environments."""
    actors = [users["operator"], users["reviewer"], None]
    events = []
    for i in range(60):
        clock.now = START + timedelta(days=i)
        kind = ObjectType.RULE if i % 4 else ObjectType.SCHEDULE
        environment = envs["production"] if i % 2 else envs["sandbox"]
        actor = actors[i % 3]
        events.append(audit_record(
            action=ACTIONS[i % len(ACTIONS)], object_type=kind, object_id=100 + i % 5,
            object_repr=f"default/orders-{i % 5}" if kind == ObjectType.RULE else f"default/nightly-{i % 5}",
            actor=actor, on_behalf_of=users["reviewer"] if actor is None else None, environment=environment,
            related_type=ObjectType.CHANGE, related_id=1000 + i // 6, before={"State": "DISABLED"},
            after={"State": "ENABLED", "n": i}, message=f"step {i}" + (" needle" if i % 10 == 7 else "")))
    return events


def newest_first(events=None, keep=lambda e: True):
    """Ids of `events` (default: every event stored, the users' own creation included), newest first."""
    events = list(AuditEvent.objects.all()) if events is None else list(events)
    return [e.pk for e in sorted(events, key=lambda e: -e.pk) if keep(e)]


def walk(client: Client, url: str, *, direction: str = "older", limit: int = 500) -> tuple[list[int], list]:
    """Follow Older (or Newer) from `url` to the end; return every event id seen in order, and the pages."""
    seen, pages = [], []
    for _ in range(limit):
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        pages.append(page)
        ids = [e.pk for e in page.events]
        seen += ids if direction == "older" else ids[::-1]
        link = page.older_url if direction == "older" else page.newer_url
        if not link:
            return seen, pages
        assert f'href="{html.escape(link)}"' in response.content.decode()  # the button on the page
        url = url.split("?")[0] + link
    raise AssertionError("the walk did not end")


FILTERS = [
    ({"actor": "operator"}, lambda e: e.actor_name == "operator"),
    ({"actor": "system"}, lambda e: e.actor_id is None),
    ({"action": "change.approved"}, lambda e: e.action == "change.approved"),
    ({"object_type": "schedule"}, lambda e: e.object_type == "schedule"),
    ({"object": "orders-3"}, lambda e: "orders-3" in e.object_repr),
    ({"object_type": "rule", "object": "ORDERS-1"}, lambda e: e.object_type == "rule" and "orders-1" in e.object_repr),
    ({"environment": "production"}, lambda e: e.environment_name == "Production"),
    ({"date_from": "2099-03-10", "date_to": "2099-03-20"},
     lambda e: datetime(2099, 3, 10, tzinfo=dt_timezone.utc) <= e.time < datetime(2099, 3, 21, tzinfo=dt_timezone.utc)),
    ({"date_from": "2099-04-15"}, lambda e: e.time >= datetime(2099, 4, 15, tzinfo=dt_timezone.utc)),
    ({"date_to": "2099-03-01"}, lambda e: e.time < datetime(2099, 3, 2, tzinfo=dt_timezone.utc)),
    ({"q": "needle"}, lambda e: "needle" in e.message),
    ({"q": "REVIEWER"}, lambda e: "reviewer" in f"{e.object_repr} {e.actor_name} {e.message}".lower()),
    ({"q": "nightly-2"}, lambda e: "nightly-2" in e.object_repr),
    ({"actor": "reviewer", "action": "change.approved"},
     lambda e: e.actor_name == "reviewer" and e.action == "change.approved"),
    ({"environment": "sandbox", "date_from": "2099-03-05", "date_to": "2099-04-05"},
     lambda e: e.environment_name == "Sandbox"
     and datetime(2099, 3, 5, tzinfo=dt_timezone.utc) <= e.time < datetime(2099, 4, 6, tzinfo=dt_timezone.utc)),
]


@pytest.mark.parametrize(("params", "keep"), FILTERS, ids=[str(p) for p, _ in FILTERS])
def test_each_filter_narrows_the_list(client_for, history, envs, monkeypatch, params, keep):
    # given small pages, so every filter spans several of them
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    if "environment" in params:
        params = {**params, "environment": str(envs[params["environment"]].pk)}
    client = client_for("viewer")  # signing in is an event too
    expected = newest_first(keep=keep)
    assert expected and len(expected) < len(newest_first())
    # when
    seen, _ = walk(client, f"{LIST}?{_qs(params)}")
    # then: exactly the matching events, newest first, each once
    assert seen == expected


def _qs(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_unfiltered_list_newest_first_with_details(client_for, history):
    response = client_for("viewer").get(LIST)
    assert response.status_code == 200
    page = response.context["page"]
    assert [e.pk for e in page.events] == newest_first()[:selectors.PAGE_SIZE]
    assert page.newer_url == "" and page.older_url == f"?before={page.events[-1].pk}"
    body = response.content.decode()
    newest = history[-1]
    assert f'href="{reverse("audit:event_detail", args=[newest.pk])}"' in body
    assert f'href="{reverse("audit:object_history", args=[newest.object_type, newest.object_id])}"' in body
    assert "Newer" in body and "Older" in body and "Page " not in body


@pytest.fixture
def many(users, envs, clock):
    """130 events: enough for several pages of 50."""
    events = []
    for i in range(130):
        clock.now = START + timedelta(hours=i)
        events.append(audit_record(action=ACTIONS[i % 3], object_type=ObjectType.RULE, object_id=i % 7,
                                   object_repr=f"default/r{i % 7}", actor=users["operator"] if i % 2 else None,
                                   environment=envs["sandbox"], message="tick" if i % 9 else "needle"))
    return events


def test_keyset_pages_walk_the_whole_set_both_ways(client_for, many):
    client = client_for("reviewer")
    # Older from the newest page reaches the oldest event; no overlap, no gap.
    older, pages = walk(client, LIST)
    everything = newest_first()
    assert older == everything and len(everything) > 130
    assert [len(p.events) for p in pages] == [50, 50, len(everything) - 100]
    assert pages[0].newer_url == "" and pages[-1].older_url == ""
    # Newer from the oldest page comes back to the newest, the same events.
    newer, back = walk(client, LIST + pages[-1].newer_url, direction="newer")
    assert newer == everything[::-1][len(pages[-1].events):]  # the last page itself is not read again
    assert back[-1].newer_url == ""
    # A page in the middle links both ways; ?after= gives exactly the page before it.
    middle = client.get(LIST + pages[0].older_url).context["page"]
    again = client.get(LIST + middle.newer_url).context["page"]
    assert [e.pk for e in again.events] == [e.pk for e in pages[0].events]


def test_windowed_search_walks_every_match_without_gaps(client_for, many, monkeypatch):
    """Search cannot use an index: each page looks at most SCAN_WINDOW ids, and Older goes on from there."""
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    monkeypatch.setattr(selectors, "SCAN_WINDOW", 20)
    client = client_for("viewer")
    expected = newest_first(keep=lambda e: e.message == "needle")
    seen, pages = walk(client, f"{LIST}?q=needle")
    assert seen == expected
    assert all(p.windowed for p in pages) and any(p.window for p in pages)
    assert all(hi - lo + 1 <= 20 for lo, hi in (p.window for p in pages if p.window))
    unfilled = next(p for p in pages if p.window)  # a page that read its whole window: it says so
    body = client.get(f"{LIST}?q=needle&before={unfilled.window[1] + 1}").content.decode()
    assert f"This page looked through events #{unfilled.window[0]}–#{unfilled.window[1]}" in body
    # and back up with Newer from the oldest page
    newer, _ = walk(client, f"{LIST}{pages[-1].newer_url}", direction="newer")
    assert sorted(set(newer) | {e.pk for e in pages[-1].events}, reverse=True) == expected


def test_two_indexed_filters_also_walk_correctly_in_windows(client_for, many, monkeypatch, users):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    monkeypatch.setattr(selectors, "SCAN_WINDOW", 25)
    client = client_for("viewer")
    seen, _ = walk(client, f"{LIST}?actor=operator&action={ACTIONS[1]}")
    assert seen == newest_first(keep=lambda e: e.actor_id == users["operator"].pk and e.action == ACTIONS[1])


PAGES_SQL = [
    LIST, f"{LIST}?before=60", f"{LIST}?after=10", f"{LIST}?actor=operator&action={ACTIONS[0]}",
    f"{LIST}?environment=ENV&date_from=2099-03-02&date_to=2099-03-04", f"{LIST}?q=needle",
    f"{LIST}?object_type=rule&object=r3", "/audit/history/rule/3/", "/audit/history/rule/3/?before=100",
]


@pytest.mark.parametrize("url", PAGES_SQL)
def test_page_sql_never_counts_or_offsets(client_for, many, envs, url):
    client = client_for("viewer")
    url = url.replace("ENV", str(envs["sandbox"].pk))
    client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    audit_sql = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert audit_sql
    for sql in audit_sql:
        assert "COUNT(" not in sql.upper(), sql
        assert "OFFSET" not in sql.upper(), sql
    page_query = next(sql for sql in audit_sql if "LIMIT" in sql and "ORDER BY" in sql and '"message"' in sql)
    assert re.search(r'ORDER BY "audit_auditevent"\."id" (DESC|ASC) LIMIT (51|6|4)\b', page_query), page_query
    assert len(queries.captured_queries) <= 11, [q["sql"] for q in queries.captured_queries]


def test_a_page_of_the_list_costs_the_same_queries_however_deep(client_for, many):
    client = client_for("viewer")
    client.get(LIST)
    counts = []
    for url in (LIST, f"{LIST}?before={many[60].pk}", f"{LIST}?before={many[2].pk}"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts.append(len(queries.captured_queries))
    assert max(counts) - min(counts) <= 1, counts


def test_dates_become_id_bounds(client_for, many, envs):
    """A date range is served as an id range (the primary key), with the exact time condition kept."""
    client = client_for("viewer")
    client.get(LIST)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"{LIST}?date_from=2099-03-02&date_to=2099-03-02").context["page"]
    assert [e.pk for e in page.events] == newest_first(keep=lambda e: e.time.date().isoformat() == "2099-03-02")
    page_sql = next(q["sql"] for q in queries.captured_queries if '"message"' in q["sql"])
    assert '"audit_auditevent"."id" >=' in page_sql and '"audit_auditevent"."id" <=' in page_sql
    assert '"audit_auditevent"."time" >=' in page_sql


@pytest.mark.parametrize(("query", "words"), [
    ("before=abc", "is not an event number"),
    ("after=-4", "is not an event number"),
    ("before=99999999999999999999999", "is not an event number"),
    ("before=%C2%B2", "is not an event number"),
    ("after=9223372036854775807&q=x", None),
    ("before=5&after=3", "either before or after"),
    ("date_from=2099-13-45", "Ignored From: Enter a valid date."),
    ("date_from=2099-04-01&date_to=2099-03-01", "The end date is before the start date."),
    ("action=nope", "Ignored Action: Select a valid choice."),
    ("environment=987654", "Ignored Environment: Select a valid choice."),
    ("date_to=9999-12-31&date_from=0001-01-01", None),
    ("actor=nobody-like-this", None),
    ("q=%25_%5C", None),
])
def test_bad_parameters_are_ignored_with_words(client_for, many, query, words):
    response = client_for("viewer").get(f"{LIST}?{query}")
    assert response.status_code == 200
    if words:
        assert words in html.unescape(response.content.decode())


def test_bad_export_parameters_answer_400_in_words(client_for, many):
    client = client_for("viewer")
    response = client.get(f"{LIST}?date_from=2099-02-31&format=csv")
    assert response.status_code == 400 and b"Nothing exported" in response.content and b"valid date" in response.content
    response = client.get(f"{LIST}?format=xml")
    assert response.status_code == 400 and b"use format=csv or format=jsonl" in response.content
    assert client.get("/audit/history/rule/1/?format=pdf").status_code == 400


def test_unknown_event_and_object_type_are_404(client_for, many):
    client = client_for("viewer")
    assert client.get(reverse("audit:event_detail", args=[10**9])).status_code == 404
    assert client.get("/audit/history/widget/1/").status_code == 404
    assert client.get("/audit/history/rule/99999999999999999999999/").status_code == 404
    assert client.get("/audit/99999999999999999999999/").status_code == 404


def test_htmx_filter_returns_only_the_results(client_for, many):
    response = client_for("viewer").get(f"{LIST}?q=needle", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'data-testid="audit-table"' in body and 'data-testid="exports"' in body


# ------------------------------------------------------------------------------------------------
# One event
# ------------------------------------------------------------------------------------------------
def test_event_detail_shows_everything(client_for, users, envs, clock):
    rule = Rule.objects.create(environment=envs["production"], name="orders", version=1)
    change = ChangeRequest.objects.create(kind="rule", action="update", environment=envs["production"], rule=rule,
                                          author=users["operator"], object_name=rule.object_name)
    first = audit_record(action=AuditAction.APPROVED, object_type="rule", object_id=rule.pk, actor=users["reviewer"],
                         object_repr=rule.object_name, environment=envs["production"])
    token = audit_context._current.set(audit_context.RequestMeta(
        request_id="req-4242", ip_address="203.0.113.9", user_agent="Firefox/128 test-agent"))
    try:
        event = audit_record(
            action=AuditAction.API_CALL, object_type="rule", object_id=rule.pk, object_repr=rule.object_name,
            on_behalf_of=users["reviewer"], environment=envs["production"], related_type="change",
            related_id=change.pk, before={"Rule": {"State": "DISABLED"}}, after={"Rule": {"State": "ENABLED"}},
            message="PutRule", data={"operation": "PutRule", "response": {"RuleArn": "arn:aws:events:x:rule/orders"}})
    finally:
        audit_context._current.reset(token)
    response = client_for("viewer").get(reverse("audit:event_detail", args=[event.pk]))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    for text in ("system", "EventConsole itself", "On behalf of", "reviewer", "AWS API call", "apply.api_call",
                 "req-4242", "203.0.113.9", "Firefox/128 test-agent", "PutRule", "arn:aws:events:x:rule/orders",
                 "Rule.State", "DISABLED", event.hash, event.prev_hash, first.hash, "matches its hash", "Production",
                 f"event #{first.pk}"):
        assert text in body, text
    assert f'href="{rule.get_absolute_url()}"' in body
    assert f'href="{change.get_absolute_url()}"' in body
    assert f'href="{envs["production"].get_absolute_url()}"' in body
    assert f'href="{reverse("audit:object_history", args=["rule", rule.pk])}"' in body
    assert f'href="{reverse("audit:event_detail", args=[first.pk])}"' in body  # previous in the chain
    assert 'data-testid="diff"' in body


def test_event_detail_of_a_deleted_object_and_an_altered_event(client_for, users):
    event = audit_record(action=AuditAction.SUBMITTED, object_type="rule", object_id=999, object_repr="default/gone",
                         actor=users["operator"], message="original")
    with connection.cursor() as cursor:  # what only the database owner could do (PostgreSQL: trigger off first)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute("UPDATE audit_auditevent SET message = 'forged' WHERE id = %s", [event.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")
    body = client_for("viewer").get(reverse("audit:event_detail", args=[event.pk])).content.decode()
    assert "no longer here" in body
    assert 'data-testid="hash-mismatch"' in body


# ------------------------------------------------------------------------------------------------
# One object's history
# ------------------------------------------------------------------------------------------------
def _lifecycle(users, environment, clock):
    """A rule created through a change: drafts before the rule exists, then submit, approve, apply."""
    change = ChangeRequest.objects.create(kind="rule", action="create", environment=environment,
                                          author=users["operator"], object_name="default/orders")
    spec1, spec2 = {"Rule": {"Name": "orders"}}, {"Rule": {"Name": "orders", "State": "ENABLED"}}
    drafts = []
    for step, (before, after) in enumerate([({}, spec1), (spec1, spec2)]):
        clock.now += timedelta(minutes=1)
        drafts.append(audit_record(action=AuditAction.DRAFT_SAVED, object_type="rule", object_repr="default/orders",
                                   actor=users["operator"], environment=environment, related_type="change",
                                   related_id=change.pk, before=before, after=after, message=f"step {step}"))
    rule = Rule.objects.create(environment=environment, name="orders", version=1)
    change.rule = rule
    change.save()
    later = []
    for action, actor, on_behalf in [(AuditAction.SUBMITTED, users["operator"], None),
                                     (AuditAction.APPROVED, users["reviewer"], None),
                                     (AuditAction.API_CALL, None, users["reviewer"]),
                                     (AuditAction.APPLIED, None, users["reviewer"])]:
        clock.now += timedelta(minutes=1)
        later.append(audit_record(action=action, object_type="rule", object_id=rule.pk, object_repr=rule.object_name,
                                  actor=actor, on_behalf_of=on_behalf, environment=environment,
                                  related_type="change", related_id=change.pk,
                                  data={"operation": "PutRule"} if action == AuditAction.API_CALL else None))
    clock.now += timedelta(minutes=1)
    drift = audit_record(action=AuditAction.DRIFT_DETECTED, object_type="rule", object_id=rule.pk,
                         object_repr=rule.object_name, environment=environment, before=spec2,
                         after={"Rule": {"Name": "orders", "State": "DISABLED"}})
    return rule, change, drafts + later + [drift]


def test_rule_history_includes_drafts_from_before_the_rule_existed(client_for, users, envs, clock):
    rule, change, mine = _lifecycle(users, envs["sandbox"], clock)
    other = Rule.objects.create(environment=envs["sandbox"], name="other", version=1)
    audit_record(action=AuditAction.SUBMITTED, object_type="rule", object_id=other.pk, object_repr="default/other",
                 actor=users["operator"], related_type="change", related_id=change.pk + 1)
    audit_record(action=AuditAction.SIGNED_IN, object_type="user", object_id=rule.pk, actor=users["operator"])
    client = client_for("viewer")
    url = reverse("audit:object_history", args=["rule", rule.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert [e.pk for e in response.context["page"].events] == newest_first(mine)
    body = html.unescape(response.content.decode())
    assert "History of rule default/orders" in body
    assert body.count('data-testid="diff"') == 3  # two draft steps and the drift, each with its difference
    assert "Rule.State" in body and "on behalf of reviewer" in body
    assert f'href="{change.get_absolute_url()}"' in body and f'href="{rule.get_absolute_url()}"' in body
    # and the rule's page links to it
    detail = client.get(rule.get_absolute_url())
    assert f'href="{url}"' in detail.content.decode()


def test_history_pages_walk_and_survive_the_rule_being_deleted(client_for, users, envs, clock, monkeypatch):
    rule, change, mine = _lifecycle(users, envs["sandbox"], clock)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    url = reverse("audit:object_history", args=["rule", rule.pk])
    client = client_for("viewer")
    seen, pages = walk(client, url)
    assert seen == newest_first(mine) and len(pages) == 4
    rule_id = rule.pk
    rule.delete()  # the change keeps its events; the link to the rule goes
    body = client.get(reverse("audit:object_history", args=["rule", rule_id])).content.decode()
    assert "no longer here" in body
    assert walk(client, url)[0] == newest_first(mine)  # drafts included: the events name the change


def test_schedule_and_change_histories(client_for, users, envs, clock):
    schedule = Schedule.objects.create(environment=envs["sandbox"], name="nightly", version=1)
    change = ChangeRequest.objects.create(kind="schedule", action="create", environment=envs["sandbox"],
                                          author=users["operator"], schedule=schedule, object_name="default/nightly")
    draft = audit_record(action=AuditAction.DRAFT_SAVED, object_type="schedule", object_repr="default/nightly",
                         actor=users["operator"], related_type="change", related_id=change.pk, after={"Name": "x"})
    applied = audit_record(action=AuditAction.APPLIED, object_type="schedule", object_id=schedule.pk,
                           object_repr="default/nightly", related_type="change", related_id=change.pk)
    audit_record(action=AuditAction.APPLIED, object_type="rule", object_id=schedule.pk, object_repr="default/rule")
    client = client_for("viewer")
    for url in (reverse("audit:object_history", args=["schedule", schedule.pk]),
                reverse("audit:object_history", args=["change", change.pk])):
        page = client.get(url).context["page"]
        assert [e.pk for e in page.events] == [applied.pk, draft.pk], url


# ------------------------------------------------------------------------------------------------
# Who may see the pages
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def urls(users, envs):
    event = audit_record(action=AuditAction.SUBMITTED, object_type="rule", object_id=1, actor=users["operator"])
    return [LIST, f"{LIST}?q=x", reverse("audit:event_detail", args=[event.pk]),
            reverse("audit:object_history", args=["rule", 1]), f"{LIST}?format=csv",
            f"{reverse('audit:object_history', args=['rule', 1])}?format=jsonl"]


@pytest.mark.parametrize("role", ["operator", "reviewer", "viewer", "admin"])
def test_every_role_may_view(client_for, urls, role):
    client = client_for(role)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_anonymous_is_sent_to_sign_in_and_a_user_without_a_role_is_refused(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    nobody = get_user_model().objects.create_user(username="nobody", password="x-long-password-1")
    client.force_login(nobody)
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_nav_lights_up_audit(client_for):
    body = client_for("viewer").get(LIST).content.decode()
    assert f'<a class="nav-link active" href="{LIST}" aria-current="page">Audit</a>' in body
