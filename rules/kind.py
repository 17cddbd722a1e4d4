"""The change engine's view of rules (see changes.kinds.KindHandler)."""
from __future__ import annotations

import logging
import re
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from awslang import expressions, patterns
from changes import objects
from changes.calls import ApiCall, PartialFailure
from changes.choices import ChangeAction, SyncStatus
from changes.review_difference import RUNS_SHOWN, ReviewParts, keyed
from changes.search import compact_json, search_lines
from core import safejson
from delivery import policies, roles
from environments import aws

from . import aws_reader, catalog
from .models import Rule
from .plan import ROLES, new_role_for
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


log = logging.getLogger(__name__)


def read_live(environment, change) -> dict[str, Any] | None:
    """The rule as AWS has it, with what its targets' policies hold ("Delivery") and what IAM has for
    the roles its targets name (plan.ROLES); a rule not in AWS is {"Arn", "Delivery"/ROLES} (no
    "Rule") when there are policies or roles to look at, else None."""
    name, bus = _key(change)
    live = aws_reader.read_rule(environment, name=name, bus=bus)
    arn = (live or {}).get("Arn") or aws_reader.rule_arn_in(environment, name=name, bus=bus)
    if not arn:
        return live
    desired = None if change.action == ChangeAction.DELETE else change.spec
    extra: dict[str, Any] = {}
    ours = _ours(change)
    if ours or policies.needs(canonical_rule_spec(desired), rule_arn=arn):
        extra["Delivery"] = aws_reader.read_delivery(environment, spec=desired, ours=ours, arn=arn)
    found = _read_roles(environment, _role_arns(desired) | _role_arns(live))
    if found:
        extra[ROLES] = found
    if not extra:
        return live
    return {**live, **extra} if live else {"Arn": arn, **extra}


# ---------------------------------------------------------------------------------------------
# Execution roles made for a target (delivery.roles)
#
# "Create a new role for this specific resource" is chosen in the target step; the target's RoleArn
# is then the new role's (/service-role/<name>) and the step's inputs say which names are new. A
# role whose IAM tag says EventConsole created it for this rule is kept in step with the target too
# (its permissions follow an edited target). Such a role is deleted when no target of the rule names
# it any more (or the rule is deleted) and no other rule EventConsole manages in the environment
# names it, desired or live. Any other role is left alone.
# ---------------------------------------------------------------------------------------------
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def _role_arns(spec: dict[str, Any] | None) -> set[str]:
    return {t["RoleArn"] for t in (spec or {}).get("Targets") or [] if isinstance(t, dict) and t.get("RoleArn")}


