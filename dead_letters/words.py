"""The attributes AWS adds to a dead-letter message, in words.

A rule target's dead-letter queue (EventBridge) gets the event as the body and the attributes RULE_ARN,
TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS. A schedule's
dead-letter queue (EventBridge Scheduler) gets the target's input as the body and ERROR_CODE,
ERROR_MESSAGE, EXECUTION_ID, EXHAUSTED_RETRY_CONDITION, IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS,
SCHEDULED_TIME, SCHEDULE_ARN and TARGET_ARN. All arrive as String message attributes.

Pure Python: whatever a queue holds (missing, malformed, binary or unknown attributes, bodies that are
not JSON) is put in words, never raised.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

RULE_ATTRIBUTES = ("RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE", "EXHAUSTED_RETRY_CONDITION",
                   "RETRY_ATTEMPTS")
SCHEDULE_ATTRIBUTES = ("ERROR_CODE", "ERROR_MESSAGE", "EXECUTION_ID", "EXHAUSTED_RETRY_CONDITION",
                       "IS_PAYLOAD_TRUNCATED", "RETRY_ATTEMPTS", "SCHEDULED_TIME", "SCHEDULE_ARN", "TARGET_ARN")
KNOWN_ATTRIBUTES = frozenset(RULE_ATTRIBUTES + SCHEDULE_ATTRIBUTES)

# EventBridge's error codes for a rule target (the rule DLQ's ERROR_CODE).
RULE_ERROR_WORDS = {
    "NO_PERMISSIONS": "EventBridge could not invoke the target: the target's policy or role does not allow it",
    "NO_RESOURCE": "EventBridge could not invoke the target: it does not exist (deleted, or a wrong ARN)",
    "RESOURCE_NOT_FOUND": "EventBridge could not invoke the target: it does not exist (deleted, or a wrong ARN)",
    "THROTTLING": "the target throttled EventBridge's calls until the retries ran out",
    "TIMEOUT": "the target did not answer in time",
    "INVALID_PARAMETER": "the target refused what EventBridge sent it (a parameter or the input is not valid)",
    "INVALID_JSON": "the input EventBridge built for the target is not valid JSON",
    "SDK_CLIENT_ERROR": "the call to the target failed before it reached the target service",
    "INTERNAL_ERROR": "EventBridge failed inside AWS (an internal error, not your target)",
    "INTERNAL_FAILURE": "EventBridge failed inside AWS (an internal error, not your target)",
    "KMS_ERROR": "EventBridge could not use the KMS key that encrypts the event or the queue",
}
# EventBridge Scheduler's own codes; otherwise ERROR_CODE is the target service's (AWS.<Service>.<Code>).
SCHEDULE_ERROR_WORDS = {
    "AWS.Scheduler.InternalServerError": "EventBridge Scheduler failed inside AWS (an internal error, not your target)",
}
SERVICE_NAMES = {
    "SimpleQueueService": "Amazon SQS", "Lambda": "AWS Lambda", "SNS": "Amazon SNS",
    "SimpleNotificationService": "Amazon SNS", "StepFunctions": "AWS Step Functions", "SFN": "AWS Step Functions",
    "Kinesis": "Amazon Kinesis", "Firehose": "Amazon Data Firehose", "ECS": "Amazon ECS", "EC2": "Amazon EC2",
    "EventBridge": "Amazon EventBridge", "Events": "Amazon EventBridge", "CodeBuild": "AWS CodeBuild",
    "CodePipeline": "AWS CodePipeline", "SageMaker": "Amazon SageMaker", "Inspector": "Amazon Inspector",
}
CODE_WORDS = {  # common target-service codes, as they end an AWS.<Service>.<Code> error code
    "NonExistentQueue": "the queue does not exist",
    "ResourceNotFoundException": "the resource does not exist",
    "AccessDeniedException": "the schedule's role is not allowed to call it",
    "AccessDenied": "the schedule's role is not allowed to call it",
    "NotFound": "the resource does not exist",
    "ThrottlingException": "it throttled the calls until the retries ran out",
    "ValidationException": "it refused the request as not valid",
    "InvalidParameterValue": "it refused a parameter as not valid",
}
RETRY_CONDITIONS = {
    "MaximumRetryAttempts": "the maximum retry attempts ran out",
    "MaximumEventAgeInSeconds": "the maximum event age ran out",
}
RULE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:events:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):rule/"
                         r"(?:(?P<bus>[^/]+)/)?(?P<name>[^/]+)$")
SCHEDULE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:scheduler:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):schedule/"
                             r"(?P<group>[^/]+)/(?P<name>[^/]+)$")
UNIVERSAL_RE = re.compile(r"^arn:aws[a-z-]*:scheduler:::aws-sdk:(?P<service>[a-z0-9-]+):(?P<action>[A-Za-z0-9]+)$")


@dataclass
class Line:
    """One attribute as people read it: its name, what AWS wrote, and what that means."""

    name: str
    label: str
    value: str
    words: str = ""
    problem: bool = False  # malformed: the value is not what AWS documents for this attribute


@dataclass
class Described:
    """One dead-letter message, described."""

    kind: str  # "rule" or "schedule": whose queue it is
    lines: list[Line] = field(default_factory=list)
    unknown: list[Line] = field(default_factory=list)  # attributes AWS does not document for this queue
    headline: str = ""  # "NO_PERMISSIONS: EventBridge could not invoke the target: …"
    retries: str = ""  # "after 185 retries, the maximum event age ran out"
    rule: dict[str, str] | None = None  # {"bus", "name", "account", "region"} from RULE_ARN
    schedule: dict[str, str] | None = None  # {"group", "name", …} from SCHEDULE_ARN
    target_arn: str = ""
    body_json: Any = None
    body_is_json: bool = False
    body_pretty: str = ""
    body_words: str = ""  # "Not JSON: shown as text" etc.


LABELS = {
    "RULE_ARN": "Rule", "TARGET_ARN": "Target", "ERROR_CODE": "Error code", "ERROR_MESSAGE": "Error message",
    "EXHAUSTED_RETRY_CONDITION": "Retries ended because", "RETRY_ATTEMPTS": "Retry attempts",
    "EXECUTION_ID": "Execution ID", "IS_PAYLOAD_TRUNCATED": "Payload truncated", "SCHEDULED_TIME": "Scheduled time",
    "SCHEDULE_ARN": "Schedule",
}


def attribute_values(message_attributes: Any) -> dict[str, tuple[str, str]]:
    """{name: (data type, value as text)} from ReceiveMessage's MessageAttributes, whatever their shape."""
    values: dict[str, tuple[str, str]] = {}
    if not isinstance(message_attributes, dict):
        return values
    for name, attribute in message_attributes.items():
        if not isinstance(attribute, dict):
            values[str(name)] = ("", str(attribute))
            continue
        data_type = str(attribute.get("DataType") or "")
        if "StringValue" in attribute:
            values[str(name)] = (data_type, str(attribute["StringValue"]))
        elif "BinaryValue" in attribute:
            raw = attribute["BinaryValue"]
            values[str(name)] = (data_type, f"({len(raw) if hasattr(raw, '__len__') else '?'} bytes of binary data)")
        else:
            values[str(name)] = (data_type, "")
    return values


