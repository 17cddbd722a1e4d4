import django_filters

from changes.filtersets import ManagedObjectFilterSet

from .models import Schedule
from .selectors import schedule_groups

OCCURRENCES = [("one-time", "One-time"), ("cron", "Cron-based"), ("rate", "Rate-based")]


class ScheduleFilterSet(ManagedObjectFilterSet):
    group_name = django_filters.ChoiceFilter(label="Schedule group", choices=[])
    occurrence = django_filters.ChoiceFilter(label="Occurrence", choices=OCCURRENCES, method="filter_occurrence")
    search_fields = ("name", "description", "group_name", "target_arn")

    class Meta:
        model = Schedule
        fields = ["q", "environment", "group_name", "state", "status", "managed", "occurrence"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["group_name"].extra["choices"] = [(g, g) for g in schedule_groups()]

    def filter_occurrence(self, queryset, name, value):
        prefix = {"one-time": "at(", "cron": "cron(", "rate": "rate("}[value]
        return queryset.filter(expression__startswith=prefix)
