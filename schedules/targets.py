"""A schedule's target: the console's templated targets and the universal target ("All APIs").

Pure data and checks (botocore's service models, no AWS calls):

- templated targets: a resource ARN (function, topic, queue, ...) and a payload;
- the universal target: `arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`, whose Input is the
  JSON request body of that API. Read-only actions are refused as AWS refuses them, and the
  body must hold the members the API requires (read from botocore's model of the operation).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from botocore.validate import ParamValidator

from core import safejson
# The universal target's botocore side lives in delivery (the target invoker calls it too); its names are
# re-exported here for the schedule forms and pages.
from delivery import universal

UNIVERSAL_PREFIX, UNIVERSAL_SERVICES, CONTEXT_ATTRIBUTES = (
    universal.UNIVERSAL_PREFIX, universal.UNIVERSAL_SERVICES, universal.CONTEXT_ATTRIBUTES)
Service, services, service, sdk_name, botocore_name_hint = (
    universal.Service, universal.services, universal.service, universal.sdk_name, universal.botocore_name_hint)
camel, universal_arn, parse_universal, operation_for = (
    universal.camel, universal.universal_arn, universal.parse_universal, universal.operation_for)
_ATTRIBUTE, _service_model, _fold = universal._ATTRIBUTE, universal._service_model, universal.fold


@dataclass(frozen=True)
class Templated:
    key: str  # the service in the resource ARN
    label: str  # the console's words: "AWS Lambda Invoke"
    resource: str  # what the picker lists
    input_label: str
    input_json: bool  # AWS requires well-formed JSON for this payload
    input_help: str = ""


TEMPLATED = {t.key: t for t in (
    Templated("lambda", "AWS Lambda Invoke", "Lambda function", "Payload", True,
              "The JSON the function receives."),
    Templated("sns", "Amazon SNS Publish", "SNS topic", "Message", False, "The message to publish."),
    Templated("sqs", "Amazon SQS SendMessage", "SQS queue", "Message", False, "The message body to send."),
    Templated("states", "AWS Step Functions StartExecution", "State machine", "Input", True,
              "The JSON input of the execution."),
    Templated("events", "Amazon EventBridge PutEvents", "Event bus", "Detail", True,
              "The event's detail (JSON)."),
    Templated("kinesis", "Amazon Kinesis PutRecord", "Kinesis stream", "Data", False, "The record's data."),
    Templated("codebuild", "AWS CodeBuild StartBuild", "CodeBuild project", "Input - optional", False,
              "StartBuild parameters to override, as JSON."),
    Templated("ecs", "Amazon ECS RunTask", "ECS cluster", "Input - optional", False,
              "Task overrides, as JSON."),
    Templated("codepipeline", "AWS CodePipeline StartPipelineExecution", "CodePipeline pipeline",
              "Input - optional", False, "StartPipelineExecution parameters, as JSON."),
    Templated("firehose", "Amazon Data Firehose PutRecord", "Firehose stream", "Data", False,
              "The record's data."),
    Templated("inspector", "Amazon Inspector StartAssessmentRun", "Inspector assessment template",
              "Input - optional", False, "StartAssessmentRun parameters, as JSON."),
    Templated("sagemaker", "Amazon SageMaker StartPipelineExecution", "SageMaker pipeline", "Input - optional",
              False, "StartPipelineExecution parameters, as JSON."),
)}

# The resource part of each templated target's ARN (after arn:aws:<service>:<region>:<account>:), as
# the API references write it: what the "Or enter its ARN" box must hold.
RESOURCE_FORMS = {
    "lambda": (re.compile(r"function:[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]{1,128}))?"),
               "function:<name>[:<version or alias>]"),
    "sns": (re.compile(r"[a-zA-Z0-9-_]{1,256}(\.fifo)?"), "<topic>"),
    "sqs": (re.compile(r"[a-zA-Z0-9-_]{1,80}(\.fifo)?"), "<queue>"),
    "states": (re.compile(r"stateMachine:[^:]+(:[^:]+)?"), "stateMachine:<name>"),
    "events": (re.compile(r"event-bus/[^:]+"), "event-bus/<name>"),
    "kinesis": (re.compile(r"stream/[a-zA-Z0-9_.-]{1,128}"), "stream/<name>"),
    "codebuild": (re.compile(r"project/[A-Za-z0-9][A-Za-z0-9\-_]{1,254}"), "project/<name>"),
    "ecs": (re.compile(r"cluster/[a-zA-Z0-9_-]{1,255}"), "cluster/<name>"),
    "codepipeline": (re.compile(r"[A-Za-z0-9.@\-_]{1,100}"), "<pipeline>"),
    "firehose": (re.compile(r"deliverystream/[a-zA-Z0-9_.-]{1,64}"), "deliverystream/<name>"),
    "inspector": (re.compile(r"target/[^/]+/template/[^/]+"), "target/<id>/template/<id>"),
    "sagemaker": (re.compile(r"pipeline/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"), "pipeline/<name>"),
}


def resource_problem(kind: str, arn: str) -> str:
    """Why `arn` is not the resource a templated target of `kind` takes ("" when it is)."""
    found = RESOURCE_FORMS.get(kind)
    parts = (arn or "").split(":", 5)
    if found is None or len(parts) < 6:
        return ""
    pattern, form = found
    if pattern.fullmatch(parts[5]) is None:
        return f"A {TEMPLATED[kind].resource} ARN ends with {form}, after arn:aws:{kind}:<region>:<account>:."
    return ""

# Scheduler refuses universal targets whose action starts with one of these
# (docs/aws-behaviours.md, "Scheduler API").
READ_ONLY_PREFIXES = (
    "get", "describe", "list", "poll", "receive", "search", "scan", "query", "select", "read", "lookup",
    "discover", "validate", "batchGet", "batchDescribe", "batchRead", "transactGet", "adminGet", "adminList",
    "testMigration", "retrieve", "testConnection", "translateDocument", "isAuthorized", "invokeModel",
)

def is_read_only(action: str) -> bool:
    """True when Scheduler refuses the action as read-only (a prefix followed by a new word)."""
    action = camel(action)
    for prefix in READ_ONLY_PREFIXES:
        if action.startswith(prefix) and (len(action) == len(prefix) or not action[len(prefix)].islower()):
            return True
    return False


@cache
def actions(service_name: str) -> tuple[tuple[str, str], ...]:
    """((camelCase action, OperationName), ...) that Scheduler can call for the service, sorted."""
    model = _service_model(service_name)
    if model is None:
        return ()
    return tuple(sorted(((camel(op), op) for op in model.operation_names if not is_read_only(op)),
                        key=lambda pair: pair[1]))


def _input_shape(service_name: str, action: str):
    model = _service_model(service_name)
    operation = operation_for(service_name, action)
    if model is None or operation is None:
        return None
    return model.operation_model(operation).input_shape


def json_name(member: str) -> str:
    """A member as Scheduler's Input names it: the service's JSON casing, with a capital first letter
    (sfn's stateMachineArn is StateMachineArn in Scheduler's examples)."""
    return member[:1].upper() + member[1:]


@cache
def required_members(service_name: str, action: str) -> tuple[str, ...]:
    """The members the API's request must hold (botocore's input shape), as the Input names them."""
    shape = _input_shape(service_name, action)
    return tuple(json_name(m) for m in shape.required_members) if shape is not None else ()


def request_summary(service_name: str, action: str) -> dict[str, Any]:
    """What the All APIs step says of a picked API: its operation's name ("" when the service has no
    such API), the members its request needs, and every member (see `members`)."""
    operation = operation_for(service_name, action) if service_name and action else None
    if not operation:
        return {"operation": "", "required": (), "members": ()}
    return {"operation": operation, "required": required_members(service_name, action),
            "members": members(service_name, action)}


@cache
def members(service_name: str, action: str) -> tuple[tuple[str, str, bool], ...]:
    """((name, type in words, required), ...) of the API's request: required members first."""
    shape = _input_shape(service_name, action)
    if shape is None:
        return ()
    required = set(shape.required_members)
    rows = [(json_name(name), type_words(member), name in required) for name, member in shape.members.items()]
    return tuple(sorted(rows, key=lambda row: not row[2]))