def error_code_words(code: str, kind: str) -> str:
    """What an ERROR_CODE means ("" when EventConsole does not know it)."""
    code = code.strip()
    if kind == "rule" and code in RULE_ERROR_WORDS:
        return RULE_ERROR_WORDS[code]
    if code in SCHEDULE_ERROR_WORDS:
        return SCHEDULE_ERROR_WORDS[code]
    match = re.fullmatch(r"AWS\.([A-Za-z0-9]+)\.([A-Za-z0-9_.-]+)", code)
    if match:
        service = SERVICE_NAMES.get(match.group(1), match.group(1))
        what = CODE_WORDS.get(match.group(2))
        return (f"the target's service ({service}) answered {match.group(2)}" + (f": {what}" if what else ""))
    if code in RULE_ERROR_WORDS:  # a rule's code in a schedule's queue, or the other way round: still say it
        return RULE_ERROR_WORDS[code]
    return ""


def retry_words(attempts: str | None, condition: str | None) -> tuple[str, bool]:
    """("after 185 retries, the maximum event age ran out", malformed?) from RETRY_ATTEMPTS and
    EXHAUSTED_RETRY_CONDITION (either may be missing)."""
    problem = False
    count = None
    if attempts is not None:
        text = attempts.strip()
        if text.isdigit():
            count = int(text)
        else:
            problem = True
    parts = []
    if count is not None:
        parts.append("not retried" if count == 0 else f"after {count:,} retr{'y' if count == 1 else 'ies'}")
    elif attempts is not None:
        parts.append(f"retry attempts not a number ({attempts[:40]!r})")
    if condition:
        ended = RETRY_CONDITIONS.get(condition.strip())
        parts.append(ended or f"retries ended on a condition EventConsole does not know ({condition[:80]})")
    elif count == 0:
        parts.append("the error is not one that is retried")
    return ", ".join(parts), problem


def rule_of(arn: str) -> dict[str, str] | None:
    match = RULE_ARN_RE.match(arn.strip())
    if not match:
        return None
    found = match.groupdict()
    found["bus"] = found["bus"] or "default"
    return found


