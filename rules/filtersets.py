import django_filters

from changes.filtersets import ManagedObjectFilterSet, status_choices
from metrics import selectors as metrics_selectors

from .models import Rule


class RuleFilterSet(ManagedObjectFilterSet):
    event_bus_name = django_filters.CharFilter(label="Event bus", lookup_expr="exact")
    status = django_filters.ChoiceFilter(label="Status", choices=status_choices(completed=False),
                                         method="filter_status")
    rule_type = django_filters.ChoiceFilter(label="Type", method="filter_type",
                                            choices=[("pattern", "Event pattern"), ("schedule", "Schedule")])
    failing = django_filters.ChoiceFilter(label="Metrics", method="filter_failing",
                                          choices=[("failing", "Failing (last 24 hours)")])

    class Meta:
        model = Rule
        fields = ["q", "environment", "event_bus_name", "state", "status", "managed", "rule_type", "failing"]

    def filter_type(self, queryset, name, value):
        return queryset.exclude(schedule_expression="") if value == "schedule" else queryset.filter(schedule_expression="")

    def filter_failing(self, queryset, name, value):
        """Failed invocations or messages sent to a dead-letter queue in the last 24 hours (stored figures)."""
        return metrics_selectors.failing(queryset) if value == "failing" else queryset
