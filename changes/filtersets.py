"""The filters every managed kind's list has: search, environment, state and status (sync or pending change)."""
from __future__ import annotations

import django_filters
from django.db.models import Q

from environments.models import Environment

from .choices import ChangeState, SyncStatus

__all__ = ["ManagedObjectFilterSet", "status_choices"]


def status_choices(*, completed: bool = True) -> list[tuple[str, str]]:
    """The Status filter's choices: a pending change or a failed apply, then the sync statuses
    (`completed` only for a kind whose objects can complete, as one-time schedules do)."""
    return [("pending_change", "Pending change"), ("apply_failed", "Apply failed")] + [
        (value, label) for value, label in SyncStatus.choices if completed or value != SyncStatus.COMPLETED]


class ManagedObjectFilterSet(django_filters.FilterSet):
    """The list selector annotates `pending_state`, the state of the object's newest pending change."""

    q = django_filters.CharFilter(label="Search", method="search")
    environment = django_filters.ModelChoiceFilter(label="Environment", queryset=Environment.objects.all())
    state = django_filters.ChoiceFilter(label="State", choices=[("ENABLED", "Enabled"), ("DISABLED", "Disabled")])
    status = django_filters.ChoiceFilter(label="Status", choices=status_choices(), method="filter_status")
    search_fields: tuple[str, ...] = ("name", "description")

    def search(self, queryset, name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    def filter_status(self, queryset, name, value):
        if value == "pending_change":
            return queryset.filter(pending_state__isnull=False).exclude(pending_state=ChangeState.FAILED)
        if value == "apply_failed":
            return queryset.filter(Q(sync_status=SyncStatus.FAILED) | Q(pending_state=ChangeState.FAILED))
        return queryset.filter(sync_status=value, pending_state__isnull=True)
