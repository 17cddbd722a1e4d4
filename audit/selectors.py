"""Reading audit events: the querysets behind the pages, keyset ("seek") pages and export batches.

No page counts the filtered set or uses OFFSET. A page is `ORDER BY id DESC LIMIT size+1` after
`id < before` (or `id > after`, ascending, for Newer), so its cost does not depend on how deep it
is. Dates become id bounds first (`audit_id_at_or_after`/`audit_id_before`, one index probe each),
so a date range is an id range the primary key serves, never a sort of a date range.

Filters no index orders by id (free-text search, object name, object type, two indexed columns
at once) could scan the whole table to fill a page when matches are rare; for those a page looks
at most `SCAN_WINDOW` ids below its cursor, and Older continues from where it stopped.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q, QuerySet
from django.urls import NoReverseMatch

from .choices import ObjectType
from .links import object_page
from .models import AuditEvent

__all__ = [
    "PAGE_SIZE", "SCAN_WINDOW", "CLOCK_SKEW", "EventPage", "audit_event_list", "audit_event_detail",
    "audit_object_history", "audit_object_timeline", "audit_related_ids", "audit_id_at_or_after", "audit_id_before",
    "audit_event_page", "audit_event_batches", "audit_object_link", "audit_chain_neighbours",
]

PAGE_SIZE = 50
SCAN_WINDOW = 50_000  # ~20 ms of SQLite scanning at most (1,000,000 events: 20 pages of Older)
# Events are numbered in chain order; their times come from the recording machine's clock, which may
# lag a little behind another machine's. Date bounds are widened by this much before they become id
# bounds; the exact time condition stays in the query.
CLOCK_SKEW = timedelta(hours=1)


def audit_event_list() -> QuerySet[AuditEvent]:
    """All events, for the global list (newest first once paged)."""
    return AuditEvent.objects.select_related("on_behalf_of")


def audit_event_detail() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("actor", "on_behalf_of")


def audit_object_history(*, object_type: str, object_id: int, change_ids=()) -> QuerySet[AuditEvent]:
    """Events about one object, and about the change requests `change_ids` (for a managed object:
    its changes, drafts recorded before it existed included; see changes.selectors.object_history)."""
    condition = Q(object_type=object_type, object_id=str(object_id))
    if object_type == ObjectType.CHANGE:
        condition |= Q(related_type=ObjectType.CHANGE, related_id=str(object_id))
    change_ids = [str(pk) for pk in change_ids]
    if change_ids:
        condition |= Q(related_type=ObjectType.CHANGE, related_id__in=change_ids)
    return AuditEvent.objects.filter(condition).select_related("on_behalf_of")


def audit_object_timeline(object_type: str, object_id: int) -> QuerySet[AuditEvent]:
    """One object's timeline as its app registered it (audit.links), or else its own events."""
    from django.utils.module_loading import import_string

    page = object_page(object_type)
    if page is not None and page.history:
        return import_string(page.history)(object_type, object_id)
    return audit_object_history(object_type=object_type, object_id=object_id)


def audit_related_ids(*, object_type: str, object_id: int, related_type: str) -> set[str]:
    """The ids of the `related_type` objects that the events about one object name."""
    # Only the object's own columns in the condition (and no DISTINCT), so the object index serves it.
    return {related_id for kind, related_id in AuditEvent.objects.filter(
        object_type=object_type, object_id=str(object_id)).order_by().values_list("related_type", "related_id")
        if kind == related_type and related_id}


def audit_id_at_or_after(when: datetime) -> int | None:
    """The id of the first event (in time order, ties by id) at or after `when`."""
    # One query: the time index ends in the id on SQLite, and PostgreSQL sorts the ties incrementally.
    return AuditEvent.objects.filter(time__gte=when).order_by("time", "id").values_list("id", flat=True).first()


def audit_id_before(when: datetime) -> int | None:
    """The id of the last event (in time order, ties by id) before `when`."""
    return AuditEvent.objects.filter(time__lt=when).order_by("-time", "-id").values_list("id", flat=True).first()


@dataclass
class EventPage:
    events: list[AuditEvent]
    newer: int | None = None   # ?after=<newer>: the next newer page
    older: int | None = None   # ?before=<older>: the next older page
    windowed: bool = False  # the page's scan was bounded (see SCAN_WINDOW)
    window: tuple[int, int] | None = None  # ...and it looked through all these ids (lowest, highest) unfilled
    newer_url: str = ""
    older_url: str = ""


