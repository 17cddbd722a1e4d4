from django.contrib import admin

from .models import Environment


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ("name", "account_id", "region", "endpoint_url", "is_production", "approvals_required")
    search_fields = ("name", "account_id", "region")
