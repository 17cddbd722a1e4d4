"""Step 3: Select target(s) — up to five, each with its input, retry policy and dead-letter queue."""
from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.forms import formset_factory

from awslang.transform import MAX_INPUT
from changes.constraints import check_number, check_string, member, shape
from changes.wizard_forms import WizardFormMixin, WizardFormSet
from core import safejson
from environments import resources

from ..spec import DEFAULT_RETRY_POLICY, NAME_CHARS, TARGETS_PER_RULE, parse_arn
from .common import checked, refuse_repeats

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
        return checked(value, check_number(value, member("events", "RetryPolicy", "MaximumRetryAttempts"),
                                           label="Retry attempts"))

    def clean_max_age(self):
        return hhmm_to_seconds(self.cleaned_data.get("max_age") or "")

    def clean_target_id(self):
        value = (self.cleaned_data.get("target_id") or "").strip()
        return checked(value, check_string(value, shape("events", "TargetId"), label="Target ID", allowed=NAME_CHARS,
                                           required=False))

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


class BaseTargetFormSet(WizardFormSet):
    def clean(self):
        super().clean()
        forms_kept = [f for f in self.forms if f not in self.deleted_forms]
        if len(forms_kept) > TARGETS_PER_RULE:
            raise forms.ValidationError(f"A rule can have at most {TARGETS_PER_RULE} targets (an AWS quota that "
                                        f"cannot be raised).")
        refuse_repeats([f.cleaned_data.get("target_id") for f in forms_kept if getattr(f, "cleaned_data", None)],
                       "Target IDs")


# max_num limits how many forms are shown; the 5-target quota is enforced (with its own message) in clean().
TargetFormSet = formset_factory(TargetForm, formset=BaseTargetFormSet, extra=0, min_num=1, validate_min=True,
                                max_num=TARGETS_PER_RULE, absolute_max=100, can_delete=True)
