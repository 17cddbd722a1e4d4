"""Execution roles: the consoles' "Create new role" as pure functions (policy documents and ApiCalls).

Two callers, one shape each:

- schedules (EventBridge Scheduler calls every target as the schedule's execution role):
  `scheduler_role_name`, `scheduler_trust_policy`, `scheduler_permissions_policy`, `create_role_calls`;
- rule targets that need a role (Kinesis, Step Functions, ECS, Batch, another bus, API destinations...):
  `rule_role_name`, `rule_trust_policy`, `rule_permissions_policy`, `create_role_calls`.

Naming follows the consoles: `/service-role/Amazon_EventBridge_Scheduler_<TARGET>_<10 hex>` and
`/service-role/Amazon_EventBridge_Invoke_<Target>_<digits>`. The trust policies carry the conditions
AWS recommends against the confused deputy: aws:SourceAccount, and aws:SourceArn = the schedule
GROUP's ARN (Scheduler refuses a role whose condition names the schedule itself) or the rule's ARN.
The permissions go in one inline policy (PutRolePolicy): it goes with the role when the role is
deleted and needs no versions. The role carries a tag naming what EventConsole created it for, so
the tag, read back from IAM, is the record that the role is ours (`created_for`).

Nothing here talks to AWS: `read_role` is the one reader, given a client by the caller.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from changes.calls import ApiCall

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
SERVICE_ROLE_PATH = "/service-role/"
SCHEDULER_POLICY_NAME = "Amazon-EventBridge-Scheduler-Execution-Policy"
RULE_POLICY_NAME = "Amazon-EventBridge-Invoke-Policy"
CREATED_FOR_TAG = "eventconsole:created-for"  # value: the schedule's "group/name" or the rule's ARN
ROLE_NAME_MAX = 64  # IAM RoleName: 1-64 of [\w+=,.@-]
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")  # IAM's RoleName
ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
VERSION = "2012-10-17"

# The Scheduler console's label for each templated target (the <TARGET> of the role's name).
SCHEDULER_LABELS = {"lambda": "LAMBDA", "sqs": "SQS", "sns": "SNS", "states": "SFN", "events": "EVENTBRIDGE",
                    "kinesis": "KINESIS", "firehose": "FIREHOSE", "codebuild": "CODEBUILD",
                    "codepipeline": "CODEPIPELINE", "ecs": "ECS", "sagemaker": "SAGEMAKER", "inspector": "INSPECTOR"}
# Templated targets: the one action Scheduler calls for a plain resource ARN ("Using templated targets").
SCHEDULER_ACTIONS = {"lambda": "lambda:InvokeFunction", "sqs": "sqs:SendMessage", "sns": "sns:Publish",
                     "states": "states:StartExecution", "events": "events:PutEvents", "kinesis": "kinesis:PutRecord",
                     "firehose": "firehose:PutRecord", "codebuild": "codebuild:StartBuild",
                     "codepipeline": "codepipeline:StartPipelineExecution", "ecs": "ecs:RunTask",
                     "sagemaker": "sagemaker:StartPipelineExecution", "inspector": "inspector:StartAssessmentRun"}
# Universal targets name the SDK's service; IAM's action prefix differs for a few of them.
IAM_PREFIX = {"sfn": "states", "elasticloadbalancingv2": "elasticloadbalancing", "elbv2": "elasticloadbalancing",
              "cloudwatchlogs": "logs", "cloudwatchevents": "events", "eventbridge": "events",
              "stepfunctions": "states", "applicationautoscaling": "application-autoscaling"}
UNIVERSAL = re.compile(r"^arn:aws:scheduler:::aws-sdk:([a-z0-9.-]+):([a-zA-Z0-9]+)$")

# Rule targets: THE list of which need an execution role and which are reached through a resource-based
# policy (rules.spec.ROLE_REQUIRED and delivery.policies read it). Keyed by the rule target form's type.
ROLE, POLICY, OPTIONAL = "role", "policy", "optional"


@dataclass(frozen=True)
class RuleTarget:
    """One kind of rule target, as the EventBridge console treats its permissions."""

    service: str  # the target ARN's service
    words: str  # how the console names such a target ("Kinesis stream")
    label: str  # the <Target> of a new role's name (Amazon_EventBridge_Invoke_<Target>_<digits>)
    actions: tuple[str, ...]  # what a new role may do on the target; (): EventConsole does not create one
    access: str  # ROLE: an execution role is required; POLICY: a resource-based policy (the default, which
    # delivery.policies writes) or an execution role; OPTIONAL: a role may be given
    prefix: str = ""  # the ARN's resource prefix, where one service has several kinds


RULE_TARGETS: dict[str, RuleTarget] = {
    "lambda": RuleTarget("lambda", "Lambda function", "Lambda", ("lambda:InvokeFunction",), POLICY),
    "sns": RuleTarget("sns", "SNS topic", "Sns", ("sns:Publish",), POLICY),
    "sqs": RuleTarget("sqs", "SQS queue", "Sqs", ("sqs:SendMessage",), POLICY),
    "logs": RuleTarget("logs", "log group", "Logs", (), OPTIONAL),  # resource policy only (delivery.policies)
    "apigateway": RuleTarget("execute-api", "API Gateway endpoint", "Api_Gateway", (), OPTIONAL),
    "events": RuleTarget("events", "event bus", "Event_Bus", ("events:PutEvents",), ROLE, "event-bus/"),
    "api_destination": RuleTarget("events", "API destination", "Api_Destination",
                                  ("events:InvokeApiDestination",), ROLE, "api-destination/"),
    "ec2": RuleTarget("events", "EC2 built-in action", "EC2", (), ROLE, "target/"),
    "states": RuleTarget("states", "Step Functions state machine", "Step_Functions", ("states:StartExecution",), ROLE),
    "kinesis": RuleTarget("kinesis", "Kinesis stream", "Kinesis", ("kinesis:PutRecord",), ROLE),
    "ecs": RuleTarget("ecs", "ECS task", "ECS", ("ecs:RunTask",), ROLE),
    "batch": RuleTarget("batch", "Batch job queue", "Batch", ("batch:SubmitJob",), ROLE),
    "codebuild": RuleTarget("codebuild", "CodeBuild project", "CodeBuild", ("codebuild:StartBuild",), ROLE),
    "codepipeline": RuleTarget("codepipeline", "CodePipeline pipeline", "CodePipeline",
                               ("codepipeline:StartPipelineExecution",), ROLE),
    "firehose": RuleTarget("firehose", "Firehose stream", "Firehose", ("firehose:PutRecord", "firehose:PutRecordBatch"),
                           ROLE),
    "inspector": RuleTarget("inspector", "Inspector assessment template", "Inspector", (), ROLE),
    "redshift": RuleTarget("redshift", "Redshift cluster", "Redshift", (), ROLE),
    "redshift_serverless": RuleTarget("redshift-serverless", "Redshift Serverless workgroup", "Redshift", (), ROLE),
    "sagemaker": RuleTarget("sagemaker", "SageMaker pipeline", "SageMaker", ("sagemaker:StartPipelineExecution",),
                            ROLE),
    "ssm": RuleTarget("ssm", "Systems Manager", "SSM", (), ROLE),
    "incidents": RuleTarget("ssm-incidents", "Incident Manager response plan", "Incident_Manager", (), ROLE),
    "appsync": RuleTarget("appsync", "AppSync API", "AppSync", (), ROLE),
}


def rule_target_kind(target_arn: str) -> str:
    """The RULE_TARGETS key of a target ARN ("" when none)."""
    parts = (target_arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return ""
    service, resource = parts[2], parts[5]
    for kind, target in RULE_TARGETS.items():
        if target.service == service and resource.startswith(target.prefix):
            return kind
    return ""


def role_required_services() -> dict[str, str]:
    """ARN service -> the console's words, for every rule target that cannot be reached without a role."""
    found: dict[str, str] = {}
    for target in RULE_TARGETS.values():
        if target.access == ROLE:
            found.setdefault(target.service, target.words)
    return found


