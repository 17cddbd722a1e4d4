import django_filters
from django.db.models import Q

from changes.choices import ChangeState, SyncStatus
from environments.models import Environment

from .models import Schedule
from .selectors import schedule_groups

STATUS_CHOICES = [("pending_change", "Pending change"), ("apply_failed", "Apply failed")] + list(SyncStatus.choices)
OCCURRENCES = [("one-time", "One-time"), ("cron", "Cron-based"), ("rate", "Rate-based")]


class ScheduleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    environment = django_filters.ModelChoiceFilter(label="Environment", queryset=Environment.objects.all())
    group_name = django_filters.ChoiceFilter(label="Schedule group", choices=[])
    state = django_filters.ChoiceFilter(label="State", choices=[("ENABLED", "Enabled"), ("DISABLED", "Disabled")])
    status = django_filters.ChoiceFilter(label="Status", choices=STATUS_CHOICES, method="filter_status")
    occurrence = django_filters.ChoiceFilter(label="Occurrence", choices=OCCURRENCES, method="filter_occurrence")

    class Meta:
        model = Schedule
        fields = ["q", "environment", "group_name", "state", "status", "occurrence"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["group_name"].extra["choices"] = [(g, g) for g in schedule_groups()]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value)
                               | Q(group_name__icontains=value) | Q(target_arn__icontains=value))

    def filter_status(self, queryset, name, value):
        # `pending_state` is the newest pending change's state (schedules.selectors.schedule_list).
        if value == "pending_change":
            return queryset.filter(pending_state__isnull=False).exclude(pending_state=ChangeState.FAILED)
        if value == "apply_failed":
            return queryset.filter(Q(sync_status=SyncStatus.FAILED) | Q(pending_state=ChangeState.FAILED))
        return queryset.filter(sync_status=value, pending_state__isnull=True)

    def filter_occurrence(self, queryset, name, value):
        prefix = {"one-time": "at(", "cron": "cron(", "rate": "rate("}[value]
        return queryset.filter(expression__startswith=prefix)
