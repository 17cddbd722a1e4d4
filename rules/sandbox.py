"""Sandbox and "which rules match this event?": the pattern library and input transformer in the console.

The index of every managed rule's pattern is built once and reused until a rule changes.

Every request here is bounded: the event is at most 256 KB (PutEvents' entry limit), the pattern
at most 4,096 characters (PutRule's), the input template 8,192 characters and the input path map
100 entries (PutTargets'); and the matching itself runs under a time budget
(SANDBOX_TIME_BUDGET_SECONDS) that ends with a message on the page instead of a busy worker.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Count, Max

from awslang import patterns
from awslang.transform import MAX_INPUT, MAX_TEMPLATE, TransformError, render_target_input
from core import safejson

from . import catalog
from .models import Rule
from .spec import rule_arn

# PutEvents takes entries up to 256 KB; an event to test against is refused past that, in AWS's words.
EVENT_MAX_BYTES = 256 * 1024
EVENT_MAX_CHARS = EVENT_MAX_BYTES
EVENT_LIMIT_WORDS = "AWS's 256 KB limit for an event"
INPUT_MAX_CHARS = MAX_INPUT
INPUT_LIMIT_WORDS = "AWS's limit for target input"
TEMPLATE_MAX_CHARS = MAX_TEMPLATE  # PutTargets: InputTransformer.InputTemplate
PATHS_MAX_ENTRIES = 100  # PutTargets: InputTransformer.InputPathsMap
BUDGET_MESSAGE = ("Matching stopped after {seconds:g} s, its time budget: this pattern and event need more work "
                  "than the sandbox allows. Try a smaller event or fewer array fields.")


def budget_message() -> str:
    return BUDGET_MESSAGE.format(seconds=settings.SANDBOX_TIME_BUDGET_SECONDS)


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
        self.fields["sample_key"].choices = [("", "Enter my own")] + [(s["key"], s["label"])
                                                                     for s in self.sample_choices()]

    def sample_choices(self) -> list[dict[str, Any]]:
        """The samples offered ({"key", "label"}): the catalog's."""
        return catalog.samples()

    def sample_event(self, key: str) -> dict[str, Any]:
        """The event of the sample `key` (one of sample_choices)."""
        return catalog.sample(key)

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("event") or "").strip()
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > EVENT_MAX_BYTES:
            self.add_error("event", f"The event is {size:,} bytes; EventBridge events are at most "
                                    f"{EVENT_MAX_BYTES:,} bytes (256 KB).")
        elif text:
            try:
                cleaned["event_value"] = _json_object(text, "The event", EVENT_MAX_CHARS, EVENT_LIMIT_WORDS)
            except forms.ValidationError as exc:
                self.add_error("event", exc)
        elif cleaned.get("sample_key"):
            cleaned["event_value"] = self.sample_event(cleaned["sample_key"])
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
        text = self.cleaned_data["pattern"]
        if len(text) > patterns.API_MAX_SIZE:
            raise forms.ValidationError(f"The pattern is {len(text):,} characters; EventBridge accepts at most "
                                        f"{patterns.API_MAX_SIZE:,}.")
        try:
            return patterns.validate(text, max_size=patterns.API_MAX_SIZE)
        except patterns.PatternError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_input_paths_map(self):
        text = (self.cleaned_data.get("input_paths_map") or "").strip()
        if len(text) > PATHS_MAX_ENTRIES * 600:  # 100 entries of a 256-character key and value, with JSON quoting
            raise forms.ValidationError(f"The input path is too long: at most {PATHS_MAX_ENTRIES} entries.")
        value = _json_object(text, "The input path", INPUT_MAX_CHARS, INPUT_LIMIT_WORDS) if text else {}
        if len(value) > PATHS_MAX_ENTRIES:
            raise forms.ValidationError(f"The input path has {len(value)} entries; EventBridge allows at most "
                                        f"{PATHS_MAX_ENTRIES}.")
        return value

    def clean_input_template(self):
        text = self.cleaned_data.get("input_template") or ""
        if len(text) > TEMPLATE_MAX_CHARS:
            raise forms.ValidationError(f"The template is {len(text):,} characters; EventBridge accepts at most "
                                        f"{TEMPLATE_MAX_CHARS:,}.")
        return text


@dataclass
class SandboxResult:
    matched: bool | None = None
    why: Any = None
    output: str | None = None
    transform_error: str = ""
    error: str = ""


def pattern_check(pattern: Any, event: dict[str, Any]) -> tuple[bool | None, Any, str]:
    """(matched, why not, error): the pattern against one event, within the sandbox's time budget."""
    try:
        with patterns.match_budget(settings.SANDBOX_TIME_BUDGET_SECONDS):
            matched = patterns.matches(pattern, event)
            return matched, None if matched else patterns.explain(pattern, event), ""
    except patterns.MatchBudgetExceeded:
        return None, None, budget_message()


def sandbox_run(cleaned: dict[str, Any]) -> SandboxResult:
    pattern, event = cleaned["pattern"], cleaned["event_value"]
    result = SandboxResult()
    result.matched, result.why, result.error = pattern_check(pattern, event)
    if result.error:
        return result
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
    """Every managed rule (any environment, any bus) whose pattern matches `event`, with what its targets get.

    Raises patterns.MatchBudgetExceeded past SANDBOX_TIME_BUDGET_SECONDS (the view says so on the page).
    """
    built = rule_index()
    with patterns.match_budget(settings.SANDBOX_TIME_BUDGET_SECONDS):
        return _rules_matching(built, event)


def _rules_matching(built: _Index, event: dict[str, Any]) -> tuple[list[RuleMatch], list[str]]:
    ids = built.index.match(event)
    found = []
    for rule in Rule.objects.filter(pk__in=ids).select_related("environment").order_by("environment__name", "name"):
        spec = rule.desired_spec or {}
        arn = rule_arn(region=rule.environment.region, account=rule.environment.account_id or "123456789012",
                       bus=rule.event_bus_name, name=rule.name)
        deliveries = []
        for target in spec.get("Targets") or []:
            patterns.check_budget()
            try:
                payload = render_target_input(target, event, rule_arn=arn, rule_name=rule.name)
                deliveries.append(TargetDelivery(target["Id"], target["Arn"], payload))
            except TransformError as exc:
                deliveries.append(TargetDelivery(target["Id"], target["Arn"], None, str(exc)))
        found.append(RuleMatch(rule, deliveries))
    return found, built.skipped