def type_words(shape) -> str:
    """A member's type in words: "string", "list of string", "structure", "map of string to integer"."""
    kind = shape.type_name
    if kind == "list":
        return f"list of {type_words(shape.member)}"
    if kind == "map":
        return f"map of {type_words(shape.key)} to {type_words(shape.value)}"
    if kind == "string" and shape.enum:
        return "string: " + " | ".join(shape.enum[:6]) + (" | …" if len(shape.enum) > 6 else "")
    return {"long": "integer", "double": "number", "float": "number", "blob": "string (base64)",
            "timestamp": "timestamp (ISO 8601)"}.get(kind, kind)


PLACEHOLDERS = ("<string>", "<timestamp>", "<base64>")


def _placeholder(shape, depth: int = 0) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if depth >= 4:
            return {}
        return {json_name(name): _placeholder(shape.members[name], depth + 1) for name in shape.required_members}
    if kind == "list":
        return [_placeholder(shape.member, depth + 1)]
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "<string>"
    if kind in ("integer", "long"):
        return max(0, int(shape.metadata.get("min", 0) or 0))
    if kind in ("double", "float"):
        return 0.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return "<timestamp>"
    if kind == "blob":
        return "<base64>"
    return None


@cache
def skeleton(service_name: str, action: str) -> str:
    """The Input to start from: the request's required members (nested ones too), each with a value
    of its type to replace ("<string>", 0, false, [...]); "{}" when nothing is required."""
    shape = _input_shape(service_name, action)
    value = _placeholder(shape) if shape is not None else {}
    return json.dumps(value, indent=2) if value else "{}"


