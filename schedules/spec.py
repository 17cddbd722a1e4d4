"""A schedule's desired spec is the CreateSchedule body, and the one validator for it.

    {"Name", "GroupName", "Description", "ScheduleExpression", "ScheduleExpressionTimezone",
     "StartDate", "EndDate", "FlexibleTimeWindow": {"Mode", "MaximumWindowInMinutes"},
     "Target": {"Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig", "EcsParameters",
                "EventBridgeParameters", "KinesisParameters", "SqsParameters"},
     "ActionAfterCompletion", "State", "KmsKeyArn"}

StartDate and EndDate are ISO 8601 strings in UTC ("2026-12-01T08:00:00Z") so the spec is JSON;
they become datetimes only when boto3 is called (schedules.plan.ScheduleCall).

`canonical_schedule_spec` fills in what AWS fills in when a field is left out (group default,
time zone UTC, state ENABLED, no action after completion, retry 24 h / 185) so that desired and
live compare exactly. The forms, submit and apply all call `validate_schedule_spec`; errors are
keyed by the field path ("Name", "Target.RoleArn", "FlexibleTimeWindow.MaximumWindowInMinutes").
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.session import get_session

from awslang import expressions
from changes.constraints import check_number, check_string, member, shape
from core import safejson

from . import targets

INPUT_MAX_CHARS = 256 * 1024  # a schedule's payload: 256 KB

SCHEDULE_FIELDS = ("Name", "GroupName", "Description", "ScheduleExpression", "ScheduleExpressionTimezone",
                   "StartDate", "EndDate", "FlexibleTimeWindow", "Target", "ActionAfterCompletion", "State",
                   "KmsKeyArn")
TARGET_FIELDS = ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig", "EcsParameters",
                 "EventBridgeParameters", "KinesisParameters", "SqsParameters", "SageMakerPipelineParameters")
DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}  # what AWS stores when none is sent
NAME_CHARS = "letters, numbers, '.', '-' and '_'"
S = "scheduler"


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------
def parse_date(value: Any) -> datetime | None:
    """An aware UTC datetime from a datetime or an ISO 8601 string; None when it is neither."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_utc(value: Any) -> Any:
    """"2026-12-01T08:00:00Z" (whole seconds, as AWS keeps them); anything unparseable unchanged."""
    moment = parse_date(value)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else value


def iso_precise(value: Any) -> str:
    """ISO UTC with microseconds: for LastModificationDate, which tells one write from the next."""
    moment = parse_date(value)
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


