"""A schedule's expression in words, its timeframe as a sentence and its next runs, in its own time zone
(and in UTC beside, when the zone is not UTC).

Shown by the form's live preview, the review step and the detail page (schedules/_preview.html).
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from awslang import expressions
from core.timezones import is_utc

from .runs import runs_of
from .spec import parse_date

__all__ = ["preview_context", "timeframe_text", "moment_text"]


def moment_text(moment: datetime, zone: str) -> str:
    """An instant as a person reads it in `zone`: "Mon, 30 Nov 2026 09:00 GMT"."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%a, %d %b %Y %H:%M %Z")


def timeframe_text(expression: str, zone: str, start=None, end=None) -> str:
    """When the schedule is active, as a sentence in `zone` ("From … until …."); a one-time schedule has no
    timeframe (AWS ignores start and end dates for at())."""
    if (expression or "").startswith("at("):
        return "Runs once, at the date and time above (a one-time schedule has no start or end date)."
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError):
        zone = "UTC"
    first, last = parse_date(start), parse_date(end)
    begins = f"From {moment_text(first, zone)}" if first else "From when it is created (no start date)"
    ends = f" until {moment_text(last, zone)}." if last else "; no end date: it runs until it is deleted."
    return begins + ends


def preview_context(expression: str, zone: str, *, start=None, end=None, anchor=None, count: int = 10,
                    now: datetime | None = None) -> dict:
    """The expression in words, the timeframe and the next runs in `zone` (with UTC beside unless the zone is
    UTC), for the form preview, the review step and the detail page."""
    timeframe = {"preview_timeframe": timeframe_text(expression, zone, start, end)}
    if not expression:
        return {"preview_runs": [], "preview_expression": "", **timeframe}
    try:
        description = expressions.describe(expression)
    except expressions.ExpressionError as exc:
        return {"preview_runs": [], "preview_expression": expression, "preview_error": str(exc), **timeframe}
    spec = {"ScheduleExpression": expression, "ScheduleExpressionTimezone": zone, "StartDate": start, "EndDate": end}
    runs = runs_of(spec, count=count, anchor=anchor, now=now)
    offsets = {run.utcoffset() for run in runs}
    return {"preview_expression": expression, "preview_description": description, "preview_zone": zone,
            "preview_runs": [(run, run.astimezone(UTC)) for run in runs],
            "preview_utc_beside": not is_utc(zone),
            "preview_dst": len(offsets) > 1, **timeframe,
            "preview_rate_note": expression.startswith("rate(") and start is None and anchor is None}
