from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read only: audit events are never changed or deleted."""

    list_display = ("time", "actor_name", "action", "object_type", "object_repr", "environment_name")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "actor_name", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