def schedule_of(arn: str) -> dict[str, str] | None:
    match = SCHEDULE_ARN_RE.match(arn.strip())
    return match.groupdict() if match else None


def target_words(arn: str) -> str:
    match = UNIVERSAL_RE.match(arn.strip())
    if match:
        return f"the {match.group('service')} API action {match.group('action')} (universal target)"
    parts = arn.strip().split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return ""
    service, resource = parts[2], ":".join(parts[5:])
    if service == "lambda" and resource.startswith("function:"):
        return f"Lambda function {resource.split(':')[1]}"
    named = {"sqs": "SQS queue", "sns": "SNS topic", "states": "Step Functions state machine",
             "events": "EventBridge", "kinesis": "Kinesis", "firehose": "Firehose", "logs": "CloudWatch Logs"}
    if service in named:
        return f"{named[service]} {resource.replace('stateMachine:', '')}"
    return f"{service} resource {resource}"


def time_words(value: str) -> tuple[str, bool]:
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return "not a time", True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), False


def body_of(body: Any, kind: str) -> tuple[Any, bool, str, str]:
    """(parsed, is JSON, pretty text, words) for a message body."""
    what = "the failed event" if kind == "rule" else "the payload (the target's input)"
    if not isinstance(body, str):
        body = "" if body is None else str(body)
    if body == "":
        return None, False, "", f"The body is empty: {what} is not there."
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None, False, body, f"The body is not JSON: {what} is shown as text."
    try:
        pretty = json.dumps(parsed, indent=2, ensure_ascii=False, sort_keys=False)
    except (ValueError, RecursionError):
        pretty = body
    return parsed, True, pretty, f"The body is {what}, as JSON."


def describe(kind: str, message_attributes: Any, body: Any) -> Described:
    """A dead-letter message of a rule target's or a schedule's queue, in words."""
    values = attribute_values(message_attributes)
    expected = RULE_ATTRIBUTES if kind == "rule" else SCHEDULE_ATTRIBUTES
    result = Described(kind=kind)
    text = {name: value for name, (_, value) in values.items()}
    for name in expected:
        if name not in values:
            continue
        data_type, value = values[name]
        line = Line(name=name, label=LABELS.get(name, name), value=value)
        if data_type and not data_type.startswith("String"):
            line.problem, line.words = True, f"a {data_type} attribute where AWS writes a String"
        elif name == "ERROR_CODE":
            line.words = error_code_words(value, kind) or "an error code EventConsole has no words for"
        elif name == "RETRY_ATTEMPTS":
            line.words, line.problem = retry_words(value, None)
        elif name == "EXHAUSTED_RETRY_CONDITION":
            line.words = RETRY_CONDITIONS.get(value.strip(), "a condition EventConsole does not know")
        elif name == "IS_PAYLOAD_TRUNCATED":
            flag = value.strip().lower()
            line.words = {"true": "yes: the payload was cut to fit the queue's message size; it is not complete",
                          "false": "no: the payload is complete"}.get(flag, "neither true nor false")
            line.problem = flag not in ("true", "false")
        elif name == "SCHEDULED_TIME":
            line.words, line.problem = time_words(value)
        elif name == "RULE_ARN":
            result.rule = rule_of(value)
            line.problem = result.rule is None
            line.words = (f"rule {result.rule['name']} on event bus {result.rule['bus']}" if result.rule
                          else "not a rule ARN")
        elif name == "SCHEDULE_ARN":
            result.schedule = schedule_of(value)
            line.problem = result.schedule is None
            line.words = (f"schedule {result.schedule['name']} in group {result.schedule['group']}"
                          if result.schedule else "not a schedule ARN")
        elif name == "TARGET_ARN":
            result.target_arn = value
            line.words = target_words(value)
        result.lines.append(line)
    for name in sorted(values):
        if name not in expected:
            data_type, value = values[name]
            result.unknown.append(Line(name=name, label=name, value=value,
                                       words=f"not an attribute AWS documents for a {kind}'s dead-letter queue"))
    code = text.get("ERROR_CODE", "").strip()
    if code:
        meaning = error_code_words(code, kind)
        result.headline = f"{code}: {meaning}" if meaning else f"{code}: an error code EventConsole has no words for"
    elif values:
        result.headline = "No error code: this message does not look like one EventBridge wrote"
    else:
        result.headline = "No attributes: this message was not written by EventBridge"
    if "RETRY_ATTEMPTS" in text or "EXHAUSTED_RETRY_CONDITION" in text:
        result.retries, _ = retry_words(text.get("RETRY_ATTEMPTS"), text.get("EXHAUSTED_RETRY_CONDITION"))
    result.body_json, result.body_is_json, result.body_pretty, result.body_words = body_of(body, kind)
    return result