# ---------------------------------------------------------------------------------------------
# Canonical form
# ---------------------------------------------------------------------------------------------
def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v is not None and v != "" and v != [] and v != {}}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def canonical_schedule_spec(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The spec with empties dropped and AWS's defaults filled in: what GetSchedule would return."""
    if spec is None:
        return None
    body = _drop_empty({k: spec.get(k) for k in SCHEDULE_FIELDS})
    body.setdefault("GroupName", "default")
    body.setdefault("ScheduleExpressionTimezone", "UTC")
    body.setdefault("State", "ENABLED")
    body.setdefault("ActionAfterCompletion", "NONE")
    window = dict(body.get("FlexibleTimeWindow") or {"Mode": "OFF"})
    if window.get("Mode") == "OFF":
        window.pop("MaximumWindowInMinutes", None)
    body["FlexibleTimeWindow"] = window
    for name in ("StartDate", "EndDate"):
        if name in body:
            body[name] = iso_utc(body[name])
    target = {k: v for k, v in (body.get("Target") or {}).items() if k in TARGET_FIELDS}
    if target:
        target["RetryPolicy"] = {**DEFAULT_RETRY, **(target.get("RetryPolicy") or {})}
        body["Target"] = target
    return body


def comparable(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The canonical spec with a JSON Input compared as JSON (AWS keeps the text as sent)."""
    body = canonical_schedule_spec(spec)
    if body and (body.get("Target") or {}).get("Input"):
        try:
            value = safejson.loads(body["Target"]["Input"])
        except safejson.InvalidJSON:
            return body
        body["Target"] = {**body["Target"], "Input": json.dumps(value, sort_keys=True, separators=(",", ":"))}
    return body


def is_one_time(spec: dict[str, Any] | None) -> bool:
    return ((spec or {}).get("ScheduleExpression") or "").startswith("at(")


def ended_by(spec: dict[str, Any] | None, now: datetime) -> bool:
    """The schedule has an EndDate, and it has passed by `now`."""
    end = parse_date((spec or {}).get("EndDate"))
    return end is not None and end <= now


def target_service(arn: str) -> str:
    """The service of a templated target ARN ("lambda", "sqs", ...); "" for anything else."""
    parts = (arn or "").split(":", 5)
    return parts[2] if len(parts) == 6 and parts[0] == "arn" else ""


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
def _add(errors: dict[str, list[str]], key: str, messages: list[str]) -> None:
    if messages:
        errors.setdefault(key, []).extend(messages)


def _validate_expression(spec: dict[str, Any], errors: dict[str, list[str]]) -> None:
    expression = spec.get("ScheduleExpression") or ""
    _add(errors, "ScheduleExpression", check_string(expression, shape(S, "ScheduleExpression"),
                                                    label="Schedule expression"))
    if expression:
        try:
            # Scheduler takes rate(1 days) as well as rate(1 day)
            # (docs/aws-behaviours.md, "Schedule expressions").
            expressions.validate(expression, strict_rate_units=False)
        except expressions.ExpressionError as exc:
            _add(errors, "ScheduleExpression", [str(exc)])
    zone = spec.get("ScheduleExpressionTimezone") or "UTC"
    zone_errors = check_string(zone, shape(S, "ScheduleExpressionTimezone"), label="Time zone")
    if not zone_errors:
        try:
            expressions.next_runs("rate(1 day)", zone, datetime.now(UTC), 0)
        except expressions.ExpressionError as exc:
            zone_errors = [str(exc)]
    _add(errors, "ScheduleExpressionTimezone", zone_errors)
    start, end = spec.get("StartDate"), spec.get("EndDate")
    for name, value, label in (("StartDate", start, "Start date and time"), ("EndDate", end, "End date and time")):
        if value and parse_date(value) is None:
            _add(errors, name, [f"{label} is not a date and time (ISO 8601, e.g. 2026-12-01T08:00:00Z)."])
    if start and end and parse_date(start) and parse_date(end) and parse_date(end) <= parse_date(start):
        _add(errors, "EndDate", ["End date and time must be after the start date and time."])
    window = spec.get("FlexibleTimeWindow") or {}
    mode = window.get("Mode") or ""
    _add(errors, "FlexibleTimeWindow.Mode", check_string(mode, shape(S, "FlexibleTimeWindowMode"),
                                                         label="Flexible time window"))
    minutes = window.get("MaximumWindowInMinutes")
    if mode == "FLEXIBLE" and minutes is None:
        _add(errors, "FlexibleTimeWindow.MaximumWindowInMinutes",
             ["A flexible time window needs its maximum length in minutes (1 to 1440)."])
    elif mode == "OFF" and minutes is not None:
        _add(errors, "FlexibleTimeWindow.MaximumWindowInMinutes",
             ["With the flexible time window Off, leave its length empty."])
    _add(errors, "FlexibleTimeWindow.MaximumWindowInMinutes", check_number(
        minutes, shape(S, "MaximumWindowInMinutes"), label="Flexible time window", unit="minutes"))


def _validate_templated(target: dict[str, Any], service: str, errors: dict[str, list[str]]) -> None:
    text = target.get("Input")
    kind = targets.TEMPLATED.get(service)
    if kind and kind.input_json and text:
        _, error = targets.parse_input(text)
        if error:
            _add(errors, "Target.Input", [f"{kind.input_label}: {error}"])
    if service == "sqs" and (target.get("Arn") or "").endswith(".fifo"):
        _add(errors, "Target.SqsParameters.MessageGroupId", check_string(
            (target.get("SqsParameters") or {}).get("MessageGroupId"), shape(S, "MessageGroupId"),
            label="Message group ID (needed for a FIFO queue)"))
    if service == "kinesis":
        _add(errors, "Target.KinesisParameters.PartitionKey", check_string(
            (target.get("KinesisParameters") or {}).get("PartitionKey"), shape(S, "TargetPartitionKey"),
            label="Partition key"))
    if service == "events":
        params = target.get("EventBridgeParameters") or {}
        _add(errors, "Target.EventBridgeParameters.DetailType",
             check_string(params.get("DetailType"), shape(S, "DetailType"), label="Detail type"))
        source = params.get("Source") or ""
        source_errors = check_string(source, {k: v for k, v in shape(S, "Source").items() if k != "pattern"},
                                     label="Source")
        if source.startswith("aws."):
            source_errors.append("Source cannot start with aws. (reserved for AWS services).")
        _add(errors, "Target.EventBridgeParameters.Source", source_errors)
    if service == "ecs":
        _validate_ecs(target.get("EcsParameters") or {}, errors)
    if service == "sagemaker" and target.get("SageMakerPipelineParameters"):
        params = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList") or []
        _validate_ecs_items(errors, "Target.SageMakerPipelineParameters", params, "SageMakerPipelineParameterList",
                            "Pipeline parameter", (("Name", "SageMakerPipelineParameterName", "name", True),
                                                   ("Value", "SageMakerPipelineParameterValue", "value", True)))


def _validate_ecs(ecs: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Every member of Scheduler's EcsParameters shape, with the limits botocore's model gives."""
    key = "Target.EcsParameters"
    _add(errors, f"{key}.TaskDefinitionArn", check_string(ecs.get("TaskDefinitionArn"), shape(S, "TaskDefinitionArn"),
                                                          label="Task definition"))
    _add(errors, f"{key}.TaskCount", check_number(ecs.get("TaskCount"), shape(S, "TaskCount"), label="Task count"))
    if ecs.get("LaunchType"):
        _add(errors, f"{key}.LaunchType", check_string(ecs["LaunchType"], shape(S, "LaunchType"), label="Launch type"))
    providers = ecs.get("CapacityProviderStrategy") or []
    if ecs.get("LaunchType") and providers:
        _add(errors, f"{key}.CapacityProviderStrategy",
             ["Give a launch type or a capacity provider strategy, not both (ECS refuses the pair)."])
    _validate_ecs_items(errors, f"{key}.CapacityProviderStrategy", providers, "CapacityProviderStrategy",
                        "Capacity provider strategy", (
                            ("capacityProvider", "CapacityProvider", "capacity provider", True),
                            ("weight", "CapacityProviderStrategyItemWeight", "weight", False),
                            ("base", "CapacityProviderStrategyItemBase", "base", False)))
    _validate_ecs_items(errors, f"{key}.PlacementConstraints", ecs.get("PlacementConstraints") or [],
                        "PlacementConstraints", "Placement constraints", (
                            ("type", "PlacementConstraintType", "constraint type", False),
                            ("expression", "PlacementConstraintExpression", "expression", False)))
    _validate_ecs_items(errors, f"{key}.PlacementStrategy", ecs.get("PlacementStrategy") or [],
                        "PlacementStrategies", "Placement strategy", (
                            ("type", "PlacementStrategyType", "strategy type", False),
                            ("field", "PlacementStrategyField", "field", False)))
    for name, label in (("PlatformVersion", "Platform version"), ("Group", "Task group"),
                        ("PropagateTags", "Propagate tags"), ("ReferenceId", "Reference ID")):
        if ecs.get(name) not in (None, ""):
            _add(errors, f"{key}.{name}", check_string(ecs[name], shape(S, name), label=label))
    tags = ecs.get("Tags") or []
    limits = shape(S, "Tags")
    if len(tags) > limits.get("max", 50):
        _add(errors, f"{key}.Tags", [f"Tags: at most {limits['max']} per task (you gave {len(tags)})."])
    for tag in tags:
        for tag_key, tag_value in tag.items():
            _add(errors, f"{key}.Tags", check_string(tag_key, _TAG_KEY, label=f"Tag key {tag_key!r}"))
            _add(errors, f"{key}.Tags", check_string(tag_value, _TAG_VALUE, label=f"Tag value of {tag_key!r}"))
    vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration")
    if vpc is not None:
        path = f"{key}.NetworkConfiguration.awsvpcConfiguration"
        subnets, groups = vpc.get("Subnets") or [], vpc.get("SecurityGroups") or []
        low, high = shape(S, "Subnets").get("min", 1), shape(S, "Subnets").get("max", 16)
        if not subnets:
            _add(errors, f"{path}.Subnets", ["Enter at least one subnet for the task's network."])
        elif not low <= len(subnets) <= high:
            _add(errors, f"{path}.Subnets", [f"Subnets: between {low} and {high} (you gave {len(subnets)})."])
        # Security groups are optional: without any, ECS uses the VPC's default group (AWS accepts
        # Fargate with subnets and no security group). When given: 1 to 5.
        high = shape(S, "SecurityGroups").get("max", 5)
        if len(groups) > high:
            _add(errors, f"{path}.SecurityGroups", [f"Security groups: at most {high} (you gave {len(groups)})."])
        if vpc.get("AssignPublicIp"):
            _add(errors, f"{path}.AssignPublicIp", check_string(vpc["AssignPublicIp"], shape(S, "AssignPublicIp"),
                                                               label="Auto-assign public IP"))
    if ecs.get("LaunchType") == "FARGATE" and vpc is None:
        _add(errors, f"{key}.NetworkConfiguration.awsvpcConfiguration.Subnets",
             ["A FARGATE task needs a network: enter at least one subnet."])


def _tag_shape(part: str) -> dict:
    """Limits of an ECS tag's key or value (Scheduler's TagMap: a map, so not reachable by shape())."""
    found = getattr(get_session().get_service_model(S).shape_for("TagMap"), part)
    return {k: v for k, v in found.metadata.items() if k in ("min", "max", "pattern")}


_TAG_KEY, _TAG_VALUE = _tag_shape("key"), _tag_shape("value")


def _validate_ecs_items(errors, path: str, items: list, list_shape: str, label: str, fields) -> None:
    limits = shape(S, list_shape)
    if len(items) > limits.get("max", len(items)):
        _add(errors, path, [f"{label}: at most {limits['max']} (you gave {len(items)})."])
    for item in items:
        for name, shape_name, words, required in fields:
            value = item.get(name)
            rules = shape(S, shape_name)
            if isinstance(value, int) and not isinstance(value, bool):
                _add(errors, path, check_number(value, rules, label=f"{label} {words}"))
            elif value not in (None, "") or required:
                _add(errors, path, check_string(value, rules, label=f"{label} {words}"))


def _validate_target(target: dict[str, Any], errors: dict[str, list[str]]) -> None:
    arn = target.get("Arn") or ""
    _add(errors, "Target.Arn", check_string(arn, shape(S, "TargetArn"), label="Target"))
    universal = targets.parse_universal(arn)
    if arn and universal is None and not arn.startswith("arn:"):
        _add(errors, "Target.Arn",
             ["Target must be an ARN: a resource, or arn:aws:scheduler:::aws-sdk:<service>:<action>."])
    if arn.startswith(targets.UNIVERSAL_PREFIX) and universal is None:
        _add(errors, "Target.Arn", ["A universal target is arn:aws:scheduler:::aws-sdk:<service>:<apiAction>."])
    _add(errors, "Target.RoleArn", check_string(target.get("RoleArn"), shape(S, "RoleArn"), label="Execution role",
                                                allowed="an IAM role ARN (arn:aws:iam::<account>:role/<name>)"))
    if "Input" in target:
        _add(errors, "Target.Input", check_string(target["Input"], shape(S, "TargetInput"), label="Input"))
        if isinstance(target["Input"], str) and len(target["Input"]) > INPUT_MAX_CHARS:
            _add(errors, "Target.Input", [f"Input must have length less than or equal to {INPUT_MAX_CHARS:,} "
                                          f"(EventBridge Scheduler's 256 KB limit); it has {len(target['Input']):,}."])
        elif isinstance(target["Input"], str) and safejson.text_problem(target["Input"], "Input"):
            _add(errors, "Target.Input", [safejson.text_problem(target["Input"], "Input")])
    if universal is not None:
        service, action = universal
        for message in targets.check_universal(service, action, target.get("Input")):
            _add(errors, "Target.Input" if message.startswith("Input") else "Target.Arn", [message])
    else:
        _validate_templated(target, target_service(arn), errors)
    retry = target.get("RetryPolicy") or {}
    _add(errors, "Target.RetryPolicy.MaximumEventAgeInSeconds", check_number(
        retry.get("MaximumEventAgeInSeconds"), shape(S, "MaximumEventAgeInSeconds"), label="Maximum age of event",
        unit="seconds (1 minute to 24 hours)"))
    _add(errors, "Target.RetryPolicy.MaximumRetryAttempts", check_number(
        retry.get("MaximumRetryAttempts"), shape(S, "MaximumRetryAttempts"), label="Retry attempts"))
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None:
        _add(errors, "Target.DeadLetterConfig.Arn", check_string(
            dlq, shape(S, "DeadLetterConfigArnString"), label="Dead-letter queue",
            allowed="an SQS standard queue ARN (arn:aws:sqs:<region>:<account>:<queue>)"))


def validate_schedule_spec(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Every AWS constraint the spec breaks, by field path. Empty when valid.

    Independent of the clock: "in the future" checks belong to the forms (an existing schedule
    may keep a start date that has passed).
    """
    errors: dict[str, list[str]] = {}
    _add(errors, "Name", check_string(spec.get("Name"), member(S, "CreateScheduleInput", "Name"),
                                      label="Schedule name", allowed=NAME_CHARS))
    _add(errors, "GroupName", check_string(spec.get("GroupName") or "default", shape(S, "ScheduleGroupName"),
                                           label="Schedule group", allowed=NAME_CHARS))
    _add(errors, "Description", check_string(spec.get("Description"), shape(S, "Description"), label="Description",
                                             required=False))
    _validate_expression(spec, errors)
    if "Target" not in spec:
        _add(errors, "Target.Arn", ["Select a target."])
        _add(errors, "Target.RoleArn", ["Choose the execution role EventBridge Scheduler uses."])
    else:
        _validate_target(spec.get("Target") or {}, errors)
    _add(errors, "ActionAfterCompletion", check_string(spec.get("ActionAfterCompletion") or "NONE",
                                                       shape(S, "ActionAfterCompletion"),
                                                       label="Action after schedule completion"))
    _add(errors, "State", check_string(spec.get("State") or "ENABLED", shape(S, "ScheduleState"), label="State"))
    if spec.get("KmsKeyArn"):
        kms = "a KMS key or alias ARN (arn:aws:kms:<region>:<account>:key/<id>)"
        _add(errors, "KmsKeyArn", check_string(spec["KmsKeyArn"], shape(S, "KmsKeyArn"), label="KMS key", allowed=kms))
    return errors
