"""A rule's desired spec, in the API's own shape, and the one validator for it.

    {"Rule":    PutRule body (Name, EventBusName, Description, State, EventPattern | ScheduleExpression, RoleArn),
     "Targets": [PutTargets entries],
     "Tags":    [{"Key", "Value"}]}

Empty optional fields are left out. `EventPattern` is canonical JSON (sorted keys, minified), as
AWS stores it, so desired and live compare exactly. The forms, submit and apply all call
`validate_rule_spec`; errors are keyed by the field path ("Rule.Name", "Targets[1].Arn").
"""
from __future__ import annotations

import json
import re
from typing import Any

from awslang import expressions, patterns
from changes.constraints import check_number, check_string, member, shape
from core import safejson
from delivery import roles


TARGETS_PER_RULE = 5  # the EventBridge quota: not adjustable, and not in the API model
TAGS_PER_RESOURCE = 50
PATTERN_SIZE_DEFAULT = 2048  # the default quota "Event pattern size" (adjustable up to 4,096)
RULE_FIELDS = ("Name", "EventBusName", "Description", "State", "EventPattern", "ScheduleExpression", "RoleArn")
NAME_CHARS = "letters, digits, '.', '-' and '_'"
ARN_RE = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:(?P<resource>.+)$")
# Target types whose invocation needs an execution role, by the ARN's service: read from the one list
# (delivery.roles.RULE_TARGETS), which also says which targets a resource-based policy opens instead.
ROLE_REQUIRED = roles.role_required_services()


def canonical_pattern(pattern: str | dict) -> str:
    value = safejson.loads(pattern, what="The pattern") if isinstance(pattern, str) else pattern
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_arn(arn: str) -> dict[str, str] | None:
    match = ARN_RE.match(arn or "")
    return match.groupdict() if match else None


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


DEFAULT_RETRY_POLICY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}  # what AWS uses when none is set


def _canonical_target(target: dict[str, Any]) -> dict[str, Any]:
    target = _drop_empty(target)
    if target.get("RetryPolicy") == DEFAULT_RETRY_POLICY:
        del target["RetryPolicy"]  # the same as no retry policy at all
    return target


