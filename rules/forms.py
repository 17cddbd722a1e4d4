"""One form per step of the console's "Create rule" flow, with the console's own words.

Every form checks its fields against the same validator apply uses (rules.spec) and reports
errors at the field where they were typed.
"""
from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django import forms
from django.forms import BaseFormSet, formset_factory

from awslang import expressions, patterns
from awslang.transform import MAX_INPUT
from changes.choices import ChangeAction
from changes.constraints import check_number, check_string, member, shape
from changes.wizard import submittable_environments
from environments.models import Environment

from core import safejson

from . import catalog, resources
from .models import Rule
from .sandbox import EVENT_LIMIT_WORDS, EVENT_MAX_CHARS
from .spec import DEFAULT_RETRY_POLICY, NAME_CHARS, TARGETS_PER_RULE, parse_arn

ALL_EVENTS_PATTERN = {"source": [{"prefix": ""}]}  # what the console's "All events" creates
ANY, SPECIFIC = "any", "specific"


class WizardFormMixin:
    """Forms in the flow get the wizard (draft, environment, other steps)."""

    def __init__(self, *args, wizard=None, **kwargs):
        self.wizard = wizard
        super().__init__(*args, **kwargs)

    @property
    def environment(self) -> Environment:
        return self.wizard.environment


# ---------------------------------------------------------------------------------------------
# Step 1: Define rule detail
# ---------------------------------------------------------------------------------------------
class RuleDetailForm(WizardFormMixin, forms.Form):
    PATTERN, SCHEDULE = "pattern", "schedule"

    environment = forms.ModelChoiceField(label="Environment", queryset=Environment.objects.order_by("name"),
                                         empty_label=None, help_text="The AWS account and Region the rule lives in.")
    name = forms.CharField(label="Name", max_length=200,
                           help_text="Maximum of 64 characters consisting of numbers, lower/upper case letters, .,-,_.")
    description = forms.CharField(label="Description - optional", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    event_bus = forms.ChoiceField(label="Event bus", help_text="Select the event bus this rule applies to.")
    enabled = forms.BooleanField(label="Enable the rule on the selected event bus", required=False, initial=True)
    rule_type = forms.ChoiceField(label="Rule type", widget=forms.RadioSelect, initial=PATTERN, choices=[
        (PATTERN, "Rule with an event pattern — a rule that runs when an event matches the defined event pattern"),
        (SCHEDULE, "Schedule — a rule that runs on a schedule (UTC). For time zones and one-time runs, "
                   "use EventBridge Scheduler (Schedules)"),
    ])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        change = self.wizard.change
        request = getattr(self.wizard, "request", None)  # None: built by code, not for a person
        if request is not None:
            self.fields["environment"].queryset = submittable_environments(request.user)
        self.fields["environment"].initial = change.environment_id
        if change.action != ChangeAction.CREATE and change.rule_id:
            # An existing rule keeps its environment, bus and name (renaming is delete + create in AWS).
            for name in ("environment", "event_bus", "name"):
                self.fields[name].disabled = True
            self.initial.update(environment=change.environment_id, name=change.rule.name,
                                event_bus=change.rule.event_bus_name)
        environment = self._chosen_environment()
        buses, self.bus_error = resources.event_buses(environment)
        self.listed_buses = {b.label for b in buses}
        choices = [(b.label, b.label) for b in buses] or [("default", "default")]
        current = self.data.get(self.add_prefix("event_bus")) if self.is_bound else None
        if current and current not in {c[0] for c in choices}:
            choices.append((current, current))  # keep what was chosen even if AWS no longer lists it
        self.fields["event_bus"].choices = choices
        self.fields["event_bus"].initial = "default"

    def _chosen_environment(self) -> Environment:
        if self.is_bound and not self.fields["environment"].disabled:
            value = self.data.get(self.add_prefix("environment"))
            found = (self.fields["environment"].queryset.filter(pk=value).first() if value and str(value).isdigit()
                     else None)
            if found is not None:
                return found
        return self.wizard.change.environment

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        errors = check_string(name, shape("events", "RuleName"), label="Name", allowed=NAME_CHARS)
        if errors:
            raise forms.ValidationError(errors)
        return name

    def clean_event_bus(self):
        bus = self.cleaned_data["event_bus"]
        if self.listed_buses and bus not in self.listed_buses and not self.fields["event_bus"].disabled:
            raise forms.ValidationError(f"There is no event bus named {bus} in {self._chosen_environment().name}.")
        return bus

    def clean_description(self):
        description = self.cleaned_data["description"]
        errors = check_string(description, shape("events", "RuleDescription"), label="Description", required=False)
        if errors:
            raise forms.ValidationError(errors)
        return description

    def clean(self):
        cleaned = super().clean()
        change = self.wizard.change
        environment, bus, name = cleaned.get("environment"), cleaned.get("event_bus"), cleaned.get("name")
        if cleaned.get("rule_type") == self.SCHEDULE and bus and bus != "default":
            self.add_error("rule_type", "Scheduled rules can only be created on the default event bus.")
        if not change.rule_id and environment and bus and name and "name" not in self.errors:
            taken = Rule.objects.filter(environment=environment, event_bus_name=bus, name=name)
            if taken.exists():
                self.add_error("name", f"A rule named {name} already exists on bus {bus} (managed here).")
            elif _exists_in_aws(environment, bus, name):
                self.add_error("name", f"A rule named {name} already exists on bus {bus} in AWS.")
        return cleaned


def _exists_in_aws(environment, bus: str, name: str) -> bool:
    from environments import aws

    try:  # made while a person waits: within the page's interactive AWS budget
        aws.within_budget(lambda: aws.client(environment, "events", interactive=True).describe_rule(
            Name=name, EventBusName=bus))
    except aws.BudgetSpent as exc:
        raise forms.ValidationError(f"Could not check the name in AWS: {exc}. Try again.") from exc
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise forms.ValidationError(f"Could not check the name in AWS: {aws.describe_error(exc)}") from exc
    except BotoCoreError as exc:
        raise forms.ValidationError(f"Could not check the name in AWS: {aws.describe_error(exc)}") from exc
    return True


# ---------------------------------------------------------------------------------------------
# Step 2: Build event pattern
# ---------------------------------------------------------------------------------------------
def _lines(text: str) -> list[str]:
    return [v.strip() for v in re.split(r"[\n,]", text or "") if v.strip()]


class EventPatternForm(WizardFormMixin, forms.Form):
    SOURCE_AWS, SOURCE_OTHER, SOURCE_ALL = "aws", "other", "all"
    METHOD_FORM, METHOD_JSON = "form", "json"
    SAMPLE_AWS, SAMPLE_OWN = "aws", "own"

    event_source = forms.ChoiceField(label="Event source", widget=forms.RadioSelect, initial=SOURCE_AWS, choices=[
        (SOURCE_AWS, "AWS events or EventBridge partner events"),
        (SOURCE_OTHER, "Other — custom events, or events sent from more than one source"),
        (SOURCE_ALL, "All events — all events sent to your account"),
    ])
    sample_type = forms.ChoiceField(label="Sample event type", widget=forms.RadioSelect, initial=SAMPLE_AWS,
                                    required=False, choices=[(SAMPLE_AWS, "AWS events"), (SAMPLE_OWN, "Enter my own")])
    sample_key = forms.ChoiceField(label="Sample events", required=False)
    sample_event = forms.CharField(label="Sample event (JSON)", required=False,
                                   widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace"}))
    creation_method = forms.ChoiceField(label="Creation method", widget=forms.RadioSelect, initial=METHOD_FORM,
                                        choices=[(METHOD_FORM, "Use pattern form"),
                                                 (METHOD_JSON, "Custom pattern (JSON editor)")])
    service = forms.ChoiceField(label="AWS service", required=False)
    event_type = forms.ChoiceField(label="Event type", required=False)
    detail_type_mode = forms.ChoiceField(label="Event type specification", widget=forms.RadioSelect, required=False,
                                         initial=ANY, choices=[(ANY, "Any event"), (SPECIFIC, "Specific event(s)")])
    detail_types = forms.MultipleChoiceField(label="Specific event(s)", required=False,
                                             widget=forms.CheckboxSelectMultiple)
    pattern_json = forms.CharField(label="Event pattern", required=False,
                                   widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace",
                                                                "spellcheck": "false"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sample_key"].choices = [("", "Choose a sample event")] + [
            (s["key"], s["label"]) for s in catalog.samples()]
        services = catalog.services()
        self.fields["service"].choices = [("", "Choose an AWS service")] + [(s["key"], s["label"]) for s in services]
        service_key = self._value("service") or self.initial.get("service") or ""
        event_type = None
        if service_key in {s["key"] for s in services}:
            types = catalog.service(service_key)["event_types"]
            self.fields["event_type"].choices = [(t["key"], t["label"]) for t in types]
            type_key = self._value("event_type") or types[0]["key"]
            event_type = next((t for t in types if t["key"] == type_key), types[0])
        self.event_type_data = event_type
        self.value_fields: list[dict[str, Any]] = []
        if event_type:
            self.fields["detail_types"].choices = [(d, d) for d in event_type.get("detail_types", [])]
            for spec in event_type.get("fields", []):
                mode_name, values_name = f"f_{spec['key']}_mode", f"f_{spec['key']}_values"
                self.fields[mode_name] = forms.ChoiceField(
                    label=spec["label"], widget=forms.RadioSelect, required=False, initial=ANY,
                    choices=[(ANY, spec.get("any_label", "Any")), (SPECIFIC, spec["label"])])
                if spec["kind"] == "choice-list":
                    self.fields[values_name] = forms.MultipleChoiceField(
                        label=spec["label"], required=False, widget=forms.CheckboxSelectMultiple,
                        choices=[(c, c) for c in spec["choices"]])
                else:
                    self.fields[values_name] = forms.CharField(
                        label=spec["label"], required=False, widget=forms.Textarea(attrs={"rows": 2}),
                        help_text="One per line (or separated by commas).")
                self.value_fields.append({"spec": spec, "mode": self[mode_name], "values": self[values_name]})

    def _value(self, name: str) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix(name)) or ""
        return self.initial.get(name) or ""

    # -- building the pattern -------------------------------------------------------------------
    def form_pattern(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        service, type_key = cleaned.get("service"), cleaned.get("event_type")
        if not service:
            raise forms.ValidationError({"service": "Choose the AWS service whose events this rule matches."})
        detail_types = cleaned.get("detail_types") if cleaned.get("detail_type_mode") == SPECIFIC else None
        if cleaned.get("detail_type_mode") == SPECIFIC and not detail_types:
            raise forms.ValidationError({"detail_types": "Choose at least one event, or choose Any event."})
        values: dict[str, list[str]] = {}
        for item in self.value_fields:
            spec = item["spec"]
            if cleaned.get(f"f_{spec['key']}_mode") != SPECIFIC:
                continue
            raw = cleaned.get(f"f_{spec['key']}_values")
            chosen = list(raw) if isinstance(raw, list) else _lines(raw)
            if not chosen:
                raise forms.ValidationError({f"f_{spec['key']}_values": f"Enter at least one value, or choose "
                                                                       f"{spec.get('any_label', 'Any')}."})
            values[spec["key"]] = chosen
        try:
            return catalog.build_pattern(service, type_key, detail_types or None, values or None)
        except (KeyError, ValueError) as exc:
            raise forms.ValidationError({"event_type": str(exc)}) from exc

    def clean_sample_event(self):
        text = self.cleaned_data.get("sample_event") or ""
        if self.cleaned_data.get("sample_type") == self.SAMPLE_OWN and text.strip():
            try:
                value = safejson.loads(text, what="The sample event", max_chars=EVENT_MAX_CHARS,
                                       limit_words=EVENT_LIMIT_WORDS)
            except safejson.InvalidJSON as exc:
                raise forms.ValidationError(str(exc)) from None
            if not isinstance(value, dict):
                raise forms.ValidationError("The sample event must be a JSON object.")
        return text

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("event_source")
        method = cleaned.get("creation_method") if source == self.SOURCE_AWS else self.METHOD_JSON
        pattern = None
        if source == self.SOURCE_ALL:
            pattern = ALL_EVENTS_PATTERN
        elif method == self.METHOD_FORM:
            try:
                pattern = self.form_pattern(cleaned)
            except forms.ValidationError as exc:
                self.add_error(None, exc)
        else:
            text = (cleaned.get("pattern_json") or "").strip()
            if not text:
                self.add_error("pattern_json", "Enter an event pattern (JSON).")
            else:
                try:
                    pattern = patterns.validate(text)
                except patterns.PatternError as exc:
                    self.add_error("pattern_json", str(exc))
        if pattern is not None:
            try:
                patterns.validate(pattern)
            except patterns.PatternError as exc:
                self.add_error("pattern_json" if method == self.METHOD_JSON else None, str(exc))
        cleaned["pattern"] = pattern
        cleaned["sample"] = self.sample(cleaned)
        return cleaned

    def sample(self, cleaned: dict[str, Any]) -> dict[str, Any] | None:
        if cleaned.get("sample_type") == self.SAMPLE_OWN:
            try:
                value = safejson.loads(cleaned.get("sample_event") or "null", max_chars=EVENT_MAX_CHARS)
            except safejson.InvalidJSON:
                return None
            return value if isinstance(value, dict) else None
        key = cleaned.get("sample_key")
        return catalog.sample(key) if key else None


# ---------------------------------------------------------------------------------------------
# Step 2 (rule type Schedule): Define schedule (legacy scheduled rule, UTC)
# ---------------------------------------------------------------------------------------------
class RuleScheduleForm(WizardFormMixin, forms.Form):
    CRON, RATE = "cron", "rate"
    FIELDS = ("minutes", "hours", "day_of_month", "month", "day_of_week", "year")
    ERROR_FIELDS = {"minutes": "minutes", "hours": "hours", "day-of-month": "day_of_month", "month": "month",
                    "day-of-week": "day_of_week", "year": "year", "rate value": "rate_value",
                    "rate unit": "rate_unit"}

    schedule_kind = forms.ChoiceField(label="Schedule pattern", widget=forms.RadioSelect, initial=CRON, choices=[
        (CRON, "A fine-grained schedule that runs at a specific time, such as 8:00 a.m. PST on the first Monday "
               "of every month"),
        (RATE, "A schedule that runs at a regular rate, such as every 10 minutes"),
    ])
    minutes = forms.CharField(label="Minutes", required=False, initial="0", max_length=100)
    hours = forms.CharField(label="Hours", required=False, initial="*", max_length=100)
    day_of_month = forms.CharField(label="Day of month", required=False, initial="*", max_length=100)
    month = forms.CharField(label="Month", required=False, initial="*", max_length=100)
    day_of_week = forms.CharField(label="Day of the week", required=False, initial="?", max_length=100)
    year = forms.CharField(label="Year", required=False, initial="*", max_length=100)
    rate_value = forms.IntegerField(label="Value", required=False, min_value=1, initial=5)
    rate_unit = forms.ChoiceField(label="Unit", required=False, initial="minutes",
                                  choices=[("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")])

    def clean(self):
        cleaned = super().clean()
        try:
            if cleaned.get("schedule_kind") == self.RATE:
                if cleaned.get("rate_value") is None:
                    self.add_error("rate_value", "Enter a whole number of at least 1.")
                    return cleaned
                expression = expressions.rate_from(cleaned["rate_value"], cleaned.get("rate_unit") or "minutes")
            else:
                expression = expressions.cron_from_fields(*(cleaned.get(f) or "" for f in self.FIELDS))
            expressions.validate(expression)
        except expressions.ExpressionError as exc:
            self.add_error(self.ERROR_FIELDS.get(getattr(exc, "field", ""), None), str(exc))
            return cleaned
        cleaned["expression"] = expression
        return cleaned


# ---------------------------------------------------------------------------------------------
# Step 3: Select target(s)
# ---------------------------------------------------------------------------------------------
TARGET_TYPES = [
    ("lambda", "Lambda function"), ("sns", "SNS topic"), ("sqs", "SQS queue"),
    ("states", "Step Functions state machine"), ("events", "EventBridge event bus"),
    ("kinesis", "Kinesis stream"), ("logs", "CloudWatch log group"), ("other", "Other (enter an ARN)"),
]
TARGET_SERVICES = {"lambda": "lambda", "sns": "sns", "sqs": "sqs", "states": "states", "events": "events",
                   "kinesis": "kinesis", "logs": "logs"}
MATCHED, PART, CONSTANT, TRANSFORMER = "matched", "part", "constant", "transformer"
DLQ_NONE, DLQ_THIS, DLQ_OTHER = "none", "this", "other"


def hhmm_to_seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not match or int(match.group(2)) > 59:
        raise forms.ValidationError("Enter the maximum age as hh:mm, from 00:01 to 24:00.")
    seconds = int(match.group(1)) * 3600 + int(match.group(2)) * 60
    errors = check_number(seconds, member("events", "RetryPolicy", "MaximumEventAgeInSeconds"),
                          label="Maximum age of event")
    if errors:
        raise forms.ValidationError("Maximum age of event must be between 00:01 and 24:00 (1 minute to 24 hours).")
    return seconds


def seconds_to_hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


class TargetForm(WizardFormMixin, forms.Form):
    target_type = forms.ChoiceField(label="Target type", choices=TARGET_TYPES, initial="lambda")
    resource = forms.ChoiceField(label="Target", required=False,
                                 help_text="Listed from this environment. Or enter an ARN below.")
    arn = forms.CharField(label="ARN (other account, or not listed)", required=False, max_length=1600)
    target_id = forms.CharField(label="Target ID", required=False, max_length=200,
                                help_text="Leave empty for one made up for you (Target1, Target2, …).")
    role = forms.ChoiceField(label="Execution role", required=False,
                             help_text="Roles that trust events.amazonaws.com. Needed for Step Functions, Kinesis "
                                       "and event bus targets.")
    role_arn = forms.CharField(label="Role ARN (not listed)", required=False, max_length=1600)
    message_group_id = forms.CharField(label="Message group ID (FIFO queues)", required=False, max_length=200)
    partition_key_path = forms.CharField(label="Partition key path (Kinesis)", required=False, max_length=300)
    input_mode = forms.ChoiceField(label="Configure target input", widget=forms.RadioSelect, initial=MATCHED,
                                   choices=[(MATCHED, "Matched events"), (PART, "Part of the matched event"),
                                            (CONSTANT, "Constant (JSON text)"), (TRANSFORMER, "Input transformer")])
    input_path = forms.CharField(label="Specify the part of the matched event", required=False, max_length=300,
                                 help_text="A JSONPath, e.g. $.detail")
    input_constant = forms.CharField(label="Specify the constant in JSON", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}))
    input_paths_map = forms.CharField(label="Input path", required=False,
                                      widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
                                      help_text='JSON map of variables to JSONPaths, e.g. {"bucket": "$.detail.bucket.name"}')
    input_template = forms.CharField(label="Template", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
                                     help_text='e.g. {"text": "New object in <bucket>"}')
    max_age = forms.CharField(label="Maximum age of event", initial="24:00", max_length=5,
                              help_text="hh:mm, from 00:01 to 24:00")
    retry_attempts = forms.IntegerField(label="Retry attempts", initial=185, help_text="0 to 185")
    dlq_mode = forms.ChoiceField(label="Dead-letter queue", widget=forms.RadioSelect, initial=DLQ_NONE, choices=[
        (DLQ_NONE, "None"),
        (DLQ_THIS, "Select an Amazon SQS queue in the current AWS account to use as the dead-letter queue"),
        (DLQ_OTHER, "Select an Amazon SQS queue in an other AWS account as a dead-letter queue"),
    ])
    dlq_queue = forms.ChoiceField(label="Queue", required=False)
    dlq_arn = forms.CharField(label="Queue ARN", required=False, max_length=1600,
                              help_text="You must add a queue policy allowing EventBridge to send to it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        environment = self.environment
        groups, self.listing_errors = [], []
        for key, label in TARGET_TYPES:
            listing = resources.TARGET_LISTINGS.get(key)
            if listing is None:
                continue
            found, error = listing(environment)
            if error:
                self.listing_errors.append(f"{label}s could not be listed: {error}")
            groups.append((label, [(r.arn, r.label) for r in found]))
        self.fields["resource"].choices = [("", "Choose a target (or enter an ARN below)")] + groups
        queues, error = resources.sqs_queues(environment)
        self.fields["dlq_queue"].choices = [("", "Choose a queue")] + [
            (q.arn, q.label) for q in queues if not q.label.endswith(".fifo")]
        roles, error = resources.roles_trusting(environment, "events.amazonaws.com")
        self.fields["role"].choices = [("", "No role")] + [(r.arn, r.label) for r in roles]
        # An ARN chosen earlier but no longer listed stays selectable (nothing typed is lost).
        for name in ("resource", "dlq_queue", "role"):
            value = self.data.get(self.add_prefix(name)) if self.is_bound else None
            flat = {c[0] for c in self._flat_choices(self.fields[name].choices)}
            if value and value not in flat:
                self.fields[name].choices = list(self.fields[name].choices) + [(value, value)]

    @staticmethod
    def _flat_choices(choices):
        for value, label in choices:
            if isinstance(label, (list, tuple)):
                yield from label
            else:
                yield value, label

    def clean_retry_attempts(self):
        value = self.cleaned_data.get("retry_attempts")
        errors = check_number(value, member("events", "RetryPolicy", "MaximumRetryAttempts"), label="Retry attempts")
        if errors:
            raise forms.ValidationError(errors)
        return value

    def clean_max_age(self):
        return hhmm_to_seconds(self.cleaned_data.get("max_age") or "")

    def clean_target_id(self):
        value = (self.cleaned_data.get("target_id") or "").strip()
        errors = check_string(value, shape("events", "TargetId"), label="Target ID", allowed=NAME_CHARS,
                              required=False)
        if errors:
            raise forms.ValidationError(errors)
        return value

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("target_type")
        arn = (cleaned.get("arn") or "").strip() or cleaned.get("resource") or ""
        if not arn:
            self.add_error("resource", "Choose a target, or enter its ARN.")
        else:
            parsed = parse_arn(arn)
            if parsed is None:
                self.add_error("arn", "Enter an ARN: arn:aws:<service>:<region>:<account>:<resource>.")
            elif kind in TARGET_SERVICES and parsed["service"] != TARGET_SERVICES[kind]:
                label = dict(TARGET_TYPES)[kind]
                self.add_error("arn", f"That is not a {label} ARN (it is a {parsed['service']} ARN).")
            elif kind == "sqs" and arn.endswith(".fifo") and not cleaned.get("message_group_id"):
                self.add_error("message_group_id", "A FIFO queue target needs a message group ID.")
        cleaned["arn_value"] = arn
        role = (cleaned.get("role_arn") or "").strip() or cleaned.get("role") or ""
        cleaned["role_value"] = role
        mode = cleaned.get("input_mode")
        if mode == PART and not cleaned.get("input_path"):
            self.add_error("input_path", "Enter the part of the event to send, as a JSONPath such as $.detail.")
        if mode == CONSTANT:
            try:
                safejson.loads(cleaned.get("input_constant") or "", what="The constant", max_chars=MAX_INPUT,
                               limit_words="AWS's limit for a target's Input")
            except safejson.InvalidJSON as exc:
                self.add_error("input_constant", str(exc))
        if mode == TRANSFORMER:
            if not (cleaned.get("input_template") or "").strip():
                self.add_error("input_template", "Enter the template the target receives.")
            text = (cleaned.get("input_paths_map") or "").strip()
            try:
                paths = safejson.loads(text, what="The input path", max_chars=MAX_INPUT) if text else {}
            except safejson.InvalidJSON as exc:
                self.add_error("input_paths_map", str(exc))
            else:
                if not isinstance(paths, dict):
                    self.add_error("input_paths_map",
                                   'The input path must be a JSON object such as {"name": "$.detail.name"}.')
        dlq = cleaned.get("dlq_mode")
        if dlq == DLQ_THIS and not cleaned.get("dlq_queue"):
            self.add_error("dlq_queue", "Choose the queue, or choose None.")
        if dlq == DLQ_OTHER and not (cleaned.get("dlq_arn") or "").strip():
            self.add_error("dlq_arn", "Enter the queue's ARN, or choose None.")
        if not self.errors:
            from awslang.transform import TransformError, validate_target_input

            try:
                validate_target_input(target_entry(cleaned, target_id="check"))
            except TransformError as exc:
                field = {PART: "input_path", CONSTANT: "input_constant", TRANSFORMER: "input_template"}.get(mode)
                self.add_error(field, str(exc))
        return cleaned


def target_entry(cleaned: dict[str, Any], *, target_id: str) -> dict[str, Any]:
    """A PutTargets entry from one target form's cleaned data."""
    entry: dict[str, Any] = {"Id": cleaned.get("target_id") or target_id, "Arn": cleaned.get("arn_value", "")}
    if cleaned.get("role_value"):
        entry["RoleArn"] = cleaned["role_value"]
    mode = cleaned.get("input_mode")
    if mode == PART:
        entry["InputPath"] = cleaned.get("input_path", "")
    elif mode == CONSTANT:
        entry["Input"] = cleaned.get("input_constant", "")
    elif mode == TRANSFORMER:
        text = (cleaned.get("input_paths_map") or "").strip()
        entry["InputTransformer"] = {"InputPathsMap": json.loads(text) if text else {},
                                     "InputTemplate": cleaned.get("input_template", "")}
        if not entry["InputTransformer"]["InputPathsMap"]:
            del entry["InputTransformer"]["InputPathsMap"]
    retry = {"MaximumRetryAttempts": cleaned.get("retry_attempts"), "MaximumEventAgeInSeconds": cleaned.get("max_age")}
    if retry != DEFAULT_RETRY_POLICY:  # AWS's default needs no setting
        entry["RetryPolicy"] = retry
    dlq = cleaned.get("dlq_mode")
    if dlq == DLQ_THIS and cleaned.get("dlq_queue"):
        entry["DeadLetterConfig"] = {"Arn": cleaned["dlq_queue"]}
    elif dlq == DLQ_OTHER and cleaned.get("dlq_arn"):
        entry["DeadLetterConfig"] = {"Arn": cleaned["dlq_arn"].strip()}
    if cleaned.get("message_group_id"):
        entry["SqsParameters"] = {"MessageGroupId": cleaned["message_group_id"]}
    if cleaned.get("partition_key_path"):
        entry["KinesisParameters"] = {"PartitionKeyPath": cleaned["partition_key_path"]}
    return entry


class WizardFormSet(BaseFormSet):
    def __init__(self, *args, wizard=None, **kwargs):
        self.wizard = wizard
        kwargs.setdefault("form_kwargs", {})["wizard"] = wizard
        super().__init__(*args, **kwargs)


class BaseTargetFormSet(WizardFormSet):
    def clean(self):
        super().clean()
        forms_kept = [f for f in self.forms if f not in self.deleted_forms]
        if len(forms_kept) > TARGETS_PER_RULE:
            raise forms.ValidationError(f"A rule can have at most {TARGETS_PER_RULE} targets (an AWS quota that "
                                        f"cannot be raised).")
        ids = [f.cleaned_data.get("target_id") for f in forms_kept if getattr(f, "cleaned_data", None)]
        duplicates = {i for i in ids if i and ids.count(i) > 1}
        if duplicates:
            raise forms.ValidationError(f"Target IDs must be unique: {', '.join(sorted(duplicates))} is used twice.")


# max_num limits how many forms are shown; the 5-target quota is enforced (with its own message) in clean().
TargetFormSet = formset_factory(TargetForm, formset=BaseTargetFormSet, extra=0, min_num=1, validate_min=True,
                                max_num=TARGETS_PER_RULE, absolute_max=100, can_delete=True)


# ---------------------------------------------------------------------------------------------
# Step 4: Configure tags
# ---------------------------------------------------------------------------------------------
class TagForm(WizardFormMixin, forms.Form):
    key = forms.CharField(label="Key", max_length=300)
    value = forms.CharField(label="Value - optional", required=False, max_length=600)

    def clean_key(self):
        key = self.cleaned_data["key"].strip()
        errors = check_string(key, shape("events", "TagKey"), label="Tag key")
        if key.lower().startswith("aws:"):
            errors.append("Tag keys starting with aws: are reserved for AWS.")
        if errors:
            raise forms.ValidationError(errors)
        return key

    def clean_value(self):
        value = self.cleaned_data.get("value") or ""
        errors = check_string(value, shape("events", "TagValue"), label="Tag value", required=False)
        if errors:
            raise forms.ValidationError(errors)
        return value


class BaseTagFormSet(WizardFormSet):
    def clean(self):
        super().clean()
        keys = [f.cleaned_data.get("key") for f in self.forms
                if f not in self.deleted_forms and getattr(f, "cleaned_data", None)]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise forms.ValidationError(f"Tag keys must be unique: {', '.join(sorted(duplicates))} is used twice.")


TagFormSet = formset_factory(TagForm, formset=BaseTagFormSet, extra=0, max_num=50, validate_max=True,
                             absolute_max=100, can_delete=True)