def resource_policy_services() -> dict[str, str]:
    """ARN service -> words, for the rule targets a resource-based policy can open (delivery.policies)."""
    return {t.service: t.words for t in RULE_TARGETS.values() if t.access == POLICY or t.service == "logs"}


def can_create_rule_role(target_kind: str) -> bool:
    """Whether "Create a new role for this specific resource" is offered for this kind of target."""
    return bool(RULE_TARGETS.get(target_kind) and RULE_TARGETS[target_kind].actions)


class RoleError(ValueError):
    """A role cannot be built for this target (say why, in words)."""


# ---------------------------------------------------------------------------------------------
# ARNs and names
# ---------------------------------------------------------------------------------------------
def role_arn(account_id: str, name: str, *, path: str = SERVICE_ROLE_PATH, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role{path}{name}"


def new_role_arn(name: str, environment) -> tuple[str, str]:
    """(the ARN a new role named `name` will have in `environment`'s account, "") or ("", what is wrong
    with it, in words, for the form's role-name field): IAM's name rule, and an account ID to name it in."""
    if not name:
        return "", "Enter a name for the new role."
    if not ROLE_NAME.match(name):
        return "", "A role name is 1 to 64 letters, numbers and + = , . @ _ - (IAM's rule)."
    account = environment.account_id if environment is not None else ""
    if not account:
        where = environment.name if environment is not None else "This environment"
        return "", (f"{where} has no AWS account ID, so the new role's ARN cannot be known: set the account ID "
                    "on the environment, or use an existing role.")
    return role_arn(account, name), ""


def role_name_of(arn: str) -> str:
    """The RoleName of a role ARN ("" when it is not one)."""
    match = ROLE_ARN.match(arn or "")
    return match.group(2) if match else ""


def role_account_of(arn: str) -> str:
    match = ROLE_ARN.match(arn or "")
    return match.group(1) if match else ""


def _service(arn: str) -> str:
    parts = (arn or "").split(":", 5)
    return parts[2] if len(parts) == 6 and parts[0] == "arn" else ""


def scheduler_target_label(target_arn: str) -> str:
    """LAMBDA, SQS, ... for a templated target; the SDK service upper-cased for a universal one."""
    universal = UNIVERSAL.match(target_arn or "")
    if universal:
        return re.sub(r"[^A-Z0-9]", "_", universal.group(1).upper())
    return SCHEDULER_LABELS.get(_service(target_arn), "TARGET")


def _fit(prefix: str, label: str, suffix: str) -> str:
    room = ROLE_NAME_MAX - len(prefix) - len(suffix) - 2
    return f"{prefix}_{label[:room]}_{suffix}"


def scheduler_role_name(target_arn: str, *, suffix: str | None = None) -> str:
    """Amazon_EventBridge_Scheduler_<TARGET>_<10 hex>, as the Scheduler console names a new role."""
    return _fit("Amazon_EventBridge_Scheduler", scheduler_target_label(target_arn), suffix or secrets.token_hex(5))


def rule_role_name(target_kind: str, *, suffix: str | None = None) -> str:
    """Amazon_EventBridge_Invoke_<Target>_<digits>, as the EventBridge console names a new role."""
    target_kind = target_kind.replace("-", "_")  # "api-destination" as well as the form's "api_destination"
    label = RULE_TARGETS[target_kind].label if target_kind in RULE_TARGETS else "Target"
    return _fit("Amazon_EventBridge_Invoke", label, suffix or str(secrets.randbelow(10 ** 10)).zfill(10))


def schedule_group_arn(*, region: str, account_id: str, group: str) -> str:
    return f"arn:aws:scheduler:{region}:{account_id}:schedule-group/{group or 'default'}"


def rule_arn(*, region: str, account_id: str, bus: str, name: str) -> str:
    path = name if (bus or "default") == "default" else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account_id}:rule/{path}"


