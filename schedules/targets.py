"""A schedule's target: the console's templated targets and the universal target ("All APIs").

Pure data and checks (botocore's service models, no AWS calls):

- templated targets: a resource ARN (function, topic, queue, ...) and a payload;
- the universal target: `arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`, whose Input is the
  JSON request body of that API. Read-only actions are refused as AWS refuses them, and the
  body must hold the members the API requires (read from botocore's model of the operation).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from botocore.exceptions import UnknownServiceError
from botocore.session import get_session

from core import safejson

UNIVERSAL_PREFIX = "arn:aws:scheduler:::aws-sdk:"


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
)}

# Universal target: the service name in the ARN → (botocore service name, the console's label).
UNIVERSAL_SERVICES = {
    "ec2": ("ec2", "Amazon EC2"),
    "rds": ("rds", "Amazon RDS"),
    "ecs": ("ecs", "Amazon ECS"),
    "lambda": ("lambda", "AWS Lambda"),
    "sqs": ("sqs", "Amazon SQS"),
    "sns": ("sns", "Amazon SNS"),
    "sfn": ("stepfunctions", "AWS Step Functions"),
    "codebuild": ("codebuild", "AWS CodeBuild"),
    "kinesis": ("kinesis", "Amazon Kinesis"),
    "ssm": ("ssm", "AWS Systems Manager"),
    "dynamodb": ("dynamodb", "Amazon DynamoDB"),
    "s3": ("s3", "Amazon S3"),
}

# Scheduler refuses universal targets whose action starts with one of these
# (docs/aws-behaviours.md, "Scheduler API").
READ_ONLY_PREFIXES = (
    "get", "describe", "list", "poll", "receive", "search", "scan", "query", "select", "read", "lookup",
    "discover", "validate", "batchGet", "batchDescribe", "batchRead", "transactGet", "adminGet", "adminList",
    "testMigration", "retrieve", "testConnection", "translateDocument", "isAuthorized", "invokeModel",
)

# Replaced by Scheduler when it invokes the target.
CONTEXT_ATTRIBUTES = ("<aws.scheduler.schedule-arn>", "<aws.scheduler.scheduled-time>",
                      "<aws.scheduler.execution-id>", "<aws.scheduler.attempt-number>")
_ATTRIBUTE = re.compile(r"<aws\.scheduler\.[A-Za-z0-9-]*>")
_UNIVERSAL = re.compile(r"^arn:aws[a-z-]*:scheduler:::aws-sdk:(?P<service>[a-z0-9-]+):(?P<action>[A-Za-z0-9]+)$")


def camel(operation: str) -> str:
    """The action as the ARN spells it: StartInstances → startInstances."""
    return operation[:1].lower() + operation[1:]


def is_read_only(action: str) -> bool:
    """True when Scheduler refuses the action as read-only (a prefix followed by a new word)."""
    action = camel(action)
    for prefix in READ_ONLY_PREFIXES:
        if action.startswith(prefix) and (len(action) == len(prefix) or not action[len(prefix)].islower()):
            return True
    return False


def universal_arn(service: str, action: str) -> str:
    return f"{UNIVERSAL_PREFIX}{service}:{camel(action)}"


def parse_universal(arn: str) -> tuple[str, str] | None:
    """(service, action) of a universal target ARN, or None for any other ARN."""
    match = _UNIVERSAL.match(arn or "")
    return (match["service"], match["action"]) if match else None


@cache
def _service_model(service: str):
    botocore_name = UNIVERSAL_SERVICES.get(service, (service, ""))[0]
    try:
        return get_session().get_service_model(botocore_name)
    except UnknownServiceError:
        return None


@cache
def actions(service: str) -> tuple[tuple[str, str], ...]:
    """((camelCase action, OperationName), ...) that Scheduler can call for `service`, sorted."""
    model = _service_model(service)
    if model is None:
        return ()
    return tuple(sorted(((camel(op), op) for op in model.operation_names if not is_read_only(op)),
                        key=lambda pair: pair[1]))


@cache
def operation_for(service: str, action: str) -> str | None:
    """The botocore OperationName for a camelCase action, or None if the service has no such API."""
    model = _service_model(service)
    wanted = camel(action)
    return next((op for op in model.operation_names if camel(op) == wanted), None) if model else None


@cache
def required_members(service: str, action: str) -> tuple[str, ...]:
    """The members the API's request must hold (botocore's input shape)."""
    model = _service_model(service)
    operation = operation_for(service, action)
    if model is None or operation is None:
        return ()
    shape = model.operation_model(operation).input_shape
    return tuple(shape.required_members) if shape is not None else ()


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


def check_universal(service: str, action: str, text: str | None) -> list[str]:
    """What is wrong with a universal target: unknown or read-only action, or an input that does
    not fit the API (not JSON, not an object, or missing a required member)."""
    if service not in UNIVERSAL_SERVICES and _service_model(service) is None:
        return [f"EventBridge Scheduler does not know the service {service!r}."]
    if is_read_only(action):
        return [f"{camel(action)} is a read-only action; EventBridge Scheduler does not allow read-only "
                f"actions (get…, describe…, list…, …) as targets."]
    if operation_for(service, action) is None:
        return [f"{_service_label(service)} has no API action {camel(action)}."]
    value, error = parse_input(text or "{}")
    if error:
        return [f"Input: {error}"]
    if not isinstance(value, dict):
        return ["Input must be a JSON object: the request body of the API."]
    # The universal target takes the SDK's member casing (RDS: DbInstanceIdentifier), so compare
    # names without case.
    present = {key.lower() for key in value}
    missing = [m for m in required_members(service, action) if m.lower() not in present]
    if missing:
        return [f"Input is missing {', '.join(missing)}, required by {operation_for(service, action)}."]
    return []


def _service_label(service: str) -> str:
    return UNIVERSAL_SERVICES.get(service, (service, service))[1]


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
