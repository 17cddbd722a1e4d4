"""Invoke one target once, as EventBridge Scheduler (or an EventBridge rule) would.

`target_invoke(environment, target, payload, context=...)` takes a Scheduler `Target` structure (Arn,
RoleArn, Input, SqsParameters, EventBridgeParameters, KinesisParameters, EcsParameters,
SageMakerPipelineParameters, ...) or an EventBridge rule target (the same key names where they
overlap), and:

1. assumes the target's RoleArn when it has one (`environments.aws.client_as_role`), else uses the
   environment's own credentials;
2. puts Scheduler's context attributes into the input (`<aws.scheduler.schedule-arn>`,
   `<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`, `<aws.scheduler.attempt-number>`);
3. calls the API the target stands for: a templated target's fixed API (Lambda Invoke, SQS
   SendMessage, SNS Publish, EventBridge PutEvents, Step Functions StartExecution, Kinesis PutRecord,
   Firehose PutRecord, CodeBuild StartBuild, CodePipeline StartPipelineExecution, ECS RunTask,
   SageMaker StartPipelineExecution, Inspector StartAssessmentRun), or a universal target's API with
   the input as its request body (member names folded onto botocore's without regard to case);
4. returns an `InvokeResult`: what was called and sent, AWS's answer (JSON-safe), or the error in
   words (`environments.aws.describe_error`). It never raises for a bad target or input.

Every call goes through the environment's client factory. `interactive=True` (a person waits) uses the
page's AWS budget (`environments.aws.within_budget`).
"""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError
from botocore.response import StreamingBody

from core import safejson
from environments import aws, ratelimit

from . import universal

__all__ = ["InvokeResult", "target_invoke", "TEMPLATED_APIS", "api_of", "context_fill", "effect_words"]

# The API each templated target calls, by the service in its resource ARN.
TEMPLATED_APIS = {
    "lambda": ("lambda", "Invoke"),
    "sqs": ("sqs", "SendMessage"),
    "sns": ("sns", "Publish"),
    "events": ("events", "PutEvents"),
    "states": ("stepfunctions", "StartExecution"),
    "kinesis": ("kinesis", "PutRecord"),
    "firehose": ("firehose", "PutRecord"),
    "codebuild": ("codebuild", "StartBuild"),
    "codepipeline": ("codepipeline", "StartPipelineExecution"),
    "ecs": ("ecs", "RunTask"),
    "sagemaker": ("sagemaker", "StartPipelineExecution"),
    "inspector": ("inspector", "StartAssessmentRun"),
}
REQUEST_SHOWN_MAX = 4096  # characters of a payload kept in the request summary


@dataclass(frozen=True)
class InvokeResult:
    ok: bool
    api: str  # "lambda:Invoke", "ec2:StartInstances"; "" when the target names no API we can call
    request: dict[str, Any] = field(default_factory=dict)  # what was sent (JSON-safe, long payloads cut)
    response: Any = None  # AWS's answer without its ResponseMetadata (JSON-safe)
    error_code: str = ""  # AWS's error code, or ours ("InvalidTarget", "InvalidInput", "BudgetSpent")
    error_words: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "api": self.api, "request": self.request, "response": self.response,
                "error_code": self.error_code, "error_words": self.error_words}


class _Refused(Exception):
    def __init__(self, code: str, words: str):
        self.code, self.words = code, words
        super().__init__(words)


# ---------------------------------------------------------------------------------------------
# Context attributes
# ---------------------------------------------------------------------------------------------
def _time_text(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "")


def context_fill(text: str | None, context: dict[str, Any]) -> str | None:
    """`text` with Scheduler's context attributes replaced by the context's values."""
    if text is None:
        return None
    values = {
        "<aws.scheduler.schedule-arn>": str(context.get("schedule_arn") or ""),
        "<aws.scheduler.scheduled-time>": _time_text(context.get("scheduled_time")),
        "<aws.scheduler.execution-id>": str(context.get("execution_id") or ""),
        "<aws.scheduler.attempt-number>": str(context.get("attempt_number") or 1),
    }
    for name, value in values.items():
        text = text.replace(name, value)
    return text