# ---------------------------------------------------------------------------------------------
# Policy documents
# ---------------------------------------------------------------------------------------------
def _trust(principal: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [{
        "Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole", "Condition": condition}]}


def scheduler_trust_policy(*, account_id: str, region: str, group: str) -> dict[str, Any]:
    """Scheduler may assume the role only for schedules of this account's group ("Confused deputy
    prevention"): aws:SourceArn is the schedule GROUP's ARN, never a schedule's."""
    return _trust(SCHEDULER_PRINCIPAL, {"StringEquals": {
        "aws:SourceAccount": account_id,
        "aws:SourceArn": schedule_group_arn(region=region, account_id=account_id, group=group)}})


def rule_trust_policy(*, account_id: str, rule_arn: str) -> dict[str, Any]:
    """EventBridge may assume the role only on behalf of this rule of this account."""
    return _trust(EVENTS_PRINCIPAL, {"ArnEquals": {"aws:SourceArn": rule_arn},
                                     "StringEquals": {"aws:SourceAccount": account_id}})


def _allow(action: str | list[str], resource: str | list[str], condition: dict | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _pass_role_to_ecs() -> dict[str, Any]:
    return _allow("iam:PassRole", "*", {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})


def universal_action(target_arn: str) -> str:
    """arn:aws:scheduler:::aws-sdk:ec2:startInstances → ec2:StartInstances ("" when not universal)."""
    match = UNIVERSAL.match(target_arn or "")
    if not match:
        return ""
    service, api = match.groups()
    return f"{IAM_PREFIX.get(service, service)}:{api[:1].upper()}{api[1:]}"


def _ecs_statements(target: dict[str, Any]) -> list[dict[str, Any]]:
    ecs = target.get("EcsParameters") or {}
    task = ecs.get("TaskDefinitionArn") or "*"
    if task != "*" and task.rsplit(":", 1)[-1].isdigit():
        task = task.rsplit(":", 1)[0] + ":*"  # every revision of the family, as the console scopes it
    return [_allow("ecs:RunTask", task, {"ArnLike": {"ecs:cluster": target.get("Arn", "")}}), _pass_role_to_ecs()]


def scheduler_permissions_policy(target: dict[str, Any], *, kms_key_arn: str = "") -> dict[str, Any]:
    """What the role may do: the templated target's action on that resource (or the universal
    target's service:Action on "*"), sqs:SendMessage on the dead-letter queue, kms:Decrypt on the key."""
    arn = target.get("Arn") or ""
    statements: list[dict[str, Any]] = []
    action = universal_action(arn)
    if action:
        statements.append(_allow(action, "*"))
    else:
        service = _service(arn)
        if service not in SCHEDULER_ACTIONS:
            raise RoleError(f"EventBridge Scheduler has no templated target for {arn or 'an empty ARN'}; "
                            "choose a target first.")
        if service == "lambda":
            function = arn if arn.count(":") == 6 else arn.rsplit(":", 1)[0]
            statements.append(_allow("lambda:InvokeFunction", [function, f"{function}:*"]))
        elif service == "ecs":
            statements.extend(_ecs_statements(target))
        elif service == "inspector":
            statements.append(_allow("inspector:StartAssessmentRun", "*"))  # no resource-level permission
        else:
            statements.append(_allow(SCHEDULER_ACTIONS[service], arn))
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq:
        statements.append(_allow("sqs:SendMessage", dlq))
    if kms_key_arn:
        statements.append(_allow("kms:Decrypt", kms_key_arn))
    return {"Version": VERSION, "Statement": statements}


def rule_permissions_policy(target_kind: str, target_arn: str, *, ecs_task_definition: str = "",
                            dead_letter_arn: str = "") -> dict[str, Any]:
    """A rule target's role: the action(s) of RULE_TARGETS on the target (ECS: RunTask on the task
    definition in that cluster + iam:PassRole to ECS tasks); sqs:SendMessage on a DLQ where set."""
    target_kind = target_kind.replace("-", "_")
    if not can_create_rule_role(target_kind):
        raise RoleError(f"EventConsole does not create a role for a {target_kind} target; choose an existing role.")
    actions = list(RULE_TARGETS[target_kind].actions)
    if target_kind == "ecs":
        statements = _ecs_statements({"Arn": target_arn, "EcsParameters": {"TaskDefinitionArn": ecs_task_definition}})
    elif target_kind == "batch":
        # SubmitJob is authorised on the job queue and the job definition
        statements = [_allow(actions[0], [target_arn, target_arn.split(":job-queue/")[0] + ":job-definition/*"])]
    elif target_kind == "lambda":
        statements = [_allow(actions[0], [target_arn, f"{target_arn}:*"] if target_arn.count(":") == 6
                             else target_arn)]
    else:
        statements = [_allow(actions if len(actions) > 1 else actions[0], target_arn)]
    if dead_letter_arn:
        statements.append(_allow("sqs:SendMessage", dead_letter_arn))
    return {"Version": VERSION, "Statement": statements}


# ---------------------------------------------------------------------------------------------
# The calls
# ---------------------------------------------------------------------------------------------
POLICY_PARAMS = ("AssumeRolePolicyDocument", "PolicyDocument")


@dataclass(frozen=True)
class IamCall(ApiCall):
    """An ApiCall whose policy documents stay JSON objects in the plan (readable at review) and
    become the strings IAM takes when the call is made."""

    def execute(self, client) -> dict[str, Any]:
        params = {k: json.dumps(v) if k in POLICY_PARAMS and not isinstance(v, str) else v
                  for k, v in self.params.items()}
        response = getattr(client, self.method)(**params)
        response.pop("ResponseMetadata", None)
        return _json_safe(response)


def _json_safe(value: Any) -> Any:
    """IAM answers carry datetimes (CreateDate); the apply log and the audit keep JSON."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class NewRole:
    """A role to create: its name, trust and permissions policies, and what it is created for."""

    name: str
    trust: dict[str, Any]
    permissions: dict[str, Any]
    policy_name: str
    created_for: str
    description: str = ""
    path: str = SERVICE_ROLE_PATH


def create_role_calls(role: NewRole, live: dict[str, Any] | None) -> list[IamCall]:
    """CreateRole (trust policy, tag) then PutRolePolicy (permissions), only what is missing:
    `live` is `read_role`'s answer for the role (None: it does not exist)."""
    calls: list[IamCall] = []
    if live is None:
        calls.append(IamCall("iam", "CreateRole", {
            "RoleName": role.name, "Path": role.path, "AssumeRolePolicyDocument": role.trust,
            "Description": role.description[:1000],
            "Tags": [{"Key": CREATED_FOR_TAG, "Value": role.created_for[:256]}]},
            f"Create execution role {role.name} (trust policy below)"))
    if live is None or live.get("policies", {}).get(role.policy_name) != role.permissions:
        calls.append(IamCall("iam", "PutRolePolicy", {
            "RoleName": role.name, "PolicyName": role.policy_name, "PolicyDocument": role.permissions},
            f"Give role {role.name} its permissions (inline policy {role.policy_name}, below)"))
    return calls


def delete_role_calls(live: dict[str, Any]) -> list[IamCall]:
    """DeleteRolePolicy for each inline policy, then DeleteRole (IAM refuses to delete a role that has any)."""
    name = live["name"]
    calls = [IamCall("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": policy},
                     f"Delete inline policy {policy} of role {name}") for policy in sorted(live.get("policies", {}))]
    calls.append(IamCall("iam", "DeleteRole", {"RoleName": name},
                         f"Delete execution role {name} (EventConsole created it for this object only)"))
    return calls


