"""Send a test event: one PutEvents entry to a bus, with EventConsole's own prediction beside AWS's answer.

The prediction is the Sandbox's "Which rules match?" (rules.sandbox.rules_matching: the managed rules'
index and the input transformer), limited to the bus the event is sent to. PutEvents is called while the
person waits: an interactive client (one attempt, so a failing emulator never delivers twice) within the
page's AWS budget. Every send is audited with the entry and the answer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django import forms
from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from awslang import patterns
from environments import aws
from rules import catalog
from rules.sandbox import EventForm, RuleMatch, budget_message, rules_matching

# Samples a test event can be sent with as they are: AWS refuses `aws.*` sources from PutEvents, so the
# catalog's AWS samples need their source changed first. The first one matches the demo rule.
OWN_SAMPLES = [
    {"key": "orders-order-placed", "label": "Order Placed (com.example.orders)", "event": {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Order Placed",
        "source": "com.example.orders", "account": "123456789012", "time": "2026-01-01T12:00:00Z",
        "region": "us-east-1", "resources": [],
        "detail": {"orderId": "o-1001", "customer": "c-42", "amount": 42.5, "currency": "EUR"}}},
]
AWS_SOURCE_WORDS = ("AWS refuses test events whose source starts with \"aws.\" (NotAuthorizedForSourceException): "
                    "only AWS services send those. Use a source of your own, e.g. \"com.example.test\".")
EMULATOR_500_WORDS = ("The local emulator failed with an internal error (HTTP 500): it cannot deliver to Lambda or SNS "
                      "targets, and a matching rule with one makes the whole PutEvents fail there. Real AWS would "
                      "accept the event and deliver it. EventConsole's own prediction is below.")
ERROR_WORDS = {
    "NotAuthorizedForSourceException": "AWS refused the event's source: this account may not send events with it",
    "NotAuthorizedForDetailTypeException": "AWS refused the event's detail-type: this account may not send it",
    "MalformedDetail": "AWS could not read the event's detail as a JSON object",
    "InvalidArgument": "AWS found an argument of the entry not valid",
    "AccessDeniedException": "AWS refused the call: the credentials may not send events to this bus",
    "InternalFailure": "AWS failed internally; try again",
    "ThrottlingException": "AWS is throttling PutEvents; try again",
}


def samples() -> list[dict[str, Any]]:
    return OWN_SAMPLES + [{"key": s["key"], "label": f"{s['label']} (change its source to send it)"}
                          for s in catalog.samples()]


def sample(key: str) -> dict[str, Any]:
    for own in OWN_SAMPLES:
        if own["key"] == key:
            return json.loads(json.dumps(own["event"]))
    return catalog.sample(key)


def samples_json() -> dict[str, Any]:
    return {s["key"]: sample(s["key"]) for s in samples()}


def sample_for(pattern_text: str | None) -> str:
    """The first sample a rule's pattern matches (own samples first, then the catalog's); else the first own one."""
    try:
        pattern = patterns.validate(pattern_text) if pattern_text else None
    except patterns.PatternError:
        pattern = None
    if pattern is not None:
        for s in samples():
            try:
                if patterns.matches(pattern, sample(s["key"])):
                    return s["key"]
            except patterns.PatternError:
                continue
    return OWN_SAMPLES[0]["key"]


class TestEventForm(EventForm):
    """The Sandbox's event field, plus what PutEvents requires of an entry (and refuses)."""

    bus = forms.CharField(label="Event bus", max_length=256, initial="default",
                          help_text="The bus the event is sent to (PutEvents' EventBusName).")

    def __init__(self, *args, environments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].help_text = ("An EventBridge event: source, detail-type and detail are sent (resources "
                                          "too, if any); AWS sets id, time, account and region. Sources starting "
                                          "with \"aws.\" are refused by AWS.")
        if environments is not None:
            self.fields["environment"] = forms.ModelChoiceField(label="Environment", queryset=environments,
                                                                empty_label=None)
            self.order_fields(["environment", "bus", "sample_key", "event"])

    def sample_choices(self):
        return samples()  # our own samples (custom sources PutEvents accepts) before the catalog's

    def sample_event(self, key):
        return sample(key)

    def clean(self):
        cleaned = super().clean()  # the event read and sized, or a sample's
        event = cleaned.get("event_value")
        if event is None:
            return cleaned
        source, detail_type = event.get("source"), event.get("detail-type")
        detail, resources = event.get("detail", {}), event.get("resources", [])
        problems = []
        if not isinstance(source, str) or not source.strip():
            problems.append("The event needs a \"source\" (a string): PutEvents requires one.")
        elif source.startswith("aws."):
            problems.append(AWS_SOURCE_WORDS)
        if not isinstance(detail_type, str) or not detail_type.strip():
            problems.append("The event needs a \"detail-type\" (a string): PutEvents requires one.")
        if not isinstance(detail, dict):
            problems.append("The event's \"detail\" must be a JSON object.")
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            problems.append("The event's \"resources\" must be a list of ARNs (strings).")
        for problem in problems:
            self.add_error("event", problem)
        if not problems:
            cleaned["entry"] = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail),
                                "Resources": resources}
        return cleaned


