from django.contrib import admin

from .models import Schedule


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """Read only: schedules change only through change requests (changes.services)."""

    list_display = ("name", "group_name", "environment", "state", "expression", "timezone", "sync_status", "next_run")
    list_filter = ("sync_status", "state", "environment")
    search_fields = ("name", "group_name", "description")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