# ---------------------------------------------------------------------------------------------
# Reading a role, and its trust
# ---------------------------------------------------------------------------------------------
def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(unquote(value))
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _allows(statement: Any, principal: str) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    actions = statement.get("Action") or []
    actions = [actions] if isinstance(actions, str) else actions
    return any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions) and principal in _services(statement)


def trusts(document: Any, principal: str) -> bool:
    """Whether a trust policy has an Allow statement for `principal` to sts:AssumeRole."""
    return any(_allows(st, principal) for st in _document(document).get("Statement") or [])


def _condition_values(statement: dict, key: str) -> list[tuple[str, list[str]]]:
    """[(operator, values)] of the statement's conditions on `key` (condition keys ignore case)."""
    found = []
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, dict):
            continue
        for name, values in block.items():
            if name.lower() == key.lower():
                found.append((operator, [values] if isinstance(values, str) else [str(v) for v in values or []]))
    return found


def _matches(operator: str, values: list[str], actual: str) -> bool:
    from fnmatch import fnmatchcase

    base = operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:").removesuffix("IfExists")
    if base in ("StringLike", "ArnLike"):
        return any(fnmatchcase(actual, v) for v in values)
    if base in ("StringEquals", "ArnEquals"):
        return actual in values
    if base == "StringEqualsIgnoreCase":
        return actual.lower() in (v.lower() for v in values)
    return True  # an operator not checked here (negations...): do not warn on it


