"""CSV and JSON Lines export of a filtered audit list or an object's history: streamed, every field."""
from __future__ import annotations

import csv
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
from audit.keys import verification_keys
from audit.models import AuditEvent
from audit.services import HASHED_FIELDS, audit_record, event_hash
from changes.models import ChangeRequest
from environments.models import Environment
from rules.models import Rule

pytestmark = pytest.mark.django_db

LIST = reverse("audit:event_list")
START = datetime(2025, 5, 1, 8, 0, tzinfo=dt_timezone.utc)


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


def test_jsonl_export_is_the_exact_record_each_hash_can_be_recomputed(client_for, events):
    client = client_for("viewer")
    response = client.get(f"{LIST}?action={AuditAction.API_CALL}&format=jsonl")
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in read(response).splitlines()]
    assert [line["id"] for line in lines] == expected_ids(lambda e: e.action == AuditAction.API_CALL)
    for line in lines:
        assert list(line) == COLUMNS
        fields = {name: line[name] for name in HASHED_FIELDS}
        fields["time"] = datetime.fromisoformat(line["time"])
        key = verification_keys()[line["key_id"]]
        assert event_hash(line["prev_hash"], fields, key) == line["hash"]
        assert event_hash(line["prev_hash"], fields) != line["hash"]  # keyed: plain SHA-256 does not reproduce it
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
