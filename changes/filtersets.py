"""The filters every managed kind's list has: search, environment, state, status (sync or pending change) and
managed or not (what discovery found and nobody adopted is Unmanaged)."""
from __future__ import annotations

import django_filters
from django.db.models import Q

from environments.models import Environment

from .choices import ChangeState, SyncStatus

__all__ = ["ManagedObjectFilterSet", "status_choices", "MANAGED_CHOICES", "filter_managed"]

MANAGED_CHOICES = [("all", "All"), ("managed", "Managed"), ("unmanaged", "Unmanaged")]


def filter_managed(queryset, value: str):
    """`queryset` (a ManagedObject queryset) limited to managed or unmanaged objects; "all" (or nothing) keeps
    every one."""
    if value == "managed":
        return queryset.managed()
    if value == "unmanaged":
        return queryset.unmanaged()
    return queryset


def status_choices(*, completed: bool = True) -> list[tuple[str, str]]:
    """The Status filter's choices: a pending change or a failed apply, then the sync statuses
    (`completed` only for a kind whose objects can complete, as one-time schedules do).

    "Apply failed" is offered once: its filter takes both a failed pending change and the sync status
    Failed, so that status (whose label is the same words) is not listed again."""
    skipped = {SyncStatus.FAILED} | (set() if completed else {SyncStatus.COMPLETED})
    return [("pending_change", "Pending change"), ("apply_failed", "Apply failed")] + [
        (value, label) for value, label in SyncStatus.choices if value not in skipped]


class ManagedObjectFilterSet(django_filters.FilterSet):
    """The list selector annotates `pending_state`, the state of the object's newest pending change."""

    q = django_filters.CharFilter(label="Search", method="search")
    environment = django_filters.ModelChoiceFilter(label="Environment", queryset=Environment.objects.all())
    state = django_filters.ChoiceFilter(label="State", choices=[("ENABLED", "Enabled"), ("DISABLED", "Disabled")])
    status = django_filters.ChoiceFilter(label="Status", choices=status_choices(), method="filter_status")
    managed = django_filters.ChoiceFilter(label="Managed", choices=MANAGED_CHOICES, empty_label=None,
                                          method="filter_managed")
    search_fields: tuple[str, ...] = ("name", "description")

    def search(self, queryset, name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    def filter_managed(self, queryset, name, value):
        return filter_managed(queryset, value)

    def filter_status(self, queryset, name, value):
        if value == "pending_change":
            return queryset.filter(pending_state__isnull=False).exclude(pending_state=ChangeState.FAILED)
        if value == "apply_failed":
            return queryset.filter(Q(sync_status=SyncStatus.FAILED) | Q(pending_state=ChangeState.FAILED))
        return queryset.filter(sync_status=value, pending_state__isnull=True)
