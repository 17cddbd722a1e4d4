"""The schedules list table. Its rows are drawn by a lean template (schedules/_schedule_table.html):
django-tables2 still does the columns, ordering and pagination, but the per-cell machinery is
skipped, which keeps a page of 50 well under 50 ms (bench/bench_schedules.py)."""
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from awslang import expressions
from core.tables import SELECT_HEADER, owner_cell, select_cell, status_badge

from .models import Schedule
from .runs import next_run_of, spec_of

__all__ = ["ScheduleTable", "expression_cell", "next_run_cell", "state_cell", "target_cell"]


@lru_cache(maxsize=4096)
def expression_words(expression: str) -> str:
    try:
        return expressions.describe(expression)
    except expressions.ExpressionError:
        return expression


def expression_cell(expression: str) -> str:
    return format_html('{}<br><code class="small text-secondary">{}</code>', expression_words(expression), expression)


def next_run_cell(record) -> str:
    moment = record.next_run
    now = timezone.now()
    if moment is not None and moment <= now:  # denormalised on apply and poll; recompute if a run passed since
        moment = next_run_of(spec_of(record), now=now, anchor=record.last_applied)
    if moment is None:
        return "—"
    try:
        local = moment.astimezone(ZoneInfo(record.timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment
    return format_html('<span title="{} UTC">{}</span>', moment.strftime("%Y-%m-%d %H:%M"),
                       local.strftime("%Y-%m-%d %H:%M %Z"))


def state_cell(value: str) -> str:
    if not value:
        return "—"
    return format_html('<span class="badge text-bg-{}">{}</span>', "success" if value == "ENABLED" else "secondary",
                       value.capitalize())


def target_cell(record) -> str:
    return format_html('<span title="{}">{}</span>', record.target_arn, record.target_label)


class ScheduleTable(tables.Table):
    select = tables.Column(verbose_name=SELECT_HEADER, accessor="pk", orderable=False, empty_values=())
    name = tables.Column(verbose_name="Name", linkify=True)
    group_name = tables.Column(verbose_name="Schedule group")
    environment = tables.Column(verbose_name="Environment", accessor="environment__name",
                                order_by=("environment__name",))
    expression = tables.Column(verbose_name="Schedule", orderable=False)
    timezone = tables.Column(verbose_name="Time zone")
    next_run = tables.Column(verbose_name="Next run", empty_values=())
    state = tables.Column(verbose_name="State")
    target_arn = tables.Column(verbose_name="Target", orderable=False)
    sync_status = tables.Column(verbose_name="Status", empty_values=())
    owner = tables.Column(verbose_name="Owner", accessor="owner_service", orderable=False, empty_values=())

    class Meta:
        model = Schedule
        template_name = "schedules/_schedule_table.html"
        fields = ("select", "name", "group_name", "environment", "expression", "timezone", "next_run", "state",
                  "target_arn", "sync_status", "owner")
        attrs = {"class": "table table-hover align-middle", "data-testid": "schedule-table"}
        empty_text = "No schedules match."

    def render_expression(self, value):
        return expression_cell(value)

    def render_next_run(self, record):
        return next_run_cell(record)

    def render_state(self, value):
        return state_cell(value)

    def render_target_arn(self, record):
        return target_cell(record)

    def render_sync_status(self, record):
        return status_badge(record)

    def render_select(self, record):
        return select_cell(record)

    def render_owner(self, record):
        return owner_cell(record)
