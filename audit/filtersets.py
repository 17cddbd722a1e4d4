"""Filters of the global audit list (and of its exports).

Each filter is served by an index ordered by id where it can be (actor, action, environment), and
dates become id bounds (see audit.selectors). `needs_window` tells the page whether it must bound
its scan: true for text search, object name, object type and for two indexed columns at once.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from environments.models import Environment

from .choices import AuditAction, ObjectType
from .models import AuditEvent
from .selectors import CLOCK_SKEW, audit_id_at_or_after, audit_id_before
from .services import SYSTEM

__all__ = ["AuditEventFilterSet"]


class AuditEventFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_search",
                                  help_text="Object name, actor or message contains this text.")
    actor = django_filters.CharFilter(label="Actor", method="filter_actor", help_text="A username, or system.")
    action = django_filters.ChoiceFilter(label="Action", choices=AuditAction.choices, method="filter_action",
                                         empty_label="Any")
    object_type = django_filters.ChoiceFilter(label="Object type", choices=ObjectType.choices,
                                              method="filter_object_type", empty_label="Any")
    object = django_filters.CharFilter(label="Object name", method="filter_object")
    environment = django_filters.ChoiceFilter(label="Environment", method="filter_environment", empty_label="Any")
    date_from = django_filters.DateFilter(label="From", method="filter_date_from",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label="To", method="filter_date_to",
                                        widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = AuditEvent
        fields: list[str] = []
        form = AuditEventFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["environment"].extra["choices"] = [
            (str(pk), name) for pk, name in Environment.objects.order_by("name").values_list("pk", "name")]
        self.id_lo: int | None = None  # id bounds the dates gave
        self.id_hi: int | None = None
        self._indexed = 0
        self._scanning = False

    @property
    def needs_window(self) -> bool:
        self.qs  # noqa: B018 -- the filter methods below set the flags
        return self._scanning or self._indexed > 1

    @property
    def active(self) -> dict:
        """The filters in use (valid values only), for the page's summary and the export's file name."""
        if not self.is_bound or not hasattr(self.form, "cleaned_data"):
            return {}
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}

    def filter_search(self, queryset, name, value):
        self._scanning = True
        return queryset.filter(Q(object_repr__icontains=value) | Q(actor_name__icontains=value)
                               | Q(message__icontains=value))

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        if value.lower() == SYSTEM:
            self._indexed += 1
            return queryset.filter(actor__isnull=True, actor_name=SYSTEM)
        User = get_user_model()
        user_id = User._default_manager.filter(**{User.USERNAME_FIELD: value}).values_list("pk", flat=True).first()
        if user_id is not None:
            self._indexed += 1
            return queryset.filter(actor_id=user_id)
        self._scanning = True  # a user who no longer exists: by the name kept on each event
        return queryset.filter(actor_name=value)

    def filter_action(self, queryset, name, value):
        self._indexed += 1
        return queryset.filter(action=value)

    def filter_object_type(self, queryset, name, value):
        # The object index is ordered by object id, not by id: using it would sort every event of that
        # type. iexact (the same for these lower-case codes) keeps the planner on the id range instead,
        # which the page's scan window bounds.
        self._scanning = True
        return queryset.filter(object_type__iexact=value)

    def filter_object(self, queryset, name, value):
        self._scanning = True
        return queryset.filter(object_repr__icontains=value.strip())

    def filter_environment(self, queryset, name, value):
        self._indexed += 1
        return queryset.filter(environment_id=int(value))

    def filter_date_from(self, queryset, name, value):
        start = _start_of(value)
        try:
            self.id_lo = audit_id_at_or_after(start - CLOCK_SKEW)
        except OverflowError:  # 0001-01-01: from the beginning
            return queryset
        if self.id_lo is None:
            return queryset.none()
        return queryset.filter(time__gte=start, id__gte=self.id_lo)

    def filter_date_to(self, queryset, name, value):
        try:
            end = _start_of(value + timedelta(days=1))  # "to" includes that whole day
            self.id_hi = audit_id_before(end + CLOCK_SKEW)
        except OverflowError:  # 9999-12-31: up to now
            return queryset
        if self.id_hi is None:
            return queryset.none()
        return queryset.filter(time__lt=end, id__lte=self.id_hi)
