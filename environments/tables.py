import django_tables2 as tables

from .models import Environment


class EnvironmentTable(tables.Table):
    name = tables.Column(verbose_name="Name", linkify=True)
    endpoint_url = tables.Column(verbose_name="Endpoint", empty_values=())
    is_production = tables.BooleanColumn(verbose_name="Production")

    class Meta:
        model = Environment
        fields = ("name", "account_id", "region", "endpoint_url", "is_production", "approvals_required")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No environments yet."

    def render_endpoint_url(self, value):
        return value or "AWS"
