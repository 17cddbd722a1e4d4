from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Fetch


@admin.register(Fetch)
class FetchAdmin(ReadOnlyAdmin):
    """Each metrics fetch: its calls, queries, datapoints, AWS's partial-result messages and any error."""

    list_display = ("id", "environment", "state", "started", "finished", "queries", "calls", "datapoints",
                    "requested_by")
    list_filter = ("state", "environment")
    readonly_fields = ("environment", "requested_by", "state", "started", "finished", "queries", "calls", "datapoints",
                       "messages", "error")
