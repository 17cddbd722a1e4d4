"""When a schedule runs: its next invocations, worked out from its spec (or its denormalised columns).

The one place the pages, the upcoming-runs calendar and the change engine ask "when does this run?";
expressions.next_runs does the calendar arithmetic, so daylight-saving rules are the ones AWS applies.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from awslang import expressions

from .spec import parse_date

__all__ = ["runs_of", "next_run_of", "spec_of"]


def runs_of(spec: dict[str, Any] | None, *, count: int, now: datetime | None = None,
            anchor: datetime | None = None, until: datetime | None = None) -> list[datetime]:
    """The next `count` invocations of an enabled schedule, in its time zone.

    A rate schedule without a start date runs from when it was created, then every interval:
    `anchor` (the time it was applied) stands in for that moment.
    """
    if not spec or spec.get("State", "ENABLED") != "ENABLED" or not spec.get("ScheduleExpression"):
        return []
    expression = spec["ScheduleExpression"]
    start, end = parse_date(spec.get("StartDate")), parse_date(spec.get("EndDate"))
    if start is None and anchor is not None and expression.startswith("rate("):
        start = anchor
    if until is not None:
        end = min(end, until) if end else until
    try:
        return expressions.next_runs(expression, spec.get("ScheduleExpressionTimezone") or "UTC",
                                     now or timezone.now(), count, start=start, end=end)
    except (expressions.ExpressionError, ValueError):
        return []


def next_run_of(spec: dict[str, Any] | None, *, now: datetime | None = None,
                anchor: datetime | None = None) -> datetime | None:
    """The next invocation (UTC) of an enabled schedule, or None."""
    runs = runs_of(spec, count=1, now=now, anchor=anchor)
    return runs[0].astimezone(UTC) if runs else None


def spec_of(schedule) -> dict[str, Any]:
    """The few fields runs_of needs, from a Schedule's denormalised columns (no JSON read)."""
    return {"ScheduleExpression": schedule.expression, "ScheduleExpressionTimezone": schedule.timezone or "UTC",
            "State": schedule.state or "ENABLED", "StartDate": schedule.start_date, "EndDate": schedule.end_date}
