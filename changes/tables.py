"""The Reviews list's table: a reviewer scans what the change does (its title is the link), to which
object, where, by whom, how long it has waited and where it stands."""
from __future__ import annotations

import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import render_to_string
from django.utils.html import format_html

from .choices import ITEM_ACTIONS
from .models import ChangeRequest

__all__ = ["ChangeRequestTable", "change_title"]


def change_title(change: ChangeRequest) -> str:
    """"Create rule", "Re-apply desired (in bulk)": what the change does, as the change's page heads it."""
    if change.action in ITEM_ACTIONS:
        return f"{change.get_action_display()} (in bulk)"
    return f"{change.get_action_display()} {change.get_kind_display().lower()}"


class ChangeRequestTable(tables.Table):
    title = tables.Column(verbose_name="Change", accessor="pk", order_by=("id",), empty_values=())
    object_name = tables.Column(verbose_name="Object", empty_values=())
    environment = tables.Column(verbose_name="Environment", accessor="environment__name",
                                order_by=("environment__name",))
    author = tables.Column(verbose_name="Author", accessor="author__username", order_by=("author__username",))
    age = tables.Column(verbose_name="Age", accessor="submitted_at", order_by=("submitted_at", "created"),
                        empty_values=())
    approvals = tables.Column(verbose_name="Approvals", orderable=False, empty_values=())
    state = tables.Column(verbose_name="State")

    class Meta:
        model = ChangeRequest
        fields = ("title", "object_name", "environment", "author", "age", "approvals", "state")
        attrs = {"class": "table table-hover align-middle", "data-testid": "review-table"}
        empty_text = "Nothing to review."
        template_name = "includes/_table.html"

    def render_title(self, record):
        return format_html('<a href="{}" data-testid="change-title">{} <span class="text-secondary">#{}</span></a>',
                           record.get_absolute_url(), change_title(record), record.pk)

    def render_object_name(self, record):
        return format_html("<strong>{}</strong>", record.object_name or "(unnamed)")

    def render_environment(self, record):
        if record.environment.is_production:
            return format_html('{} <span class="badge text-bg-danger">production</span>', record.environment.name)
        return record.environment.name

    def render_age(self, record):
        moment = record.submitted_at or record.created
        return format_html('<span title="{}">{}</span>', moment.strftime("%Y-%m-%d %H:%M UTC"), naturaltime(moment))

    def render_approvals(self, record):
        needed = record.environment.approvals_required
        if not needed:
            return format_html('<span class="text-secondary">{}</span>', "none needed")
        return f"{getattr(record, 'approvals', 0)} of {needed}"

    def render_state(self, record):
        return render_to_string("changes/_state_badge.html", {"change": record})
