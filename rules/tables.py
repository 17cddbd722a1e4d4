import django_tables2 as tables
from django.utils.html import format_html

from core.tables import SELECT_HEADER, owner_cell, select_cell, status_badge
from metrics import catalog as metrics_catalog
from metrics import selectors as metrics_selectors

from .models import Rule


class RuleTable(tables.Table):
    select = tables.Column(verbose_name=SELECT_HEADER, accessor="pk", orderable=False, empty_values=())
    name = tables.Column(verbose_name="Name", linkify=True)
    event_bus_name = tables.Column(verbose_name="Event bus")
    environment = tables.Column(verbose_name="Environment", accessor="environment__name",
                                order_by=("environment__name",))
    state = tables.Column(verbose_name="State")
    rule_type = tables.Column(verbose_name="Type", empty_values=(), orderable=False)
    targets_count = tables.Column(verbose_name="Targets")
    sync_status = tables.Column(verbose_name="Status", empty_values=())
    owner = tables.Column(verbose_name="Owner", accessor="owner_service", orderable=False, empty_values=())
    last_polled = tables.DateTimeColumn(verbose_name="Last polled", format="Y-m-d H:i", default="never")
    invocations = tables.Column(verbose_name="Invocations (24 h)", accessor="pk", orderable=False, empty_values=())

    class Meta:
        model = Rule
        fields = ("select", "name", "event_bus_name", "environment", "state", "rule_type", "targets_count",
                  "sync_status", "owner", "last_polled", "invocations")
        attrs = {"class": "table table-hover align-middle", "data-testid": "rule-table"}
        empty_text = "No rules match."
        template_name = "includes/_table.html"

    row_template = "rules/_rule_row.html"  # the cells, rendered by a template (see includes/_table.html)

    def render_state(self, value):
        color = "success" if value.startswith("ENABLED") else "secondary"
        return format_html('<span class="badge text-bg-{}">{}</span>', color, value.replace("_", " ").capitalize())

    def before_render(self, request):
        """The sparklines of this page's rows only, in one query (metrics.selectors.sparklines)."""
        super().before_render(request)
        page = getattr(self, "page", None)
        if page is not None:
            page.object_list = list(page.object_list)  # the page's rows, read once (bound rows)
            records = [row.record for row in page.object_list]
        else:
            records = list(self.data)
        found = metrics_selectors.sparklines((r.environment_id, r.event_bus_name, r.name) for r in records)
        for record in records:
            record.sparkline = found.lines.get((record.environment_id,
                                                metrics_catalog.rule_key(record.event_bus_name, record.name)))
        self.columns["invocations"].column.verbose_name = format_html(
            'Invocations (24 h)<br><span class="small fw-normal text-secondary" data-testid="sparkline-age">{}</span>',
            found.words() if found.oldest else "not fetched yet")

    def render_invocations(self, record):
        return getattr(record, "sparkline", None) or "—"

    def render_rule_type(self, record):
        return "Schedule" if record.schedule_expression else "Event pattern"

    def render_sync_status(self, record):
        return status_badge(record)

    def render_select(self, record):
        return select_cell(record)

    def render_owner(self, record):
        return owner_cell(record)
