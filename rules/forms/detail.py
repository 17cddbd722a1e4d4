"""Step 1: Define rule detail."""
from __future__ import annotations

from django import forms

from changes.choices import ChangeAction
from changes.constraints import check_string, shape
from changes.wizard_forms import EnvironmentStepMixin, check_name_free
from environments import resources
from environments.models import Environment

from ..models import Rule
from ..spec import NAME_CHARS
from .common import checked


CLOUDTRAIL_STATE = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


def rule_state(cleaned: dict) -> str:
    """PutRule's State from the detail step: ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS."""
    if not cleaned.get("enabled"):
        return "DISABLED"
    return CLOUDTRAIL_STATE if cleaned.get("cloudtrail_management_events") else "ENABLED"


class RuleDetailForm(EnvironmentStepMixin, forms.Form):
    PATTERN, SCHEDULE = "pattern", "schedule"

    environment = forms.ModelChoiceField(label="Environment", queryset=Environment.objects.order_by("name"),
                                         empty_label=None, help_text="The AWS account and Region the rule lives in.")
    name = forms.CharField(label="Name", max_length=200,
                           help_text="Maximum of 64 characters consisting of numbers, lower/upper case letters, .,-,_.")
    description = forms.CharField(label="Description - optional", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    event_bus = forms.ChoiceField(label="Event bus", help_text="Select the event bus this rule applies to.")
    enabled = forms.BooleanField(label="Enable the rule on the selected event bus", required=False, initial=True)
    cloudtrail_management_events = forms.BooleanField(
        label="Also match AWS management events delivered by CloudTrail", required=False,
        help_text="State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS. With plain ENABLED, a rule does not receive "
                  "the management events CloudTrail delivers (\"AWS API Call via CloudTrail\" read-only calls, "
                  "for example).")
    rule_type = forms.ChoiceField(label="Rule type", widget=forms.RadioSelect, initial=PATTERN, choices=[
        (PATTERN, "Rule with an event pattern — a rule that runs when an event matches the defined event pattern"),
        (SCHEDULE, "Schedule — a rule that runs on a schedule (UTC). For time zones and one-time runs, "
                   "use EventBridge Scheduler (Schedules)"),
    ])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        change = self.wizard.change
        if change.action != ChangeAction.CREATE and change.rule_id:
            # An existing rule keeps its environment, bus and name (renaming is delete + create in AWS).
            for name in ("environment", "event_bus", "name"):
                self.fields[name].disabled = True
            self.initial.update(environment=change.environment_id, name=change.rule.name,
                                event_bus=change.rule.event_bus_name)
        environment = self.chosen_environment()
        buses, self.bus_error = resources.event_buses(environment)
        self.listed_buses = {b.label for b in buses}
        choices = [(b.label, b.label) for b in buses] or [("default", "default")]
        current = self.data.get(self.add_prefix("event_bus")) if self.is_bound else None
        if current and current not in {c[0] for c in choices}:
            choices.append((current, current))  # keep what was chosen even if AWS no longer lists it
        self.fields["event_bus"].choices = choices
        self.fields["event_bus"].initial = "default"
        if CLOUDTRAIL_STATE not in shape("events", "RuleState").get("enum", []):
            del self.fields["cloudtrail_management_events"]  # not offered by this botocore's API model

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        return checked(name, check_string(name, shape("events", "RuleName"), label="Name", allowed=NAME_CHARS))

    def clean_event_bus(self):
        bus = self.cleaned_data["event_bus"]
        if self.listed_buses and bus not in self.listed_buses and not self.fields["event_bus"].disabled:
            raise forms.ValidationError(f"There is no event bus named {bus} in {self.chosen_environment().name}.")
        return bus

    def clean_description(self):
        description = self.cleaned_data["description"]
        return checked(description, check_string(description, shape("events", "RuleDescription"), label="Description",
                                                 required=False))

    def clean(self):
        cleaned = super().clean()
        change = self.wizard.change
        environment, bus, name = cleaned.get("environment"), cleaned.get("event_bus"), cleaned.get("name")
        if cleaned.get("cloudtrail_management_events") and not cleaned.get("enabled"):
            self.add_error("cloudtrail_management_events", "Only an enabled rule can receive CloudTrail management "
                                                           "events: tick Enable too, or untick this.")
        if cleaned.get("rule_type") == self.SCHEDULE and bus and bus != "default":
            self.add_error("rule_type", "Scheduled rules can only be created on the default event bus.")
        if not change.rule_id and environment and bus and name and "name" not in self.errors:
            check_name_free(self, managed=Rule.objects.filter(environment=environment, event_bus_name=bus, name=name),
                            taken=f"A rule named {name} already exists on bus {bus}", environment=environment,
                            service_name="events",
                            describe=lambda client: client.describe_rule(Name=name, EventBusName=bus))
        return cleaned
