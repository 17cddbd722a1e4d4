from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Schedule


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    """Read only: schedules change only through change requests (changes.services)."""

    list_display = ("name", "group_name", "environment", "state", "expression", "timezone", "sync_status", "next_run")
    list_filter = ("sync_status", "state", "environment")
    search_fields = ("name", "group_name", "description")
