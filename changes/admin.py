from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import ApplyAttempt, ChangeRequest


class ApplyAttemptInline(admin.TabularInline):
    model = ApplyAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "status", "started", "finished", "duration_ms", "error_code", "error_message")
    fields = readonly_fields


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    """Read only: changes move only through their state machine (changes.states)."""

    list_display = ("id", "kind", "action", "object_name", "environment", "state", "author", "created")
    list_filter = ("state", "kind", "environment")
    inlines = [ApplyAttemptInline]
