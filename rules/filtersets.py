import django_filters
from django.db.models import Q

from changes.choices import ChangeState, SyncStatus
from environments.models import Environment

from .models import Rule

STATUS_CHOICES = [("pending_change", "Pending change"), ("apply_failed", "Apply failed")] + [
    (value, label) for value, label in SyncStatus.choices if value != SyncStatus.COMPLETED]


class RuleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    environment = django_filters.ModelChoiceFilter(label="Environment", queryset=Environment.objects.all())
    event_bus_name = django_filters.CharFilter(label="Event bus", lookup_expr="exact")
    state = django_filters.ChoiceFilter(label="State", choices=[("ENABLED", "Enabled"), ("DISABLED", "Disabled")])
    status = django_filters.ChoiceFilter(label="Status", choices=STATUS_CHOICES, method="filter_status")
    rule_type = django_filters.ChoiceFilter(label="Type", method="filter_type",
                                            choices=[("pattern", "Event pattern"), ("schedule", "Schedule")])

    class Meta:
        model = Rule
        fields = ["q", "environment", "event_bus_name", "state", "status", "rule_type"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_status(self, queryset, name, value):
        # `pending_state` is the newest pending change's state (rules.selectors.rule_list).
        if value == "pending_change":
            return queryset.filter(pending_state__isnull=False).exclude(pending_state=ChangeState.FAILED)
        if value == "apply_failed":
            return queryset.filter(Q(sync_status=SyncStatus.FAILED) | Q(pending_state=ChangeState.FAILED))
        return queryset.filter(sync_status=value, pending_state__isnull=True)

    def filter_type(self, queryset, name, value):
        return queryset.exclude(schedule_expression="") if value == "schedule" else queryset.filter(schedule_expression="")
