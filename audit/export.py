"""Export a filtered set of audit events as CSV or JSON Lines, streamed in keyset batches.

Rows are read 2,000 at a time (`audit.selectors.audit_event_batches`) and written as they come, so
an export of any size holds one batch in memory. Every field is included, hashes too. JSON Lines is
the exact record: `time` keeps its microseconds, so whoever holds the chain key named by `key_id`
can recompute each line's hash (audit.services.event_hash). CSV writes JSON fields as compact JSON text and, because spreadsheets
run cells that start with = + - @ as formulas, prefixes such a text cell with an apostrophe.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import AuditEvent
from .selectors import audit_event_batches

__all__ = ["FORMATS", "COLUMNS", "export_csv", "export_jsonl", "export_response"]

# Every field of AuditEvent, in the order of its model, plus the approving user's name for reading.
COLUMNS = ["id", "time", "actor_id", "actor_name", "on_behalf_of_id", "on_behalf_of_name", "action", "object_type",
           "object_id", "object_repr", "related_type", "related_id", "environment_id", "environment_name", "before",
           "after", "diff", "message", "data", "request_id", "ip_address", "user_agent", "prev_hash", "hash", "key_id"]
JSON_COLUMNS = {"before", "after", "diff", "data"}
_QUERY_FIELDS = [c if c != "on_behalf_of_name" else "on_behalf_of__username" for c in COLUMNS]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows(queryset: QuerySet[AuditEvent], batch: int) -> Iterator[list[dict]]:
    for chunk in audit_event_batches(queryset, fields=_QUERY_FIELDS, batch=batch):
        for row in chunk:
            row["on_behalf_of_name"] = row.pop("on_behalf_of__username")
            row["time"] = row["time"].isoformat(timespec="microseconds")
        yield chunk


class _Echo:
    """A file-like object whose write() returns what it was given (Django's streaming CSV recipe)."""

    def write(self, value):
        return value


def _csv_cell(column: str, value) -> str:
    if value is None:
        return ""
    if column in JSON_COLUMNS:
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_csv(queryset: QuerySet[AuditEvent], *, batch: int = 2000) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for chunk in _rows(queryset, batch):
        yield "".join(writer.writerow([_csv_cell(c, row[c]) for c in COLUMNS]) for row in chunk)


def export_jsonl(queryset: QuerySet[AuditEvent], *, batch: int = 2000) -> Iterator[str]:
    for chunk in _rows(queryset, batch):
        yield "".join(json.dumps({c: row[c] for c in COLUMNS}, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"
                      for row in chunk)


FORMATS = {
    "csv": (export_csv, "text/csv; charset=utf-8"),
    "jsonl": (export_jsonl, "application/jsonl; charset=utf-8"),
}


def export_filename(stem: str, fmt: str, parts: Iterable[str] = ()) -> str:
    name = "-".join([stem, *parts, timezone.now().strftime("%Y%m%d-%H%M%S")])
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:150]
    return f"{safe}.{fmt}"


def export_response(queryset: QuerySet[AuditEvent], *, fmt: str, stem: str, parts: Iterable[str] = ()):
    writer, content_type = FORMATS[fmt]
    response = StreamingHttpResponse(writer(queryset), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(stem, fmt, parts)}"'
    response["Cache-Control"] = "no-store"
    return response