@dataclass
class Prediction:
    matches: list[RuleMatch] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def targets(self) -> list[str]:
        return [d.arn for m in self.matches for d in m.deliveries]

    @property
    def emulator_cannot_deliver(self) -> list[str]:
        return [arn for arn in self.targets if arn.startswith(("arn:aws:lambda:", "arn:aws:sns:"))]


def delivered_event(environment, entry: dict[str, Any]) -> dict[str, Any]:
    """The event as the bus would deliver it (AWS fills in id, time, account and region)."""
    return {"version": "0", "id": "(set by AWS)", "detail-type": entry["DetailType"], "source": entry["Source"],
            "account": environment.account_id or "123456789012", "time": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": environment.region, "resources": entry["Resources"], "detail": json.loads(entry["Detail"])}


def predict(environment, bus: str, entry: dict[str, Any]) -> Prediction:
    """The managed rules of `environment` on `bus` that our engine says match, with what each target receives."""
    try:
        found, skipped = rules_matching(delivered_event(environment, entry))
    except patterns.MatchBudgetExceeded:
        return Prediction(error=budget_message())
    return Prediction([m for m in found if m.rule.environment_id == environment.pk and m.rule.event_bus_name == bus],
                      skipped)


@dataclass
class SendResult:
    event_id: str = ""
    error: str = ""
    emulator_failed: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.event_id)


def _put(environment, bus: str, entry: dict[str, Any]) -> SendResult:
    events = aws.client(environment, "events", interactive=True)
    try:
        answer = aws.within_budget(lambda: events.put_events(Entries=[{**entry, "EventBusName": bus}]))
    except aws.BudgetSpent as exc:
        return SendResult(error=f"{exc}. The event may or may not have been sent.")
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if environment.is_emulated and status >= 500:
            return SendResult(error=EMULATOR_500_WORDS, emulator_failed=True)
        return SendResult(error=aws.describe_error(exc))
    except BotoCoreError as exc:
        return SendResult(error=aws.describe_error(exc))
    result = (answer.get("Entries") or [{}])[0]
    if result.get("EventId"):
        return SendResult(event_id=result["EventId"])
    code, message = result.get("ErrorCode", "Unknown"), result.get("ErrorMessage", "")
    words = ERROR_WORDS.get(code, "AWS did not accept the event")
    return SendResult(error=f"{words} ({code}{': ' + message if message else ''}).")


def test_event_send(*, user, environment, bus: str, entry: dict[str, Any], prediction: Prediction, rule=None,
                    confirmed_twice: bool = False) -> SendResult:
    """PutEvents with one entry, then one audit event with the entry and AWS's answer (sent or not)."""
    result = _put(environment, bus, entry)
    what = f"source {entry['Source']}, detail-type {entry['DetailType']}"
    outcome = f"event id {result.event_id}" if result.ok else f"not accepted: {result.error}"
    with transaction.atomic():
        audit_record(
            action=AuditAction.TEST_EVENT_SENT,
            object_type=ObjectType.RULE if rule is not None else ObjectType.ENVIRONMENT,
            object_id=rule.pk if rule is not None else environment.pk,
            object_repr=rule.object_name if rule is not None else environment.name, actor=user,
            environment=environment, message=f"Sent a test event ({what}) to bus {bus}: {outcome}",
            data={"bus": bus, "entry": entry, "event_id": result.event_id, "error": result.error,
                  "predicted_rules": [m.rule.name for m in prediction.matches], "targets": prediction.targets,
                  "production_confirmed_twice": confirmed_twice})
    return result
