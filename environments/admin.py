"""Environments in the admin site: every change goes through the same services as the Environments pages,
so it is audited (with before and after) and the AWS client cache is cleared."""
from django.contrib import admin

from .models import Environment
from .services import environment_delete, environment_save


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ("name", "account_id", "region", "endpoint_url", "is_production", "approvals_required")
    search_fields = ("name", "account_id", "region")

    def save_model(self, request, obj, form, change):
        environment_save(form, actor=request.user)

    def delete_model(self, request, obj):
        environment_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for environment in queryset:
            environment_delete(environment, actor=request.user)
