from django.contrib import admin

from .models import ApplyAttempt, ChangeRequest


class ApplyAttemptInline(admin.TabularInline):
    model = ApplyAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "status", "started", "finished", "duration_ms", "error_code", "error_message")
    fields = readonly_fields


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    """Read only: changes move only through their state machine (changes.states)."""

    list_display = ("id", "kind", "action", "object_name", "environment", "state", "author", "created")
    list_filter = ("state", "kind", "environment")
    inlines = [ApplyAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