def _conditions_allow(statement: dict, context: dict[str, str]) -> bool:
    return all(_matches(op, values, actual) for key, actual in context.items()
               for op, values in _condition_values(statement, key))


def trust_warning(role_label: str, document: Any, principal: str = SCHEDULER_PRINCIPAL, *,
                  context: dict[str, str] | None = None) -> str:
    """'' when the trust policy lets `principal` assume the role; otherwise the warning, in words.
    `context`: the request's condition values ({"aws:SourceAccount": ..., "aws:SourceArn": ...}) that a
    statement's conditions must allow (a role made for another schedule group fails here)."""
    statements = [st for st in _document(document).get("Statement") or [] if _allows(st, principal)]
    if statements and any(_conditions_allow(st, context or {}) for st in statements):
        return ""
    if statements:
        wanted = ", ".join(f"{k} = {v}" for k, v in (context or {}).items())
        return (f"Role {role_label} cannot be used by this schedule: its trust policy allows {principal} only "
                f"under conditions this schedule does not meet ({wanted}).")
    allowed = sorted({s for st in _document(document).get("Statement") or [] if isinstance(st, dict)
                      for s in _services(st)})
    who = f"only {', '.join(allowed)}" if allowed else "no AWS service"
    return (f"Role {role_label} cannot be used by EventBridge Scheduler: its trust policy allows {who} to "
            f"assume it, not {principal}. Every run of the schedule would fail until the trust policy is fixed.")