def _where(name: str) -> str:
    name = (name or "").lstrip(".")
    return json_name(name) if name else "The request"


def _in_words(reason: str, name: str, extra: dict) -> str:
    where = _where(name)
    if reason == "missing required field":
        return f"{where} is missing {json_name(extra['required_name'])}, which the API requires."
    if reason == "unknown field":
        valid = ", ".join(json_name(n) for n in extra.get("valid_names", ()))
        return f"{where} has the unknown member {extra['unknown_param']!r}; its members are {valid}."
    if reason == "invalid type":
        wanted = {"str": "a string", "list": "a list", "tuple": "a list", "dict": "an object", "int": "a whole number",
                  "bool": "true or false", "float": "a number", "Decimal": "a number", "bytes": "a string",
                  "bytearray": "a string", "datetime": "a date and time", "file-like object": "a string"}
        kinds = []
        for valid in extra.get("valid_types", ()):
            type_name = re.sub(r"^<class '(?:[\w.]*\.)?(\w+)'>$", r"\1", str(getattr(valid, "__name__", valid)))
            words = wanted.get(type_name, type_name)
            if words not in kinds:
                kinds.append(words)
        found = type(extra.get("param")).__name__
        found_words = {"str": "a string", "list": "a list", "dict": "an object", "int": "a number", "float": "a number",
                       "bool": "true/false", "NoneType": "null"}.get(found, found)
        return f"{where} must be {' or '.join(kinds)}, not {found_words} ({json.dumps(extra.get('param'))[:60]})."
    if reason == "invalid range":
        return f"{where} must be at least {extra['min_allowed']} (it is {extra['param']})."
    if reason == "invalid length":
        return f"{where} must have a length of at least {extra['min_allowed']} (it has {extra['param']})."
    if reason == "invalid enum":
        return f"{where} must be one of {', '.join(extra['valid_values'])}."
    if reason == "more than one input":
        return f"{where} takes only one of {', '.join(json_name(n) for n in extra['required_name'])}."
    if reason == "empty input":
        return f"{where} must have one of {', '.join(json_name(n) for n in extra['required_name'])}."
    return f"{where}: {reason}."


