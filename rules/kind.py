"""The change engine's view of rules (see changes.kinds.KindHandler)."""
from __future__ import annotations

from typing import Any

from changes import objects
from changes.calls import ApiCall, PartialFailure
from changes.choices import ChangeAction, SyncStatus
from delivery import policies

from . import aws_reader
from .models import Rule
from .plan import plan as rule_plan
from .spec import canonical_rule_spec, validate_rule_spec


def validate(spec: dict[str, Any], *, environment) -> dict[str, list[str]]:
    return validate_rule_spec(spec, region=environment.region, pattern_max=environment.pattern_size_max)


def object_name(spec: dict[str, Any]) -> str:
    rule = spec.get("Rule") or {}
    return f"{rule.get('EventBusName') or 'default'}/{rule.get('Name')}" if rule.get("Name") else ""


def _key(change) -> tuple[str, str]:
    if change.rule_id:
        return change.rule.name, change.rule.event_bus_name
    rule = (change.spec or {}).get("Rule") or {}
    return rule.get("Name", ""), rule.get("EventBusName") or "default"


def ensure_object(change) -> Rule:
    name, bus = _key(change)
    return objects.ensure_object(change, key={"event_bus_name": bus, "name": name},
                                 taken=f"A rule named {name} is already managed on bus {bus} in {change.environment.name}.")


def _ours(change) -> list[dict]:
    rule = Rule.objects.filter(pk=change.rule_id).only("delivery_statements").first() if change.rule_id else None
    return list(rule.delivery_statements or []) if rule else []


def read_live(environment, change) -> dict[str, Any] | None:
    """The rule as AWS has it, with what its targets' policies hold ("Delivery"); a rule not in AWS
    is {"Arn", "Delivery"} (no "Rule") when there are policies to look at, else None."""
    name, bus = _key(change)
    live = aws_reader.read_rule(environment, name=name, bus=bus)
    arn = (live or {}).get("Arn") or aws_reader.rule_arn_in(environment, name=name, bus=bus)
    if not arn:
        return live
    desired = None if change.action == ChangeAction.DELETE else change.spec
    ours = _ours(change)
    if not ours and not policies.needs(canonical_rule_spec(desired), rule_arn=arn):
        return live
    delivery = aws_reader.read_delivery(environment, spec=desired, ours=ours, arn=arn)
    return {**live, "Delivery": delivery} if live else {"Arn": arn, "Delivery": delivery}


def record_call(change, call: ApiCall, response: dict[str, Any]) -> None:
    """After each call AWS accepted: remember the policy statements EventConsole added or removed."""
    if call.service == "events" or not change.rule_id:
        return
    name, bus = _key(change)
    arn = aws_reader.rule_arn_in(change.environment, name=name, bus=bus)
    desired = None if change.action == ChangeAction.DELETE else change.spec
    want = policies.needs(canonical_rule_spec(desired), rule_arn=arn)
    ours = _ours(change)
    after = policies.recorded_after(ours, call, want=want, rule_arn=arn)
    if after != ours:
        Rule.objects.filter(pk=change.rule_id).update(delivery_statements=after)


def plan(desired, live, *, change) -> list[ApiCall]:
    environment = change.environment
    return rule_plan(desired, live, region=environment.region, account=environment.account_id)


def check_response(call: ApiCall, response: dict[str, Any]) -> None:
    if response.get("FailedEntryCount"):
        raise PartialFailure(call, response.get("FailedEntries", []))


# ---------------------------------------------------------------------------------------------
# Status, denormalised fields and polling (see changes.polling)
# ---------------------------------------------------------------------------------------------
canonical = canonical_rule_spec

POLL_FIELDS = ("name", "event_bus_name", "delivery_statements")  # what read_polled needs besides the fields every kind has
POLL_SERVICES = aws_reader.POLL_SERVICES
read_polled = aws_reader.read_polled


def split_live(live: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A rule's live snapshot is stored as read (None when the rule itself is not in AWS)."""
    return (live if live and "Rule" in live else None), {}


def denormalise(rule: Rule, spec: dict[str, Any] | None, *, now=None) -> None:
    body = (spec or {}).get("Rule", {})
    rule.state = body.get("State", "ENABLED") if spec else ""
    rule.description = body.get("Description", "")
    rule.schedule_expression = body.get("ScheduleExpression", "")
    rule.targets_count = len((spec or {}).get("Targets") or [])


def polled_fields(rule: Rule, status: str, *, now) -> dict[str, Any]:
    """Nothing on a rule changes with time alone."""
    return {}


def status_against(desired, live, *, environment, now=None) -> tuple[str, list]:
    from audit.diff import diff

    if desired is None:
        return (SyncStatus.PENDING, []) if live is None else (SyncStatus.DRIFTED, [])
    if live is None:
        return SyncStatus.MISSING, []
    calls = rule_plan(desired, live, region=environment.region, account=environment.account_id)
    if not calls:
        return SyncStatus.IN_SYNC, []
    live_view = {k: v for k, v in live.items() if k in ("Rule", "Targets", "Tags")}
    return SyncStatus.DRIFTED, diff(canonical_rule_spec(desired), live_view) + delivery_drift(desired, live)


def delivery_drift(desired, live) -> list[dict[str, Any]]:
    """A target whose policy does not let this rule in, as a drift row (a target that does not exist or
    whose policy cannot be read is said on the rule's page, but is nothing a re-apply would change)."""
    if not live or "Delivery" not in live or not live.get("Arn"):
        return []
    arn, state = live["Arn"], live["Delivery"]
    return [{"path": f"Targets.{need.target_id}{'.DeadLetterConfig' if need.dlq else ''} permission",
             "old": "allowed", "new": policies.problem(need, state, rule_arn=arn)}
            for need in policies.needs(canonical_rule_spec(desired), rule_arn=arn)
            if policies.allowed(need, state, rule_arn=arn) is False]


# ---------------------------------------------------------------------------------------------
# What the flow needs
# ---------------------------------------------------------------------------------------------
def wizard_from_spec(spec: dict[str, Any], *, environment) -> dict[str, Any]:
    from .wizard import wizard_from_spec as build

    return build(spec, environment=environment)


def with_state(spec: dict[str, Any], state: str) -> dict[str, Any]:
    return {**spec, "Rule": {**spec.get("Rule", {}), "State": state}}


def renamed(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return {**spec, "Rule": {**spec.get("Rule", {}), "Name": name}}