def rule_trust_warning(role_label: str, document: Any, *, context: dict[str, str] | None = None) -> str:
    """'' when the trust policy lets EventBridge assume the role for this rule (`context`: the rule's
    {"aws:SourceArn", "aws:SourceAccount"}); otherwise the warning, in words."""
    statements = [st for st in _document(document).get("Statement") or [] if _allows(st, EVENTS_PRINCIPAL)]
    if statements and any(_conditions_allow(st, context or {}) for st in statements):
        return ""
    if statements:
        wanted = ", ".join(f"{k} = {v}" for k, v in (context or {}).items())
        return (f"Role {role_label} cannot be used by this rule: its trust policy allows {EVENTS_PRINCIPAL} only "
                f"under conditions this rule does not meet ({wanted}), so events will not reach the target.")
    return (f"Role {role_label} cannot be used by this rule: its trust policy does not allow {EVENTS_PRINCIPAL} to "
            f"assume it, so events will not reach the target until the trust policy is fixed.")


def rule_context(*, account_id: str, rule_arn: str) -> dict[str, str]:
    """The condition values EventBridge sends when it assumes a rule target's role."""
    context = {"aws:SourceArn": rule_arn}
    if account_id:
        context["aws:SourceAccount"] = account_id
    return context


def scheduler_context(*, account_id: str, region: str, group: str) -> dict[str, str]:
    """The condition values Scheduler sends when it assumes a schedule's role."""
    context = {"aws:SourceArn": schedule_group_arn(region=region, account_id=account_id, group=group)}
    if account_id:
        context["aws:SourceAccount"] = account_id
    return context


def _services(statement: dict) -> list[str]:
    principal = statement.get("Principal") or {}
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return [services] if isinstance(services, str) else list(services)


def read_role(client, name: str) -> dict[str, Any] | None:
    """{"name", "arn", "trust", "tags", "policies": {name: document}} or None when IAM has no such role."""
    try:
        role = client.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise
    tags = {t["Key"]: t["Value"] for t in role.get("Tags") or []}
    if not tags:
        tags = {t["Key"]: t["Value"] for t in client.list_role_tags(RoleName=name).get("Tags", [])}
    policies: dict[str, Any] = {}
    for page in client.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page.get("PolicyNames", []):
            policies[policy] = _document(client.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
    return {"name": role["RoleName"], "arn": role["Arn"], "trust": _document(role.get("AssumeRolePolicyDocument")),
            "tags": tags, "policies": policies}


def created_for(live: dict[str, Any] | None) -> str:
    """What EventConsole created the role for ('' when EventConsole did not create it)."""
    return ((live or {}).get("tags") or {}).get(CREATED_FOR_TAG, "")
