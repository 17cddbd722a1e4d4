"""plan(desired, live) -> the fewest EventBridge API calls that make live equal desired. Pure.

Creating a rule: PutRule, PutTargets (+ TagResource when it has tags). Updating: PutRule only
when a rule field changed (EnableRule/DisableRule when only the state did), RemoveTargets for
targets that went away, PutTargets for new or changed ones, TagResource/UntagResource for tag
changes. Deleting: RemoveTargets, then DeleteRule. In sync: no call at all.

Then what lets the targets receive events (delivery.policies): Lambda AddPermission, the topic or
queue policy rewritten with a statement added, the CloudWatch Logs resource policy; and the removal
of the statements EventConsole added that no target needs any more. Only when the live state
carries what the reader learnt of those policies (`live["Delivery"]`); a rule that is not in AWS
yet is then `{"Delivery": …}` with no "Rule".

Execution roles made for a target ("Create a new role for this specific resource", delivery.roles):
their CreateRole and PutRolePolicy come first, only what IAM does not have yet (`live[ROLES]`, what
read_role found for each role name; the caller says which roles are to be made: `new_roles`).
EventBridge's PutTargets does not check that it could assume the role (it does so when it delivers an
event, and retries a failed delivery under the target's retry policy), so no wait for IAM is needed.
An existing role whose trust policy does not let EventBridge assume it for this rule (a role made for
another rule) is warned about on the PutTargets line. Roles the caller says to remove (`delete_roles`: EventConsole's, used by no other rule) go last,
after the targets that named them.
"""
from __future__ import annotations

from typing import Any

from changes.calls import ApiCall
from delivery import policies, roles

from .spec import RULE_FIELDS, canonical_rule_spec, rule_arn

ROLES = "ExecutionRoles"  # in the live state: role name -> delivery.roles.read_role's answer (None: no such role)