def _read_roles(environment, arns: set[str]) -> dict[str, Any]:
    """role name -> read_role's answer, for this account's roles that exist (roles in another account,
    and roles these credentials may not read, are left out: the rule itself is still applied)."""
    found: dict[str, Any] = {}
    for arn in sorted(arns):
        name = roles.role_name_of(arn)
        if not name or not environment.account_id or roles.role_account_of(arn) != environment.account_id:
            continue
        try:
            role = roles.read_role(aws.client(environment, "iam"), name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in DENIED:
                log.warning("Role %s could not be read: %s", arn, aws.describe_error(exc))
                continue
            raise
        if role is not None:
            found[name] = role
    return found


def new_role_names(change) -> set[str]:
    """The role names the target step asked to create ("Create a new role for this specific resource")."""
    raw = (change.wizard or {}).get("targets") or {}
    last = lambda key: (raw.get(key) or [""])[-1] if isinstance(raw.get(key), list) else str(raw.get(key) or "")  # noqa: E731
    names = set()
    for key in raw:
        match = re.fullmatch(r"targets-(\d+)-role_mode", key)
        if match and last(key) == "new":
            name = last(f"targets-{match.group(1)}-new_role_name").strip()
            if name:
                names.add(name)
    return names


def _new_roles(change, desired, live, arn: str) -> list[roles.NewRole]:
    account = change.environment.account_id
    if desired is None or not arn or not account:
        return []
    roles_live = (live or {}).get(ROLES) or {}
    asked = new_role_names(change) if change.action != ChangeAction.DELETE else set()
    found: dict[str, roles.NewRole] = {}
    for target in desired.get("Targets") or []:
        role_arn = target.get("RoleArn") or ""
        name = roles.role_name_of(role_arn)
        if not name or name in found or roles.role_account_of(role_arn) != account:
            continue
        if not roles.can_create_rule_role(roles.rule_target_kind(target.get("Arn", ""))):
            continue
        if name in asked or roles.created_for(roles_live.get(name)) == arn:
            found[name] = new_role_for(target, rule_arn=arn, account_id=account)
    return list(found.values())


def _used_elsewhere(change, role_arn: str) -> bool:
    others = Rule.objects.filter(environment=change.environment)
    if change.rule_id:
        others = others.exclude(pk=change.rule_id)
    return any(role_arn in _role_arns(spec) for pair in others.values_list("desired_spec", "live_spec")
               for spec in pair)


def _roles_to_delete(change, desired, live, arn: str) -> list[dict[str, Any]]:
    """EventConsole's roles for this rule that no target keeps and no other managed rule names."""
    if not arn or not live:
        return []
    roles_live = live.get(ROLES) or {}
    kept = _role_arns(desired)
    found: dict[str, dict[str, Any]] = {}
    for role_arn in sorted(_role_arns(live) - kept):
        role = roles_live.get(roles.role_name_of(role_arn))
        if role and role["arn"] == role_arn and roles.created_for(role) == arn and role["name"] not in found \
                and not _used_elsewhere(change, role_arn):
            found[role["name"]] = role
    return list(found.values())


def record_call(change, call: ApiCall, response: dict[str, Any]) -> None:
    """After each call AWS accepted: remember the policy statements EventConsole added or removed."""
    if call.service in ("events", "iam") or not change.rule_id:
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
    name, bus = _key(change)
    arn = (live or {}).get("Arn") or aws_reader.rule_arn_in(environment, name=name, bus=bus)
    return rule_plan(desired, live, region=environment.region, account=environment.account_id,
                     new_roles=_new_roles(change, desired, live, arn),
                     delete_roles=_roles_to_delete(change, desired, live, arn))


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
    """A rule's live snapshot is stored as read, without what IAM has for its roles (None when the
    rule itself is not in AWS)."""
    if not live or "Rule" not in live:
        return None, {}
    return {k: v for k, v in live.items() if k != ROLES}, {}


def denormalise(rule: Rule, spec: dict[str, Any] | None, *, now=None) -> None:
    body = (spec or {}).get("Rule", {})
    rule.state = body.get("State", "ENABLED") if spec else ""
    rule.description = body.get("Description", "")
    rule.schedule_expression = body.get("ScheduleExpression", "")
    rule.targets_count = len((spec or {}).get("Targets") or [])
    # The inventory search's columns (changes.search): the pattern or expression, target and DLQ ARNs,
    # role ARNs (the rule's and its targets'), tags as key=value.
    targets = [t for t in (spec or {}).get("Targets") or [] if isinstance(t, dict)]
    rule.search_pattern = search_lines([compact_json(body.get("EventPattern")), body.get("ScheduleExpression")])
    rule.search_targets = search_lines([t.get("Arn") for t in targets]
                                       + [(t.get("DeadLetterConfig") or {}).get("Arn") for t in targets])
    rule.search_roles = search_lines([body.get("RoleArn")] + [t.get("RoleArn") for t in targets])
    rule.search_tags = search_lines([f"{t.get('Key', '')}={t.get('Value', '')}"
                                     for t in (spec or {}).get("Tags") or [] if isinstance(t, dict)])


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


# ---------------------------------------------------------------------------------------------
# What a reviewer reads (changes.review_difference)
# ---------------------------------------------------------------------------------------------
def review_parts(spec: dict[str, Any] | None, *, now) -> ReviewParts:
    """The rule as a reviewer reads it: its pattern (as JSON, in words, and the catalog samples it
    matches) or its schedule (in words, next runs in UTC), its targets by Id, its tags, the rest."""
    spec = spec if isinstance(spec, dict) else {}
    body = spec.get("Rule") if isinstance(spec.get("Rule"), dict) else {}
    parts = ReviewParts(no_input="The matched event", samples=[], targets=keyed(spec.get("Targets"), "Id"),
                        tags={name: str(tag.get("Value", "")) for name, tag in keyed(spec.get("Tags"), "Key").items()},
                        settings={k: v for k, v in body.items() if k not in ("EventPattern", "ScheduleExpression")})
    if body.get("EventPattern"):
        _pattern_parts(parts, body["EventPattern"])
    if body.get("ScheduleExpression"):
        parts.expression = str(body["ScheduleExpression"])
        parts.runs, parts.runs_note = _runs(parts.expression, body.get("State", "ENABLED"), now=now)
    return parts


def _pattern_parts(parts: ReviewParts, text: Any) -> None:
    """The pattern as JSON, in words and by the samples it matches (within the Sandbox's time budget)."""
    try:
        parts.pattern = safejson.loads(text) if isinstance(text, str) else text
    except safejson.InvalidJSON as exc:
        parts.pattern, parts.samples, parts.pattern_problem = text, None, f"The pattern is not JSON: {exc}"
        return
    try:
        with patterns.match_budget(settings.SANDBOX_TIME_BUDGET_SECONDS):
            parts.pattern_words = patterns.describe(parts.pattern)
            parts.samples = catalog.samples_matching(parts.pattern)
    except patterns.PatternError as exc:
        parts.pattern_problem, parts.samples = f"The pattern is not valid: {exc}", None
    except patterns.MatchBudgetExceeded:
        parts.samples = None
        parts.pattern_problem = "The catalog's samples could not be checked in the time allowed."


def _runs(expression: str, state: str, *, now) -> tuple[list, str]:
    """A scheduled rule's next runs (EventBridge rules run in UTC), or why there are none."""
    if state != "ENABLED":
        return [], "Disabled: it does not run."
    try:
        runs = expressions.next_runs(expression, "UTC", now, RUNS_SHOWN)
    except (expressions.ExpressionError, ValueError):
        return [], "The expression is not valid."
    return runs, "" if runs else "No run ahead."


# ---------------------------------------------------------------------------------------------
# Discovery (inventory.discovery)
# ---------------------------------------------------------------------------------------------
discover = aws_reader.discover
DISCOVER_FIELDS = aws_reader.DISCOVER_FIELDS
DISCOVER_SERVICES = aws_reader.DISCOVER_SERVICES
stack_key = aws_reader.stack_key
