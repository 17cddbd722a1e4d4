"""The universal target ("All APIs"): `arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`.

Which services and API actions botocore ships (by the names Scheduler's ARNs give them), and a
request body folded onto botocore's member names without regard to case. Pure data from botocore's
service models, no AWS calls. The schedule forms check a universal target with it
(`schedules/targets.py`); the target invoker calls it (`delivery/invoke.py`).
"""
from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.session import get_session

UNIVERSAL_PREFIX = "arn:aws:scheduler:::aws-sdk:"

# Universal target: the console's words for the services people schedule most (the ARN's service
# name → its label); every other service botocore ships is listed under its own full name.
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

# Replaced by Scheduler when it invokes the target.
CONTEXT_ATTRIBUTES = ("<aws.scheduler.schedule-arn>", "<aws.scheduler.scheduled-time>",
                      "<aws.scheduler.execution-id>", "<aws.scheduler.attempt-number>")
_ATTRIBUTE = re.compile(r"<aws\.scheduler\.[A-Za-z0-9-]*>")
_UNIVERSAL = re.compile(r"^arn:aws[a-z-]*:scheduler:::aws-sdk:(?P<service>[a-z0-9-]+):(?P<action>[A-Za-z0-9]+)$")


def camel(operation: str) -> str:
    """The action as the ARN spells it: StartInstances → startInstances."""
    return operation[:1].lower() + operation[1:]


def universal_arn(service: str, action: str) -> str:
    return f"{UNIVERSAL_PREFIX}{service}:{camel(action)}"


def parse_universal(arn: str) -> tuple[str, str] | None:
    """(service, action) of a universal target ARN, or None for any other ARN."""
    match = _UNIVERSAL.match(arn or "")
    return (match["service"], match["action"]) if match else None


# ---------------------------------------------------------------------------------------------
# Every service botocore ships, by the name Scheduler's ARN gives it
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    name: str  # Scheduler's name: the SDK's service identifier, lower case, no spaces ("sfn", "ec2")
    botocore: str  # botocore's name ("stepfunctions", "ec2")
    label: str  # "Amazon EC2", or the model's full name

    @property
    def choice_label(self) -> str:
        return self.label if self.label.lower() == self.name else f"{self.label} ({self.name})"


_HEADER = {key: re.compile(rb'"%s"\s*:\s*"((?:[^"\\]|\\.)*)"' % key.encode())
           for key in ("serviceId", "serviceFullName")}


def sdk_name(service_id: str) -> str:
    """Scheduler's name for a service: its SDK service identifier, lower case, without spaces or
    dashes ("Cognito Identity Provider" → cognitoidentityprovider, "SFN" → sfn)."""
    return re.sub(r"[^a-z0-9]", "", service_id.lower())


def _metadata(loader, name: str) -> dict[str, str]:
    """serviceId and serviceFullName of a botocore model, read from the head of its file (the
    metadata comes first), without loading the whole model."""
    version = loader.determine_latest_version(name, "service-2")
    for base in loader.search_paths:
        for filename, opener in (("service-2.json", open), ("service-2.json.gz", gzip.open)):
            path = os.path.join(base, name, version, filename)
            if os.path.exists(path):
                with opener(path, "rb") as handle:
                    head = handle.read(16384)
                found = {key: rx.search(head) for key, rx in _HEADER.items()}
                if all(found.values()):
                    return {key: json.loads(b'"' + match.group(1) + b'"') for key, match in found.items()}
                break
    metadata = loader.load_service_model(name, "service-2")["metadata"]  # rare: the long way
    return {"serviceId": metadata.get("serviceId", name), "serviceFullName": metadata.get("serviceFullName", name)}


@cache
def services() -> dict[str, Service]:
    """Every service botocore ships, keyed by Scheduler's name for it, sorted by label."""
    loader = get_session().get_component("data_loader")
    found: dict[str, Service] = {}
    for name in loader.list_available_services("service-2"):
        metadata = _metadata(loader, name)
        key = sdk_name(metadata["serviceId"]) or name
        label = next((label for alias, (boto, label) in UNIVERSAL_SERVICES.items() if boto == name),
                     metadata["serviceFullName"])
        found.setdefault(key, Service(key, name, label))
    return dict(sorted(found.items(), key=lambda item: (item[1].label.lower(), item[0])))


def service(name: str) -> Service | None:
    return services().get(name or "")


def botocore_name_hint(name: str) -> str:
    """For a botocore name Scheduler does not use ("cognito-idp"), the name it does use."""
    found = next((s for s in services().values() if s.botocore == name and s.name != name), None)
    return found.name if found else ""


@cache
def _service_model(name: str):
    found = service(name)
    if found is None:
        return None
    try:
        return get_session().get_service_model(found.botocore)
    except (UnknownServiceError, DataNotFoundError):
        return None


@cache
def operation_for(service_name: str, action: str) -> str | None:
    """The botocore OperationName for a camelCase action, or None if the service has no such API."""
    model = _service_model(service_name)
    wanted = camel(action or "")
    return next((op for op in model.operation_names if camel(op) == wanted), None) if model else None


@cache
def operation_model(service_name: str, action: str):
    """botocore's model of the API action (camelCase or OperationName), or None."""
    model = _service_model(service_name)
    operation = operation_for(service_name, action)
    if model is None or operation is None:
        return None
    return model.operation_model(operation)


def fold(value: Any, shape) -> Any:
    """The Input with its member names matched to botocore's without regard to case (Scheduler takes
    the service's JSON casing, StateMachineArn for sfn's stateMachineArn), for botocore's validator."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        names = {name.lower(): name for name in shape.members}
        folded = {}
        for key, item in value.items():
            name = names.get(key.lower()) if isinstance(key, str) else None
            folded[name or key] = fold(item, shape.members[name]) if name else item
        return folded
    if shape.type_name == "list" and isinstance(value, list):
        return [fold(item, shape.member) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: fold(item, shape.value) for key, item in value.items()}
    return value
