"""What every table page shares: the page number and page size from the query string, checked (never
a 500), and the cells every managed object's list has (a rule, a schedule): the status badge, who owns
it, and the checkbox that selects it for a bulk action."""
from __future__ import annotations

from django.core.paginator import EmptyPage
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_tables2 import RequestConfig

MAX_PER_PAGE = 500
# The value of changes.choices.ChangeState.FAILED. core sits below changes, so it names the value.
FAILED = "failed"
UNMANAGED = "unmanaged"  # changes.choices.SyncStatus.UNMANAGED
CONSOLE = "EventConsole"


def owner_label(record) -> str:
    """Who owns the object: EventConsole for a managed one; for one discovery found, the AWS service that
    made it (ListRules' ManagedBy), "CloudFormation: <stack>", or "" when nobody does."""
    if record.sync_status != UNMANAGED:
        return CONSOLE
    if record.owner_service:
        return record.owner_service
    if record.stack_name:
        return f"CloudFormation: {record.stack_name}"
    return ""


def owner_cell(record) -> str:
    label = owner_label(record)
    if label == CONSOLE:
        return CONSOLE
    if record.owner_service:
        return format_html('<span title="Managed by {}: read-only, cannot be adopted" data-owner="service">'
                           '<i class="bi bi-lock"></i> {}</span>', label, label)
    if label:
        return format_html('<span title="Owned by this CloudFormation stack" data-owner="stack">{}</span>', label)
    return mark_safe('<span class="text-secondary" title="Not managed by anyone known" data-owner="none">—</span>')


SELECT_HEADER = mark_safe('<span class="visually-hidden">Select</span>')


def select_cell(record) -> str:
    """The row's checkbox; it belongs to the bulk actions' form (changes/_batch_actions.html) by its id."""
    return format_html('<input type="checkbox" class="form-check-input" name="pk" value="{}" form="batch-form" '
                       'aria-label="Select {}">', record.pk, record.name)


def status_badge(record) -> str:
    """The sync status, or the newest pending change's state when one is on its way.

    `record` is a managed object (changes.models.ManagedObject); its list selector annotates
    `pending_state`, the state of its newest pending change (None when there is none).
    """
    pending = getattr(record, "pending_state", None)
    if pending == FAILED:
        return mark_safe('<span class="badge text-bg-danger" data-status="apply_failed">Apply failed</span>')
    if pending:
        return mark_safe('<span class="badge text-bg-info" data-status="pending_change">Pending change</span>')
    return format_html('<span class="badge text-bg-{}" data-status="{}">{}</span>', record.get_sync_status_color(),
                       record.sync_status, record.get_sync_status_display())


class CheckedPaginationMixin:
    """For SingleTableMixin views: ordering from the request; `page` and `per_page` (1 to 500 rows)
    checked here, since django-tables2 takes any per_page it is given (-1 gave a 500). A page past
    the end shows the last one."""

    per_page = 50

    def get_table(self, **kwargs):
        table = self.get_table_class()(data=self.get_table_data(), **kwargs)
        RequestConfig(self.request, paginate=False).configure(table)
        size, page = self.request.GET.get("per_page", ""), self.request.GET.get("page", "")
        size = min(int(size), MAX_PER_PAGE) if size.isdigit() and 0 < int(size) < 10**6 else self.per_page
        page = int(page) if page.isdigit() and len(page) < 10 else 1
        try:
            table.paginate(page=max(page, 1), per_page=size)
        except EmptyPage:
            table.paginate(page=table.paginator.num_pages, per_page=size)
        return table
