"""Sandbox and "which rules match this event?": the pattern library and input transformer in the console.

The index of every managed rule's pattern is built once and reused until a rule changes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django import forms

from core import safejson
from django.db.models import Count, Max

from . import catalog, patterns
from .models import Rule
from .spec import rule_arn
from .transform import MAX_INPUT, MAX_TEMPLATE, TransformError, render_target_input

# PutEvents takes entries up to 256 KB; an event to test against is refused past that, in AWS's words.
EVENT_MAX_CHARS = 256 * 1024
EVENT_LIMIT_WORDS = "AWS's 256 KB limit for an event"
INPUT_MAX_CHARS = MAX_INPUT
INPUT_LIMIT_WORDS = "AWS's limit for target input"


def _json_object(text: str, what: str, max_chars: int, limit_words: str) -> dict[str, Any]:
    try:
        value = safejson.loads(text, what=what, max_chars=max_chars, limit_words=limit_words)
    except safejson.InvalidJSON as exc:
        raise forms.ValidationError(str(exc)) from None
    if not isinstance(value, dict):
        raise forms.ValidationError(f"{what} must be a JSON object.")
    return value


class EventForm(forms.Form):
    sample_key = forms.ChoiceField(label="Sample event", required=False,
                                   help_text="Pick a sample AWS event, or paste your own below.")
    event = forms.CharField(label="Event (JSON)", required=False,
                            widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace", "spellcheck": "false"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sample_key"].choices = [("", "Enter my own")] + [(s["key"], s["label"]) for s in catalog.samples()]

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("event") or "").strip()
        if text:
            try:
                cleaned["event_value"] = _json_object(text, "The event", EVENT_MAX_CHARS, EVENT_LIMIT_WORDS)
            except forms.ValidationError as exc:
                self.add_error("event", exc)
        elif cleaned.get("sample_key"):
            cleaned["event_value"] = catalog.sample(cleaned["sample_key"])
        else:
            self.add_error("event", "Pick a sample event or paste an event.")
        return cleaned


class SandboxForm(EventForm):
    pattern = forms.CharField(label="Event pattern", widget=forms.Textarea(
        attrs={"rows": 10, "class": "font-monospace", "spellcheck": "false"}))
    input_paths_map = forms.CharField(label="Input path", required=False, widget=forms.Textarea(
        attrs={"rows": 4, "class": "font-monospace"}), help_text='e.g. {"bucket": "$.detail.bucket.name"}')
    input_template = forms.CharField(label="Template", required=False, widget=forms.Textarea(
        attrs={"rows": 4, "class": "font-monospace"}), help_text='e.g. {"text": "New object in <bucket>"}')

    def clean_pattern(self):
        try:
            return patterns.validate(self.cleaned_data["pattern"])
        except patterns.PatternError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_input_paths_map(self):
        text = (self.cleaned_data.get("input_paths_map") or "").strip()
        return _json_object(text, "The input path", INPUT_MAX_CHARS, INPUT_LIMIT_WORDS) if text else {}


@dataclass
class SandboxResult:
    matched: bool | None = None
    why: Any = None
    output: str | None = None
    transform_error: str = ""


def sandbox_run(cleaned: dict[str, Any]) -> SandboxResult:
    pattern, event = cleaned["pattern"], cleaned["event_value"]
    result = SandboxResult(matched=patterns.matches(pattern, event))
    result.why = None if result.matched else patterns.explain(pattern, event)
    if cleaned.get("input_template"):
        transformer = {"InputTemplate": cleaned["input_template"]}
        if cleaned.get("input_paths_map"):
            transformer["InputPathsMap"] = cleaned["input_paths_map"]
        try:
            result.output = render_target_input({"Id": "sandbox", "Arn": "arn:aws:sqs:us-east-1:123456789012:sandbox",
                                                 "InputTransformer": transformer}, event,
                                                rule_arn="arn:aws:events:us-east-1:123456789012:rule/sandbox",
                                                rule_name="sandbox")
        except TransformError as exc:
            result.transform_error = str(exc)
    return result


# ---------------------------------------------------------------------------------------------
# Which rules match this event?
# ---------------------------------------------------------------------------------------------
@dataclass
class _Index:
    version: tuple
    index: patterns.RuleIndex
    skipped: list[str] = field(default_factory=list)


_lock = threading.Lock()
_cached: _Index | None = None


def _rules_version() -> tuple:
    summary = Rule.objects.aggregate(count=Count("id"), last=Max("last_updated"))
    return summary["count"], summary["last"]


def rule_index() -> _Index:
    """A RuleIndex over every managed rule's desired pattern (rebuilt only when a rule changed)."""
    global _cached
    version = _rules_version()
    with _lock:
        if _cached is not None and _cached.version == version:
            return _cached
    index, skipped = patterns.RuleIndex(), []
    for pk, name, spec in Rule.objects.exclude(desired_spec=None).values_list("pk", "name", "desired_spec"):
        pattern = (spec.get("Rule") or {}).get("EventPattern")
        if not pattern:
            continue  # scheduled rules match no event
        try:
            index.add(pk, pattern)
        except patterns.PatternError as exc:
            skipped.append(f"{name}: {exc}")
    built = _Index(version=version, index=index, skipped=skipped)
    with _lock:
        _cached = built
    return built


@dataclass
class TargetDelivery:
    target_id: str
    arn: str
    payload: str | None
    error: str = ""


@dataclass
class RuleMatch:
    rule: Rule
    deliveries: list[TargetDelivery]


def rules_matching(event: dict[str, Any]) -> tuple[list[RuleMatch], list[str]]:
    """Every managed rule (any environment, any bus) whose pattern matches `event`, with what its targets get."""
    built = rule_index()
    ids = built.index.match(event)
    found = []
    for rule in Rule.objects.filter(pk__in=ids).select_related("environment").order_by("environment__name", "name"):
        spec = rule.desired_spec or {}
        arn = rule_arn(region=rule.environment.region, account=rule.environment.account_id or "123456789012",
                       bus=rule.event_bus_name, name=rule.name)
        deliveries = []
        for target in spec.get("Targets") or []:
            try:
                payload = render_target_input(target, event, rule_arn=arn, rule_name=rule.name)
                deliveries.append(TargetDelivery(target["Id"], target["Arn"], payload))
            except TransformError as exc:
                deliveries.append(TargetDelivery(target["Id"], target["Arn"], None, str(exc)))
        found.append(RuleMatch(rule, deliveries))
    return found, built.skipped