def new_role_for(target: dict[str, Any], *, rule_arn: str, account_id: str) -> roles.NewRole:
    """The role "Create a new role for this specific resource" makes for one target: EventBridge may
    assume it only for this rule of this account; it may invoke the target (and send to its DLQ)."""
    arn = target.get("Arn", "")
    return roles.NewRole(
        name=roles.role_name_of(target.get("RoleArn", "")), policy_name=roles.RULE_POLICY_NAME, created_for=rule_arn,
        trust=roles.rule_trust_policy(account_id=account_id, rule_arn=rule_arn),
        permissions=roles.rule_permissions_policy(
            roles.rule_target_kind(arn), arn,
            ecs_task_definition=(target.get("EcsParameters") or {}).get("TaskDefinitionArn", ""),
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn", "")),
        description=f"EventBridge execution role for target {target.get('Id', '')} of rule {rule_arn}")


def _rule_body(rule: dict[str, Any]) -> dict[str, Any]:
    # PutRule replaces every field it is not given, so the body is always the whole rule.
    return {k: rule[k] for k in RULE_FIELDS if k in rule}


def plan(desired: dict[str, Any] | None, live: dict[str, Any] | None, *, region: str = "",
         account: str = "", new_roles: list[roles.NewRole] = (),
         delete_roles: list[dict[str, Any]] = ()) -> list[ApiCall]:
    delivery = (live or {}).get("Delivery")
    rule_live = live if live and "Rule" in live else None
    arn = (live or {}).get("Arn") or (rule_arn(region=region, account=account, bus=_bus(desired or live),
                                               name=_name(desired or live)) if region and account else "")
    roles_live = (live or {}).get(ROLES) or {}
    calls: list[ApiCall] = []
    for role in new_roles:
        calls += roles.create_role_calls(role, roles_live.get(role.name))
    made = {role.name for role in new_roles}
    warnings = [roles.rule_trust_warning(role["name"], role.get("trust"),
                                         context=roles.rule_context(account_id=account, rule_arn=arn))
                for role in (roles_live.get(roles.role_name_of(t.get("RoleArn", ""))) for t in
                             (desired or {}).get("Targets") or [] if isinstance(t, dict))
                if role and role["name"] not in made and arn]
    calls += _plan_rule(desired, rule_live, arn, warnings=[w for w in dict.fromkeys(warnings) if w])
    if delivery is not None and arn:
        calls += policies.plan(policies.needs(canonical_rule_spec(desired), rule_arn=arn), delivery,
                               delivery.get("Ours") or [], rule_arn=arn)
    for role_live in delete_roles:
        calls += roles.delete_role_calls(role_live)
    return calls


def _bus(spec: dict[str, Any] | None) -> str:
    return ((spec or {}).get("Rule") or {}).get("EventBusName") or "default"


def _name(spec: dict[str, Any] | None) -> str:
    return ((spec or {}).get("Rule") or {}).get("Name") or ""


def _plan_rule(desired: dict[str, Any] | None, live: dict[str, Any] | None, arn: str, *,
               warnings: list[str] = ()) -> list[ApiCall]:
    want, have = canonical_rule_spec(desired), canonical_rule_spec(live)
    if want is None:
        return _plan_delete(have) if have else []
    name, bus = want["Rule"]["Name"], want["Rule"]["EventBusName"]
    where = f"{name} on bus {bus}"
    keys = {"Rule": name, "EventBusName": bus}
    calls: list[ApiCall] = []

    if have is None:
        body = _rule_body(want["Rule"])
        have = {"Rule": {}, "Targets": [], "Tags": []}
        if want["Tags"] and not arn:
            body["Tags"] = want["Tags"]  # no account to build the ARN from: tag at creation instead
            have["Tags"] = want["Tags"]
        calls.append(ApiCall("events", "PutRule", body, f"Create rule {where}"))
    elif want["Rule"] != have["Rule"]:
        without_state = lambda rule: {k: v for k, v in rule.items() if k != "State"}  # noqa: E731
        state = want["Rule"]["State"]
        if without_state(want["Rule"]) == without_state(have["Rule"]) and state in ("ENABLED", "DISABLED"):
            verb = "Enable" if state == "ENABLED" else "Disable"
            calls.append(ApiCall("events", f"{verb}Rule", {"Name": name, "EventBusName": bus}, f"{verb} rule {where}"))
        else:
            calls.append(ApiCall("events", "PutRule", _rule_body(want["Rule"]), f"Update rule {where}"))

    targets_have = {t["Id"]: t for t in have["Targets"]}
    targets_want = {t["Id"]: t for t in want["Targets"]}
    removed = sorted(set(targets_have) - set(targets_want))
    if removed:
        calls.append(ApiCall("events", "RemoveTargets", {**keys, "Ids": removed},
                             f"Remove target{'s' if len(removed) > 1 else ''} {', '.join(removed)} from {name}"))
    changed = [t for target_id, t in targets_want.items() if targets_have.get(target_id) != t]
    if changed:
        ids = ", ".join(t["Id"] for t in changed)
        note = "".join(f". Warning: {w}" for w in warnings)
        calls.append(ApiCall("events", "PutTargets", {**keys, "Targets": changed},
                             f"Put target{'s' if len(changed) > 1 else ''} {ids} on {name}{note}"))

    tags_have = {t["Key"]: t["Value"] for t in have["Tags"]}
    tags_want = {t["Key"]: t["Value"] for t in want["Tags"]}
    to_tag = [{"Key": k, "Value": v} for k, v in sorted(tags_want.items()) if tags_have.get(k) != v]
    to_untag = sorted(set(tags_have) - set(tags_want))
    if to_tag:
        calls.append(ApiCall("events", "TagResource", {"ResourceARN": arn, "Tags": to_tag},
                             f"Tag {name}: {', '.join(t['Key'] for t in to_tag)}"))
    if to_untag:
        calls.append(ApiCall("events", "UntagResource", {"ResourceARN": arn, "TagKeys": to_untag},
                             f"Untag {name}: {', '.join(to_untag)}"))
    return calls


def _plan_delete(have: dict[str, Any]) -> list[ApiCall]:
    name, bus = have["Rule"]["Name"], have["Rule"]["EventBusName"]
    calls = []
    ids = [t["Id"] for t in have["Targets"]]
    if ids:
        calls.append(ApiCall("events", "RemoveTargets", {"Rule": name, "EventBusName": bus, "Ids": ids},
                             f"Remove all targets from {name} ({', '.join(ids)})"))
    calls.append(ApiCall("events", "DeleteRule", {"Name": name, "EventBusName": bus}, f"Delete rule {name} on bus {bus}"))
    return calls
