"""Step 2: Build event pattern (the pattern form, or the JSON editor), with a sample event to test it on."""
from __future__ import annotations

import re
from typing import Any

from django import forms

from awslang import patterns
from changes.wizard_forms import WizardFormMixin
from core import safejson

from .. import catalog
from ..sandbox import EVENT_LIMIT_WORDS, EVENT_MAX_CHARS
from ..spec import PATTERN_SIZE_DEFAULT
from .common import ANY, SPECIFIC

ALL_EVENTS_PATTERN = {"source": [{"prefix": ""}]}  # what the console's "All events" creates
# The code of an error that only says a choice is still to be made (nothing typed or ticked yet): the live
# pattern preview, shown while the person works, says what is awaited instead of showing it as an error;
# Next shows it at the field.
AWAITING = "awaiting"


def _lines(text: str) -> list[str]:
    return [v.strip() for v in re.split(r"[\n,]", text or "") if v.strip()]


def pattern_limit(environment) -> int:
    """The environment's "Event pattern size" quota (2,048 unless raised)."""
    return getattr(environment, "pattern_size_max", None) or PATTERN_SIZE_DEFAULT


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
            raise forms.ValidationError({"service": forms.ValidationError(
                "Choose the AWS service whose events this rule matches.", code=AWAITING)})
        detail_types = cleaned.get("detail_types") if cleaned.get("detail_type_mode") == SPECIFIC else None
        if cleaned.get("detail_type_mode") == SPECIFIC and not detail_types:
            raise forms.ValidationError({"detail_types": forms.ValidationError(
                "Choose at least one event, or choose Any event.", code=AWAITING)})
        values: dict[str, list[str]] = {}
        for item in self.value_fields:
            spec = item["spec"]
            if cleaned.get(f"f_{spec['key']}_mode") != SPECIFIC:
                continue
            raw = cleaned.get(f"f_{spec['key']}_values")
            chosen = list(raw) if isinstance(raw, list) else _lines(raw)
            if not chosen:
                raise forms.ValidationError({f"f_{spec['key']}_values": forms.ValidationError(
                    f"Enter at least one value, or choose {spec.get('any_label', 'Any')}.", code=AWAITING)})
            values[spec["key"]] = chosen
        try:
            return catalog.build_pattern(service, type_key, detail_types or None, values or None)
        except (KeyError, ValueError) as exc:
            raise forms.ValidationError({"event_type": str(exc)}) from exc

    def awaited(self) -> dict[str, str]:
        """{field name: label} of the fields whose only error is that nothing is chosen or typed there yet
        (call after is_valid()): what the preview asks for instead of showing an error."""
        return {name: str(self.fields[name].label) for name, errors in self.errors.as_data().items()
                if name in self.fields and errors and all(e.code == AWAITING for e in errors)}

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
                    pattern = patterns.validate(text, max_size=patterns.API_MAX_SIZE)  # the quota: below
                except patterns.PatternError as exc:
                    self.add_error("pattern_json", str(exc))
        if pattern is not None:
            limit = pattern_limit(self.environment)
            try:  # measured as sent (minified JSON), against this environment's quota
                patterns.validate(pattern, max_size=limit)
            except patterns.PatternError as exc:
                message = str(exc)
                if "the limit is" in message:
                    message += (f" (the \"Event pattern size\" quota of {getattr(self.environment, 'name', 'this')}; "
                                "if AWS has raised it, set the new quota on the environment)")
                self.add_error("pattern_json" if method == self.METHOD_JSON else None, message)
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

