from django.contrib import admin

from .models import Heartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model the admin site shows but never adds, changes or deletes (its rows change elsewhere)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_seen", "worker", "count")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
