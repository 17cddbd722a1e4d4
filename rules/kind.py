"""The change engine's view of rules (see changes.kinds.KindHandler)."""
from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from changes.calls import ApiCall, PartialFailure
from changes.choices import ChangeAction, OPEN_STATES, SyncStatus
from changes.kinds import ObjectConflict

from . import aws_reader
from .models import Rule
from .plan import plan as rule_plan
from .spec import canonical_rule_spec, validate_rule_spec


def validate(spec: dict[str, Any], *, environment) -> dict[str, list[str]]:
    return validate_rule_spec(spec, region=environment.region)


def object_name(spec: dict[str, Any]) -> str:
    rule = spec.get("Rule") or {}
    return f"{rule.get('EventBusName') or 'default'}/{rule.get('Name')}" if rule.get("Name") else ""


def _key(change) -> tuple[str, str]:
    if change.rule_id:
        return change.rule.name, change.rule.event_bus_name
    rule = (change.spec or {}).get("Rule") or {}
    return rule.get("Name", ""), rule.get("EventBusName") or "default"


def ensure_object(change) -> Rule:
    if change.rule_id:
        return change.rule
    name, bus = _key(change)
    existing = Rule.objects.filter(environment=change.environment, event_bus_name=bus, name=name).first()
    if existing is not None:
        raise ObjectConflict(f"A rule named {name} is already managed on bus {bus} in {change.environment.name}.")
    try:
        with transaction.atomic():
            change.rule = Rule.objects.create(environment=change.environment, event_bus_name=bus, name=name,
                                              sync_status=SyncStatus.PENDING)
    except IntegrityError:
        raise ObjectConflict(f"A rule named {name} is already managed on bus {bus}.") from None
    change.object_name = change.rule.object_name
    return change.rule


def read_live(environment, change) -> dict[str, Any] | None:
    name, bus = _key(change)
    return aws_reader.read_rule(environment, name=name, bus=bus)


def plan(desired, live, *, change) -> list[ApiCall]:
    environment = change.environment
    return rule_plan(desired, live, region=environment.region, account=environment.account_id)


def check_response(call: ApiCall, response: dict[str, Any]) -> None:
    if response.get("FailedEntryCount"):
        raise PartialFailure(call, response.get("FailedEntries", []))


def denormalise(rule: Rule, spec: dict[str, Any] | None) -> None:
    body = (spec or {}).get("Rule", {})
    rule.state = body.get("State", "ENABLED") if spec else ""
    rule.description = body.get("Description", "")
    rule.schedule_expression = body.get("ScheduleExpression", "")
    rule.targets_count = len((spec or {}).get("Targets") or [])


def on_applied(change, live: dict[str, Any] | None) -> None:
    rule = change.rule
    if rule is None:
        return
    if change.action == ChangeAction.DELETE:
        rule.delete()
        return
    spec = canonical_rule_spec(change.spec)
    rule.desired_spec = spec
    rule.live_spec = live
    rule.last_applied = rule.last_polled = timezone.now()
    rule.sync_status, rule.drift = status_against(spec, live, environment=change.environment)
    denormalise(rule, spec)
    rule.save()


def status_against(desired, live, *, environment) -> tuple[str, list]:
    from audit.diff import diff

    if desired is None:
        return (SyncStatus.PENDING, []) if live is None else (SyncStatus.DRIFTED, [])
    if live is None:
        return SyncStatus.MISSING, []
    calls = rule_plan(desired, live, region=environment.region, account=environment.account_id)
    if not calls:
        return SyncStatus.IN_SYNC, []
    live_view = {k: v for k, v in live.items() if k in ("Rule", "Targets", "Tags")}
    return SyncStatus.DRIFTED, diff(canonical_rule_spec(desired), live_view)


def on_failed(change) -> None:
    if change.rule_id:
        Rule.objects.filter(pk=change.rule_id).update(sync_status=SyncStatus.FAILED)


def discard_unapplied(change) -> None:
    """A create change that never reached AWS: its placeholder Rule row goes (unless another change uses it)."""
    rule = change.rule
    if rule is None or rule.version > 0:
        return
    others = rule.changes.exclude(pk=change.pk).filter(state__in=OPEN_STATES).exists()
    if not others:
        change.rule = None
        change.save(update_fields=["rule"])
        rule.delete()



def wizard_from_spec(spec: dict[str, Any], *, environment) -> dict[str, Any]:
    from .wizard import wizard_from_spec as build

    return build(spec, environment=environment)


def with_state(spec: dict[str, Any], state: str) -> dict[str, Any]:
    return {**spec, "Rule": {**spec.get("Rule", {}), "State": state}}


def renamed(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return {**spec, "Rule": {**spec.get("Rule", {}), "Name": name}}