def audit_event_page(queryset: QuerySet[AuditEvent], *, before: int | None = None, after: int | None = None,
                     size: int = PAGE_SIZE, window: int | None = None, id_lo: int | None = None,
                     id_hi: int | None = None) -> EventPage:
    """One keyset page of `queryset`, newest first: the `size` events below `before` (or above `after`).

    `window` bounds how many ids the page may look through (see the module docstring); `id_lo` and
    `id_hi` are the filters' own id bounds (from dates), so a window never reaches past them.
    Two or three small queries; none counts, none skips rows with OFFSET.
    """
    queryset = queryset.order_by()
    every = AuditEvent.objects.all()
    if id_lo is not None:
        every = every.filter(id__gte=id_lo)
    if id_hi is not None:
        every = every.filter(id__lte=id_hi)
    if after is not None:
        upper = after + window if window else None
        rows = queryset.filter(id__gt=after)
        if upper is not None:
            rows = rows.filter(id__lte=upper)
        rows = list(rows.order_by("id")[:size + 1])
        events = rows[:size][::-1]
        if len(rows) > size:
            newer = events[0].pk
        elif upper is not None and every.filter(id__gt=upper).exists():
            newer = upper
        else:
            newer = None
        bottom = events[-1].pk if events else after + 1
        scope = every if window else queryset
        older = bottom if scope.filter(id__lt=bottom).exists() else None
        exhausted = window and len(rows) <= size
        return EventPage(events, newer=newer, older=older, windowed=bool(window),
                         window=(after + 1, upper) if exhausted else None)

    top = before
    lower = None
    if window:
        if top is None:
            newest = id_hi if id_hi is not None else every.aggregate(newest=Max("id"))["newest"] or 0
            top = newest + 1
        lower = top - window  # looks at lower < id < top
    rows = queryset
    if top is not None:
        rows = rows.filter(id__lt=top)
    if lower is not None:
        rows = rows.filter(id__gt=lower)
    rows = list(rows.order_by("-id")[:size + 1])
    events = rows[:size]
    if len(rows) > size:
        older = events[-1].pk
    elif lower is not None and lower > 0 and every.filter(id__lte=lower).exists():
        older = lower + 1
    else:
        older = None
    newer = None
    if before is not None:
        cursor = events[0].pk if events else before - 1
        scope = every if window else queryset
        newer = cursor if scope.filter(id__gt=cursor).exists() else None
    exhausted = window and len(rows) <= size
    return EventPage(events, newer=newer, older=older, windowed=bool(window),
                     window=(max(lower + 1, id_lo or 0), top - 1) if exhausted else None)


def audit_event_batches(queryset: QuerySet[AuditEvent], *, fields: list[str],
                        batch: int = 2000) -> Iterator[list[dict]]:
    """Every event of `queryset` as dicts of `fields`, newest first, `batch` rows per query (keyset on id)."""
    queryset = queryset.order_by()
    last = None
    while True:
        rows = queryset if last is None else queryset.filter(id__lt=last)
        chunk = list(rows.order_by("-id").values(*fields)[:batch])
        if not chunk:
            return
        yield chunk
        if len(chunk) < batch:
            return
        last = chunk[-1]["id"]


def audit_chain_neighbours(event: AuditEvent) -> tuple[AuditEvent | None, AuditEvent | None]:
    """The events just before and after `event` in the chain (None at either end)."""
    previous = AuditEvent.objects.filter(id__lt=event.pk).order_by("-id").only("id", "hash").first()
    following = AuditEvent.objects.filter(id__gt=event.pk).order_by("id").only("id", "prev_hash").first()
    return previous, following


def audit_object_link(object_type: str, object_id: str) -> str | None:
    """The console page of the object an event names, when it still exists (None otherwise)."""
    from django.apps import apps

    object_id = str(object_id)
    page = object_page(object_type)
    if page is None or not (object_id.isascii() and object_id.isdigit()):
        return None
    try:
        found = apps.get_model(page.model).objects.filter(pk=int(object_id)).only("pk").first()
        return found.get_absolute_url() if found is not None else None
    except (LookupError, NoReverseMatch):
        return None