def _context(context: dict[str, Any] | None) -> dict[str, Any]:
    found = dict(context or {})
    found.setdefault("execution_id", str(uuid.uuid4()))
    found.setdefault("attempt_number", 1)
    found.setdefault("scheduled_time", datetime.now(UTC).replace(microsecond=0))
    found.setdefault("schedule_arn", "")
    return found


# ---------------------------------------------------------------------------------------------
# Which API a target calls
# ---------------------------------------------------------------------------------------------
def api_of(target: dict[str, Any]) -> tuple[str, str, str] | None:
    """(botocore service, OperationName, the API as people read it: "ec2:StartInstances") of a target,
    or None when it names no API the invoker knows."""
    arn = str((target or {}).get("Arn") or "")
    found = universal.parse_universal(arn)
    if found:
        name, action = found
        svc = universal.service(name)
        operation = universal.operation_for(name, action)
        if svc is None or operation is None:
            return None
        return svc.botocore, operation, f"{name}:{operation}"
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] in TEMPLATED_APIS:
        svc, operation = TEMPLATED_APIS[parts[2]]
        return svc, operation, f"{parts[2]}:{operation}"
    return None


def _resource_name(arn: str) -> str:
    """The last part of a resource ARN: function:<name>, stream/<name>, <queue> → the name."""
    resource = arn.split(":", 5)[5]
    if resource.startswith("function:"):
        return resource.split(":")[1]
    return resource.split("/", 1)[1] if "/" in resource else resource


def _json_input(text: str | None, what: str) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        value = safejson.loads(text, what=what)
    except safejson.InvalidJSON as exc:
        raise _Refused("InvalidInput", str(exc)) from None
    if not isinstance(value, dict):
        raise _Refused("InvalidInput", f"{what} must be a JSON object: the request body of the API.")
    return value