def canonical_rule_spec(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The spec with empties dropped, the pattern canonical, targets by Id and tags by Key."""
    if spec is None:
        return None
    rule = _drop_empty({k: spec.get("Rule", {}).get(k) for k in RULE_FIELDS})
    rule.setdefault("EventBusName", "default")
    rule.setdefault("State", "ENABLED")
    if rule.get("EventPattern"):
        try:
            rule["EventPattern"] = canonical_pattern(rule["EventPattern"])
        except (TypeError, ValueError, RecursionError):
            pass  # left as typed; the validator says what is wrong with it
    targets = sorted((_canonical_target(t) for t in spec.get("Targets") or []), key=lambda t: str(t.get("Id", "")))
    tags = sorted((_drop_empty(t) for t in spec.get("Tags") or []), key=lambda t: str(t.get("Key", "")))
    for tag in tags:
        tag.setdefault("Value", "")
    return {"Rule": rule, "Targets": targets, "Tags": tags}


def rule_arn(*, region: str, account: str, bus: str, name: str) -> str:
    path = name if bus == "default" else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def _add(errors: dict[str, list[str]], key: str, messages: list[str]) -> None:
    if messages:
        errors.setdefault(key, []).extend(messages)


def role_label(parsed: dict[str, str]) -> str:
    """How the console names a target that needs a role, from its parsed ARN."""
    arn = f"arn:aws:{parsed.get('service', '')}:{parsed.get('region', '')}:{parsed.get('account') or ''}:" \
          f"{parsed.get('resource', '')}"
    kind = roles.rule_target_kind(arn)
    if kind:
        return roles.RULE_TARGETS[kind].words
    return ROLE_REQUIRED.get(parsed.get("service", ""), parsed.get("service", ""))


def _compiled_or_none(pattern: str):
    try:
        return re.compile(pattern if pattern.startswith("^") else f"^(?:{pattern})$")
    except re.error:  # a Java-only class such as \\p{L}: AWS checks it, we cannot here
        return None


def model_errors(value: Any, shape_obj, path: str = "") -> list[tuple[str, str]]:
    """Every rule of botocore's model that `value` breaks, as (member path, message): unknown members,
    required members, types, lengths, ranges, enums and (where Python can read it) patterns."""
    found: list[tuple[str, str]] = []
    label = path or shape_obj.name
    kind = shape_obj.type_name
    meta = shape_obj.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return [(path, f"{label} must be an object.")]
        for name in shape_obj.required_members:
            if value.get(name) in (None, ""):
                found.append((f"{path}.{name}".lstrip("."), f"{name} is required."))
        for name, item in value.items():
            if name not in shape_obj.members:
                found.append((f"{path}.{name}".lstrip("."), f"{name} is not a member of {shape_obj.name}."))
            elif item is not None:
                found += model_errors(item, shape_obj.members[name], f"{path}.{name}".lstrip("."))
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [(path, f"{label} must be a list.")]
        if "min" in meta and len(value) < meta["min"]:
            found.append((path, f"{label} needs at least {meta['min']} item(s)."))
        if "max" in meta and len(value) > meta["max"]:
            found.append((path, f"{label} can have at most {meta['max']} items (it has {len(value)})."))
        for item in value:
            found += model_errors(item, shape_obj.member, path)
        return found
    if kind == "map":
        if not isinstance(value, dict):
            return [(path, f"{label} must be an object.")]
        if "max" in meta and len(value) > meta["max"]:
            found.append((path, f"{label} can have at most {meta['max']} entries (it has {len(value)})."))
        for key, item in value.items():
            found += model_errors(key, shape_obj.key, path) + model_errors(item, shape_obj.value, path)
        return found
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [(path, f"{label} must be a whole number.")]
        low, high = meta.get("min"), meta.get("max")
        if low is not None and value < low or high is not None and value > high:
            bounds = f"between {low} and {high}" if high is not None and low is not None else (
                f"at least {low}" if low is not None else f"at most {high}")
            found.append((path, f"{label} must be {bounds}."))
        return found
    if kind == "boolean":
        return [] if isinstance(value, bool) else [(path, f"{label} must be true or false.")]
    if kind == "string":
        if not isinstance(value, str):
            return [(path, f"{label} must be text.")]
        if "min" in meta and len(value) < meta["min"]:
            found.append((path, f"{label} must be at least {meta['min']} characters."))
        if "max" in meta and len(value) > meta["max"]:
            found.append((path, f"{label} must be at most {meta['max']} characters (it has {len(value)})."))
        enum = getattr(shape_obj, "enum", None)
        if enum and value not in enum:
            found.append((path, f"{label} must be one of {', '.join(enum)}."))
        compiled = _compiled_or_none(meta["pattern"]) if "pattern" in meta else None
        if compiled is not None and value and not compiled.match(value):
            found.append((path, f"{label} is not in the form AWS accepts."))
    return found


def target_model_errors(target: dict[str, Any]) -> list[tuple[str, str]]:
    """`model_errors` of one PutTargets entry against botocore's events `Target` shape."""
    from changes.constraints import _model

    return model_errors(target, _model("events").shape_for("Target"))


def _validate_target(target: dict[str, Any], key: str, *, region: str | None, errors: dict[str, list[str]]) -> None:
    _add(errors, f"{key}.Id", check_string(target.get("Id"), shape("events", "TargetId"), label="Target Id",
                                           allowed=NAME_CHARS))
    covered = ("Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig",
               "SqsParameters", "KinesisParameters")
    for path, message in target_model_errors(target):
        if path.split(".")[0] not in covered:  # those have their own checks, with the console's words
            _add(errors, f"{key}.{path}", [message])
    arn = target.get("Arn") or ""
    arn_errors = check_string(arn, member("events", "Target", "Arn"), label="Target ARN")
    parsed = parse_arn(arn)
    if arn and parsed is None:
        arn_errors.append("Target ARN is not an ARN (arn:aws:<service>:<region>:<account>:<resource>).")
    _add(errors, f"{key}.Arn", arn_errors)
    service = parsed["service"] if parsed else ""
    if target.get("RoleArn"):
        _add(errors, f"{key}.RoleArn", check_string(target["RoleArn"], shape("events", "RoleArn"), label="Role ARN"))
        role = parse_arn(target["RoleArn"]) or {}
        if role.get("service") == "iam" and role.get("resource", "").startswith("user/"):
            _add(errors, f"{key}.RoleArn", ["That is an IAM user, not a role: EventBridge can only assume a role "
                                            "(arn:aws:iam::<account>:role/…)."])
        elif not role.get("resource", "").startswith("role/"):
            _add(errors, f"{key}.RoleArn", ["Execution role must be an IAM role ARN (arn:aws:iam::<account>:role/…)."])
    elif service in ROLE_REQUIRED:
        _add(errors, f"{key}.RoleArn", [f"A {role_label(parsed)} target needs an execution role."])
    inputs = [name for name in ("Input", "InputPath", "InputTransformer") if target.get(name)]
    if len(inputs) > 1:
        _add(errors, f"{key}.Input", [f"Choose one way to configure the target input, not {' and '.join(inputs)}."])
    if target.get("Input"):
        _add(errors, f"{key}.Input", check_string(target["Input"], shape("events", "TargetInput"), label="Constant"))
        try:
            safejson.loads(target["Input"], what="Constant")
        except safejson.InvalidJSON as exc:
            _add(errors, f"{key}.Input", [str(exc)])
    if target.get("InputPath"):
        _add(errors, f"{key}.InputPath",
             check_string(target["InputPath"], shape("events", "TargetInputPath"), label="Part of the matched event"))
    if target.get("Input") or target.get("InputPath") or target.get("InputTransformer"):
        from awslang.transform import TransformError, validate_target_input

        try:
            validate_target_input(target)
        except TransformError as exc:
            field = "InputTransformer" if target.get("InputTransformer") else inputs[0]
            _add(errors, f"{key}.{field}", [str(exc)])
    retry = target.get("RetryPolicy") or {}
    _add(errors, f"{key}.RetryPolicy.MaximumEventAgeInSeconds", check_number(
        retry.get("MaximumEventAgeInSeconds"), member("events", "RetryPolicy", "MaximumEventAgeInSeconds"),
        label="Maximum age of event", unit="seconds (1 minute to 24 hours)"))
    _add(errors, f"{key}.RetryPolicy.MaximumRetryAttempts", check_number(
        retry.get("MaximumRetryAttempts"), member("events", "RetryPolicy", "MaximumRetryAttempts"),
        label="Retry attempts"))
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq:
        dlq_arn = parse_arn(dlq)
        if not dlq_arn or dlq_arn["service"] != "sqs":
            _add(errors, f"{key}.DeadLetterConfig.Arn", ["The dead-letter queue must be an SQS queue ARN."])
        elif dlq_arn["resource"].endswith(".fifo"):
            _add(errors, f"{key}.DeadLetterConfig.Arn", ["The dead-letter queue must be a standard queue, not FIFO."])
        elif region and dlq_arn["region"] != region:
            _add(errors, f"{key}.DeadLetterConfig.Arn",
                 [f"The dead-letter queue must be in the rule's Region ({region}), not {dlq_arn['region']}."])
    if service == "sqs" and parsed and parsed["resource"].endswith(".fifo"):
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        _add(errors, f"{key}.SqsParameters.MessageGroupId",
             check_string(group, member("events", "SqsParameters", "MessageGroupId"),
                          label="Message group ID (needed for a FIFO queue)"))
    if service == "kinesis":
        path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
        _add(errors, f"{key}.KinesisParameters.PartitionKeyPath",
             check_string(path, member("events", "KinesisParameters", "PartitionKeyPath"), label="Partition key path",
                          required=False))


validate_target = _validate_target  # one entry's checks, for the target step's form


def validate_rule_spec(spec: dict[str, Any], *, region: str | None = None,
                       pattern_max: int = PATTERN_SIZE_DEFAULT) -> dict[str, list[str]]:
    """Every AWS constraint the spec breaks, by field path. Empty when valid."""
    errors: dict[str, list[str]] = {}
    rule = spec.get("Rule") or {}
    _add(errors, "Rule.Name", check_string(rule.get("Name"), shape("events", "RuleName"), label="Name",
                                           allowed=NAME_CHARS))
    _add(errors, "Rule.Description", check_string(rule.get("Description"), shape("events", "RuleDescription"),
                                                  label="Description", required=False))
    bus = rule.get("EventBusName") or "default"
    _add(errors, "Rule.EventBusName", check_string(bus, shape("events", "EventBusNameOrArn"), label="Event bus",
                                                   allowed="letters, digits, '/', '.', '-' and '_'"))
    _add(errors, "Rule.State", check_string(rule.get("State") or "ENABLED", shape("events", "RuleState"), label="State"))
    pattern, schedule = rule.get("EventPattern"), rule.get("ScheduleExpression")
    if not pattern and not schedule:
        _add(errors, "Rule.EventPattern", ["A rule needs an event pattern or a schedule."])
    if pattern:
        try:
            patterns.validate(pattern, max_size=pattern_max)
        except patterns.PatternError as exc:
            _add(errors, "Rule.EventPattern", [str(exc)])
    if schedule:
        if bus != "default":
            _add(errors, "Rule.ScheduleExpression", ["Scheduled rules can only be created on the default event bus."])
        if schedule.startswith("at("):
            _add(errors, "Rule.ScheduleExpression",
                 ["One-time at() schedules exist only in EventBridge Scheduler; use a schedule instead."])
        else:
            try:
                expressions.validate(schedule)
            except expressions.ExpressionError as exc:
                _add(errors, "Rule.ScheduleExpression", [str(exc)])
    if rule.get("RoleArn"):
        _add(errors, "Rule.RoleArn", check_string(rule["RoleArn"], shape("events", "RoleArn"), label="Role ARN"))

    targets = spec.get("Targets") or []
    if not targets:
        _add(errors, "Targets", ["Add at least one target."])
    if len(targets) > TARGETS_PER_RULE:
        _add(errors, "Targets", [f"A rule can have at most {TARGETS_PER_RULE} targets (an AWS quota that cannot be "
                                 f"raised); this one has {len(targets)}."])
    seen: set[str] = set()
    for index, target in enumerate(targets):
        _validate_target(target, f"Targets[{index}]", region=region, errors=errors)
        if target.get("Id") in seen:
            _add(errors, f"Targets[{index}].Id", [f"Target Id {target['Id']!r} is used twice; Ids must be unique."])
        seen.add(target.get("Id"))

    tags = spec.get("Tags") or []
    if len(tags) > TAGS_PER_RESOURCE:
        _add(errors, "Tags", [f"A rule can have at most {TAGS_PER_RESOURCE} tags."])
    keys: set[str] = set()
    for index, tag in enumerate(tags):
        key = tag.get("Key") or ""
        _add(errors, f"Tags[{index}].Key", check_string(key, shape("events", "TagKey"), label="Tag key"))
        _add(errors, f"Tags[{index}].Value", check_string(tag.get("Value") or "", shape("events", "TagValue"),
                                                          label="Tag value", required=False))
        if key.lower().startswith("aws:"):
            _add(errors, f"Tags[{index}].Key", ["Tag keys starting with aws: are reserved for AWS."])
        if key in keys:
            _add(errors, f"Tags[{index}].Key", [f"Tag key {key!r} is used twice."])
        keys.add(key)
    return errors
