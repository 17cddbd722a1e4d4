"""CSV and JSON Lines export of a filtered audit list or an object's history: streamed, every field."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from datetime import datetime, timedelta, timezone as dt_timezone
from types import SimpleNamespace

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.choices import AuditAction, ObjectType
from audit.export import COLUMNS, export_csv, export_jsonl
from audit.models import AuditEvent
from audit.services import audit_record
from changes.models import ChangeRequest
from environments.models import Environment
from rules.models import Rule

pytestmark = pytest.mark.django_db

LIST = reverse("audit:event_list")
START = datetime(2025, 5, 1, 8, 0, tzinfo=dt_timezone.utc)
CHAIN_KEY = "export-test-chain-key-0123456789abcdef"  # the test's own AUDIT_CHAIN_KEY

# The documented hashed form (audit/services.py, docs/operations.md), written out here as the test's own
# oracle: hash = HMAC-SHA256(key, "<key id>\n<previous hash>\n<content>"), where the key id is the first 16
# hex digits of HMAC-SHA256(key, "eventconsole audit chain key id") and the content is the JSON object of
# these fields (time in ISO 8601 with microseconds), keys sorted, no spaces, non-ASCII kept as UTF-8.
CHAINED_FIELDS = ("time", "actor_id", "actor_name", "on_behalf_of_id", "action", "object_type", "object_id",
                  "object_repr", "related_type", "related_id", "environment_id", "environment_name", "before",
                  "after", "diff", "message", "data", "request_id", "ip_address", "user_agent")


def expected_key_id(secret: str) -> str:
    return hmac.new(secret.encode(), b"eventconsole audit chain key id", hashlib.sha256).hexdigest()[:16]


def chained_content(line: dict) -> str:
    return json.dumps({name: line[name] for name in CHAINED_FIELDS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def expected_hash(secret: str, line: dict) -> str:
    message = f"{expected_key_id(secret)}\n{line['prev_hash']}\n{chained_content(line)}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def chain_key(settings):
    settings.AUDIT_CHAIN_KEY = CHAIN_KEY
    return CHAIN_KEY


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    state = SimpleNamespace(now=START)
    monkeypatch.setattr("audit.services.timezone", SimpleNamespace(now=lambda: state.now))
    return state


@pytest.fixture
def env(db):
    return Environment.objects.create(name="Production", region="eu-west-1", endpoint_url="http://127.0.0.1:9")


@pytest.fixture
def events(users, env, clock):
    made = []
    for i in range(40):
        clock.now = START + timedelta(hours=6 * i)
        made.append(audit_record(
            action=[AuditAction.SUBMITTED, AuditAction.APPROVED, AuditAction.API_CALL][i % 3], object_type="rule",
            object_id=i % 4, object_repr=f"default/orders-{i % 4}", actor=users["operator"] if i % 2 else None,
            on_behalf_of=None if i % 2 else users["reviewer"], environment=env if i % 3 else None,
            related_type="change", related_id=500 + i, before={"Rule": {"State": "DISABLED"}} if i % 5 == 0 else None,
            after={"Rule": {"State": "ENABLED", "Tags": ["ä", "b,c", 'say "hi"']}} if i % 5 == 0 else None,
            message=f"line one\nline two, with a comma {i}" if i % 7 == 0 else f"event {i}",
            data={"operation": "PutRule", "response": {"HTTPStatusCode": 200}} if i % 3 == 2 else None))
    return made


def read(response) -> str:
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    return b"".join(response.streaming_content).decode()


def expected_ids(keep=lambda e: True):
    return [e.pk for e in AuditEvent.objects.order_by("-id") if keep(e)]


def test_csv_export_of_a_filtered_list_has_exactly_those_events_and_every_column(client_for, events, env):
    client = client_for("viewer")
    response = client.get(f"{LIST}?actor=operator&environment={env.pk}&before=999&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="audit-events-actor-operator-')
    assert disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(read(response))))
    # exactly the filtered set (before= is a page cursor: an export covers every page), newest first
    keep = lambda e: e.actor_name == "operator" and e.environment_id == env.pk  # noqa: E731
    assert [int(r["id"]) for r in rows] == expected_ids(keep) and rows
    assert list(rows[0].keys()) == COLUMNS
    for row in rows:
        event = AuditEvent.objects.select_related("on_behalf_of").get(pk=row["id"])
        assert row["hash"] == event.hash and row["prev_hash"] == event.prev_hash and len(row["hash"]) == 64
        assert row["time"] == event.time.isoformat(timespec="microseconds")
        assert row["action"] == event.action and row["object_repr"] == event.object_repr
        assert row["actor_id"] == str(event.actor_id) and row["environment_name"] == "Production"
        assert row["message"] == event.message  # newlines and commas survive quoting
        assert (json.loads(row["data"]) if row["data"] else None) == event.data
        assert (json.loads(row["diff"]) if row["diff"] else None) == event.diff
        assert (json.loads(row["after"]) if row["after"] else None) == event.after


def test_jsonl_export_is_the_exact_record_each_hash_can_be_recomputed(client_for, chain_key, events):
    client = client_for("viewer")
    response = client.get(f"{LIST}?action={AuditAction.API_CALL}&format=jsonl")
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in read(response).splitlines()]
    assert [line["id"] for line in lines] == expected_ids(lambda e: e.action == AuditAction.API_CALL)
    assert any(line["after"] for line in lines)  # some carry non-ASCII text ("ä"), hashed as UTF-8
    for line in lines:
        assert list(line) == COLUMNS
        assert line["key_id"] == expected_key_id(chain_key)
        assert line["hash"] == expected_hash(chain_key, line)  # whoever holds the key can recompute it
        # keyed: plain SHA-256 of the same text, or HMAC under another key, does not reproduce it
        plain = hashlib.sha256(f"{line['prev_hash']}\n{chained_content(line)}".encode()).hexdigest()
        assert line["hash"] != plain and line["hash"] != expected_hash("another-key-0123456789abcdef0123456", line)
    system = next(line for line in lines if line["actor_id"] is None)
    assert system["actor_name"] == "system" and system["on_behalf_of_name"] == "reviewer"


def test_export_of_an_object_history(client_for, users, env):
    change = ChangeRequest.objects.create(kind="rule", action="create", environment=env, author=users["operator"])
    draft = audit_record(action=AuditAction.DRAFT_SAVED, object_type="rule", object_repr="default/orders",
                         related_type="change", related_id=change.pk, actor=users["operator"], after={"a": 1})
    rule = Rule.objects.create(environment=env, name="orders", version=1)
    change.rule = rule
    change.save()
    applied = audit_record(action=AuditAction.APPLIED, object_type="rule", object_id=rule.pk,
                           object_repr=rule.object_name, related_type="change", related_id=change.pk)
    audit_record(action=AuditAction.APPLIED, object_type="rule", object_id=rule.pk + 1, object_repr="default/x")
    url = reverse("audit:object_history", args=["rule", rule.pk])
    client = client_for("reviewer")
    for fmt in ("csv", "jsonl"):
        response = client.get(f"{url}?format={fmt}")
        assert f'filename="audit-rule-{rule.pk}-history-' in response["Content-Disposition"]
        body = read(response)
        ids = ([int(r["id"]) for r in csv.DictReader(io.StringIO(body))] if fmt == "csv"
               else [json.loads(line)["id"] for line in body.splitlines()])
        assert ids == [applied.pk, draft.pk], fmt


def test_export_reads_in_keyset_batches_and_streams(events):
    """Rows are read `batch` at a time with id < last (never OFFSET), and written as each batch comes."""
    queryset = AuditEvent.objects.filter(object_type=ObjectType.RULE)
    total = queryset.count()
    with CaptureQueriesContext(connection) as queries:
        stream = export_jsonl(queryset, batch=7)
        first = next(stream)
        assert len(queries.captured_queries) == 1  # one batch read, not the whole set
        assert first.count("\n") == 7
        rest = list(stream)
    assert sum(chunk.count("\n") for chunk in [first, *rest]) == total
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == -(-total // 7) + (total % 7 == 0)
    assert all("LIMIT 7" in s and "OFFSET" not in s.upper() and "COUNT(" not in s.upper() for s in sql)
    assert all('"audit_auditevent"."id" <' in s for s in sql[1:])
    ids = [json.loads(line)["id"] for chunk in [first, *rest] for line in chunk.splitlines()]
    assert ids == sorted(set(ids), reverse=True)  # no row twice, newest first
    header, *lines = "".join(export_csv(queryset, batch=5)).splitlines()
    assert header == ",".join(COLUMNS)


def test_csv_cells_that_spreadsheets_would_run_as_formulas_are_defused(client_for, users):
    audit_record(action=AuditAction.COMMENTED, object_type="change", object_id=1, object_repr="=HYPERLINK(\"x\")",
                 actor=users["operator"], message="+1 looks good")
    body = read(client_for("viewer").get(f"{LIST}?action={AuditAction.COMMENTED}&format=csv"))
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["object_repr"] == "'=HYPERLINK(\"x\")" and row["message"] == "'+1 looks good"


def test_an_empty_export_still_has_its_header(client_for, events):
    body = read(client_for("viewer").get(f"{LIST}?q=nothing-matches-this&format=csv"))
    assert body.splitlines() == [",".join(COLUMNS)]
    assert read(client_for("viewer").get(f"{LIST}?q=nothing-matches-this&format=jsonl")) == ""


def test_the_list_page_offers_the_exports_of_its_filters(client_for, events):
    body = client_for("viewer").get(f"{LIST}?action={AuditAction.APPROVED}&before=30").content.decode()
    assert f'href="?action={AuditAction.APPROVED}&amp;format=csv"' in body
    assert f'href="?action={AuditAction.APPROVED}&amp;format=jsonl"' in body