def _folded(service: str, operation: str, value: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` with `value`'s members (any case) added, folded onto the operation's member names (botocore's
    model of the operation, read once per process: delivery.universal.operation_model)."""
    return {**universal.fold(value, universal.operation_model(service, operation).input_shape), **base}


def _lower_first(value: Any) -> Any:
    """Scheduler's EcsParameters (PascalCase) as RunTask's members (camelCase), all the way down."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _lower_first(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_first(v) for v in value]
    return value


def _params(target: dict[str, Any], service: str, operation: str, payload: str | None,
            context: dict[str, Any], client_for) -> dict[str, Any]:
    arn = target["Arn"]
    parsed = universal.parse_universal(arn)
    if parsed:
        return universal.fold(_json_input(payload, "The input"), universal.operation_model(*parsed).input_shape)
    text = payload or ""
    if service == "lambda":
        # Scheduler invokes functions asynchronously ("Event"), as EventBridge rules do.
        return {"FunctionName": arn, "InvocationType": "Event", "Payload": text.encode()}
    if service == "sqs":
        parts = arn.split(":")
        url = client_for("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
        params = {"QueueUrl": url, "MessageBody": text}
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            params["MessageGroupId"] = group
        if parts[5].endswith(".fifo"):
            params.setdefault("MessageGroupId", group or "default")
            params["MessageDeduplicationId"] = str(context["execution_id"])
        return params
    if service == "sns":
        return {"TopicArn": arn, "Message": text}
    if service == "events":
        found = target.get("EventBridgeParameters") or {}
        source, detail_type, detail = found.get("Source"), found.get("DetailType"), text or "{}"
        if not (source and detail_type):  # a rule's target forwards the event: its own source and type
            event = _json_input(text, "The event") if text.strip().startswith("{") else {}
            source = source or event.get("source")
            detail_type = detail_type or event.get("detail-type")
            if "detail" in event:
                detail = json.dumps(event["detail"])
        if not (source and detail_type):
            raise _Refused("InvalidTarget", "An event bus target needs a source and a detail type "
                                            "(EventBridgeParameters Source and DetailType).")
        return {"Entries": [{"EventBusName": arn, "Source": source, "DetailType": detail_type, "Detail": detail}]}
    if service == "stepfunctions":
        return {"stateMachineArn": arn, "input": text or "{}"}
    if service == "kinesis":
        key = (target.get("KinesisParameters") or {}).get("PartitionKey") or str(context["execution_id"])
        return {"StreamName": _resource_name(arn), "Data": text.encode(), "PartitionKey": key}
    if service == "firehose":
        return {"DeliveryStreamName": _resource_name(arn), "Record": {"Data": text.encode()}}
    if service == "codebuild":
        return _folded(service, operation, _json_input(payload, "The input"), {"projectName": _resource_name(arn)})
    if service == "codepipeline":
        return _folded(service, operation, _json_input(payload, "The input"), {"name": _resource_name(arn)})
    if service == "inspector":
        return _folded(service, operation, _json_input(payload, "The input"), {"assessmentTemplateArn": arn})
    if service == "sagemaker":
        base: dict[str, Any] = {"PipelineName": arn}
        parameters = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList")
        if parameters:
            base["PipelineParameters"] = parameters
        return _folded(service, operation, _json_input(payload, "The input"), base)
    if service == "ecs":
        ecs = _lower_first(dict(target.get("EcsParameters") or {}))
        base = {"cluster": arn}
        if "taskDefinitionArn" in ecs:
            base["taskDefinition"] = ecs.pop("taskDefinitionArn")
        if "taskCount" in ecs:
            base["count"] = ecs.pop("taskCount")
        if "tags" in ecs:  # Scheduler: [{"key": "value"}]; RunTask: [{"key": ..., "value": ...}]
            base["tags"] = [{"key": k, "value": v} for tag in ecs.pop("tags") or [] for k, v in tag.items()]
        return _folded(service, operation, {**ecs, **_json_input(payload, "The input")}, base)
    raise _Refused("InvalidTarget", f"EventConsole cannot invoke {arn}.")


# ---------------------------------------------------------------------------------------------
# What invoking a target does, in words (for the confirmations)
# ---------------------------------------------------------------------------------------------
_EC2_VERBS = {"StartInstances": "starts", "StopInstances": "stops", "RebootInstances": "reboots",
              "TerminateInstances": "terminates"}
_TEMPLATED_WORDS = {
    "lambda": "invokes Lambda function {name} (asynchronously)",
    "sqs": "sends a message to SQS queue {name}",
    "sns": "publishes a message to SNS topic {name}",
    "events": "puts an event on event bus {name}",
    "states": "starts an execution of state machine {name}",
    "kinesis": "puts a record into Kinesis stream {name}",
    "firehose": "puts a record into Firehose stream {name}",
    "codebuild": "starts a build of CodeBuild project {name}",
    "codepipeline": "starts an execution of pipeline {name}",
    "ecs": "runs a task on ECS cluster {name}",
    "sagemaker": "starts an execution of SageMaker pipeline {name}",
    "inspector": "starts an Inspector assessment run of template {arn}",
}


def effect_words(target: dict[str, Any], payload: str | None = None) -> str:
    """What invoking the target does: "starts EC2 instance i-0123456789abcdef0", "sends a message to SQS
    queue Inbox", "calls Amazon RDS StopDBInstance". "" when the target names no API we can call."""
    target = target or {}
    found = api_of(target)
    if found is None:
        return ""
    service, operation, api = found
    arn = str(target.get("Arn") or "")
    parsed = universal.parse_universal(arn)
    if parsed is None:
        return _TEMPLATED_WORDS[arn.split(":")[2]].format(name=_resource_name(arn), arn=arn)
    text = payload if payload is not None else target.get("Input")
    if service == "ec2" and operation in _EC2_VERBS:
        try:
            body = _json_input(text, "The input")
        except _Refused:
            body = {}
        ids = next((v for k, v in body.items() if str(k).lower() == "instanceids"), None)
        if isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids):
            noun = "instance" if len(ids) == 1 else "instances"
            return f"{_EC2_VERBS[operation]} EC2 {noun} {', '.join(ids)}"
    label = universal.service(parsed[0]).label
    return f"calls {label} {operation}"


# ---------------------------------------------------------------------------------------------
# JSON-safe answers and summaries
# ---------------------------------------------------------------------------------------------
def _safe(value: Any, *, cut: int | None = None) -> Any:
    if isinstance(value, dict):
        return {str(k): _safe(v, cut=cut) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [_safe(v, cut=cut) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StreamingBody):
        value = value.read()
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode()
        except UnicodeDecodeError:
            value = "base64:" + base64.b64encode(bytes(value)).decode()
    if isinstance(value, str):
        return value if cut is None or len(value) <= cut else value[:cut] + "…"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "Unknown")
    if isinstance(exc, aws.BudgetSpent):
        return "BudgetSpent"
    return type(exc).__name__


def _failed_entries(operation: str, response: dict[str, Any]) -> tuple[str, str] | None:
    """PutEvents and Firehose answer HTTP 200 with the entry's own failure inside."""
    if operation == "PutEvents" and response.get("FailedEntryCount"):
        entry = next((e for e in response.get("Entries", []) if e.get("ErrorCode")), {})
        code = entry.get("ErrorCode", "Failed")
        return code, f"EventBridge did not accept the event ({code}: {entry.get('ErrorMessage', '')})."
    return None


# ---------------------------------------------------------------------------------------------
# The invoker
# ---------------------------------------------------------------------------------------------
def target_invoke(environment, target: dict[str, Any], payload: str | None, *, context: dict[str, Any] | None = None,
                  interactive: bool = False) -> InvokeResult:
    """Invoke `target` once in `environment`, as Scheduler would; `payload` (when given) replaces its Input."""
    target = dict(target or {})
    context = _context(context)
    found = api_of(target)
    arn = str(target.get("Arn") or "")
    role = str(target.get("RoleArn") or "")
    text = context_fill(payload if payload is not None else target.get("Input"), context)
    request: dict[str, Any] = {"target": arn, "role": role, "execution_id": str(context["execution_id"]),
                               "scheduled_time": _time_text(context["scheduled_time"]),
                               "attempt_number": context["attempt_number"]}
    if found is None:
        universal_parts = universal.parse_universal(arn)
        words = (f"EventBridge Scheduler has no API {universal_parts[0]}:{universal_parts[1]}." if universal_parts
                 else f"EventConsole cannot invoke this target ({arn or 'no ARN'}): it is neither a templated target "
                      f"nor a universal target.")
        return InvokeResult(ok=False, api="", request=request, error_code="InvalidTarget", error_words=words)
    service, operation, api = found

    def client_for(name: str):
        if role:
            return aws.client_as_role(environment, role, name, interactive=interactive,
                                      session_name="EventConsole-Invoke")
        return aws.client(environment, name, interactive=interactive)

    def call() -> Any:
        params = _params(target, service, operation, text, context, client_for)
        request["params"] = _safe(params, cut=REQUEST_SHOWN_MAX)
        return getattr(client_for(service), xform_name(operation))(**params)

    try:
        response = aws.within_budget(call) if interactive else call()
    except _Refused as exc:
        return InvokeResult(ok=False, api=api, request=request, error_code=exc.code, error_words=exc.words)
    except (ClientError, BotoCoreError, aws.BudgetSpent, ratelimit.RateLimitExceeded,
            ratelimit.RateLimitUnavailable) as exc:
        words = str(exc) + "; the call may still have reached AWS." if isinstance(exc, aws.BudgetSpent) \
            else aws.describe_error(exc)
        return InvokeResult(ok=False, api=api, request=request, error_code=_error_code(exc), error_words=words)
    answer = _safe(response)
    failed = _failed_entries(operation, answer)
    if failed:
        return InvokeResult(ok=False, api=api, request=request, response=answer, error_code=failed[0],
                            error_words=failed[1])
    return InvokeResult(ok=True, api=api, request=request, response=answer)