def _placeholders_left(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _placeholders_left(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _placeholders_left(item, f"{path}[{i}]")]
    return [path] if value in PLACEHOLDERS else []


def input_problems(service_name: str, action: str, value: Any) -> list[str]:
    """What botocore's own validator (botocore.validate.ParamValidator) finds wrong with the request,
    in words: unknown members, wrong types, missing required members; and placeholders left in."""
    shape = _input_shape(service_name, action)
    if shape is None:
        return []
    report = ParamValidator().validate(_fold(value, shape), shape)
    problems = []
    for reason, name, extra in getattr(report, "_errors", ()):
        try:
            problems.append(f"Input: {_in_words(reason, name, extra)}")
        except (KeyError, TypeError, ValueError):  # a report botocore words differently: its own words
            problems.append(f"Input: {_where(name)}: {reason}.")
    if report.has_errors() and not problems:  # botocore changed its report: show its own words
        problems.append(f"Input: {report.generate_report()}")
    for path in _placeholders_left(value):
        problems.append(f"Input: replace the placeholder at {path} with a value.")
    return problems


def parse_input(text: str) -> tuple[object | None, str]:
    """(value, error): the input as JSON, with Scheduler's context attributes allowed anywhere."""
    unknown = sorted({a for a in _ATTRIBUTE.findall(text) if a not in CONTEXT_ATTRIBUTES})
    if unknown:
        return None, (f"Unknown context attribute {', '.join(unknown)}; Scheduler knows "
                      f"{', '.join(CONTEXT_ATTRIBUTES)}.")
    stand_in = _ATTRIBUTE.sub("0", text)
    try:
        return safejson.loads(stand_in, what="This"), ""
    except safejson.InvalidJSON as exc:
        return None, str(exc)


def check_universal(service_name: str, action: str, text: str | None) -> list[str]:
    """What is wrong with a universal target: unknown service or action, a read-only action, or an
    input that does not fit the API (not JSON, not an object, or refused by botocore's validator)."""
    if service(service_name) is None:
        hint = botocore_name_hint(service_name)
        return [f"EventBridge Scheduler names this service {hint} (its SDK identifier), not {service_name}." if hint
                else f"EventBridge Scheduler does not know the service {service_name!r}."]
    if is_read_only(action):
        return [f"{camel(action)} is a read-only action; EventBridge Scheduler does not allow read-only "
                f"actions (get…, describe…, list…, …) as targets."]
    if operation_for(service_name, action) is None:
        return [f"{_service_label(service_name)} has no API action {camel(action)}."]
    value, error = parse_input(text or "{}")
    if error:
        return [f"Input: {error}"]
    if not isinstance(value, dict):
        return ["Input must be a JSON object: the request body of the API."]
    return input_problems(service_name, action, value)


def _service_label(service_name: str) -> str:
    found = service(service_name)
    return found.label if found else service_name


@lru_cache(maxsize=4096)
def describe_target(arn: str) -> str:
    """A target in words: "Amazon EC2 StartInstances", "AWS Lambda Invoke: Do_nothing"."""
    universal = parse_universal(arn)
    if universal:
        service, action = universal
        operation = operation_for(service, action) or action
        return f"{_service_label(service)} {operation}"
    parts = (arn or "").split(":", 5)
    if len(parts) == 6 and parts[2] in TEMPLATED:
        resource = parts[5].split(":")[-1].rsplit("/", 1)[-1]
        return f"{TEMPLATED[parts[2]].label}: {resource}"
    return arn or ""
