"""A schedule's expression in words and its next runs, in its own time zone and in UTC.

Shown by the form's live preview, the review step and the detail page (schedules/_preview.html).
"""
from __future__ import annotations

from datetime import UTC

from awslang import expressions

from .runs import runs_of

__all__ = ["preview_context"]


def preview_context(expression: str, zone: str, *, start=None, end=None, anchor=None, count: int = 10) -> dict:
    """The expression in words and its next runs in `zone` and in UTC (form preview, review, detail)."""
    if not expression:
        return {"preview_runs": [], "preview_expression": ""}
    try:
        description = expressions.describe(expression)
    except expressions.ExpressionError as exc:
        return {"preview_runs": [], "preview_expression": expression, "preview_error": str(exc)}
    spec = {"ScheduleExpression": expression, "ScheduleExpressionTimezone": zone, "StartDate": start, "EndDate": end}
    runs = runs_of(spec, count=count, anchor=anchor)
    offsets = {run.utcoffset() for run in runs}
    return {"preview_expression": expression, "preview_description": description, "preview_zone": zone,
            "preview_runs": [(run, run.astimezone(UTC)) for run in runs],
            "preview_dst": len(offsets) > 1,
            "preview_rate_note": expression.startswith("rate(") and start is None and anchor is None}
