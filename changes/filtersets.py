"""The filters every managed kind's list has: search, environment, state, status (sync or pending change) and
managed or not (what discovery found and nobody adopted is Unmanaged)."""
from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from environments.models import Environment

from .choices import PENDING_STATES, ChangeState, SyncStatus

__all__ = ["ManagedObjectFilterSet", "ChangeRequestFilterSet", "status_choices", "MANAGED_CHOICES", "filter_managed"]

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


SHOW_CHOICES = [("open", "Open changes"), ("all", "All changes")]


class ChangeRequestFilterSet(django_filters.FilterSet):
    """The Reviews list's filters. Open changes (on their way to AWS, or failed) unless "All changes" or a
    state is asked for; "Waiting for me" is what the signed-in reviewer could approve now (changes.approvals);
    "Mine" is what they wrote."""

    show = django_filters.ChoiceFilter(label="Show", choices=SHOW_CHOICES, empty_label=None, method="filter_show")
    waiting = django_filters.BooleanFilter(label="Waiting for me", method="filter_waiting",
                                           widget=forms.CheckboxInput)
    mine = django_filters.BooleanFilter(label="Mine", method="filter_mine", widget=forms.CheckboxInput)
    environment = django_filters.ModelChoiceFilter(label="Environment", queryset=Environment.objects.order_by("name"),
                                                   empty_label="Every environment")
    state = django_filters.ChoiceFilter(label="State", choices=ChangeState.choices, empty_label="Any state")
    production = django_filters.BooleanFilter(label="Production only", field_name="environment__is_production",
                                              method="filter_production", widget=forms.CheckboxInput)

    def filter_show(self, queryset, name, value):
        if value == "all" or self.form.cleaned_data.get("state"):
            return queryset
        return queryset.filter(state__in=PENDING_STATES)

    def filter_waiting(self, queryset, name, value):
        from .approvals import waiting_for_review

        return waiting_for_review(queryset, self.request.user) if value else queryset

    def filter_mine(self, queryset, name, value):
        return queryset.filter(author=self.request.user) if value else queryset

    def filter_production(self, queryset, name, value):
        return queryset.filter(environment__is_production=True) if value else queryset

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("show"):  # no choice made: open changes
            self.form.cleaned_data["show"] = "open"
        return super().filter_queryset(queryset)
