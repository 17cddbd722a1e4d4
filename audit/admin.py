from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read only: audit events are never changed or deleted."""

    list_display = ("time", "actor_name", "action", "object_type", "object_repr", "environment_name")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "actor_name", "message")
