"""Resource-based policies that let EventBridge deliver a rule's events to its targets.

A rule whose target is a Lambda function, an SNS topic, an SQS queue (target or dead-letter queue)
or a CloudWatch Logs log group delivers only if that resource's policy lets `events.amazonaws.com`
in for this rule. What this module does, as the AWS console does:

- `needs(spec, rule_arn=...)`: the statements a rule needs (one per target and per DLQ);
- `read(environment, resources)`: the policies of those resources, one read per distinct resource
  (Lambda GetPolicy, SNS GetTopicAttributes, SQS GetQueueAttributes) and one paged
  DescribeResourcePolicies for every log group of the Region;
- `plan(want, state, ours, rule_arn=...)`: the calls that add what is missing and remove the
  statements EventConsole added that are no longer needed (pure);
- `recorded_after(ours, call, ...)`: which statements are EventConsole's after a call succeeded, so
  that exactly those, never others', are removed when the target or the rule goes;
- `problems(...)` / `receivers(...)`: what a person reads on the rule's page.

Statement ids: for Lambda the console's own `AWSEvents_<rule>_<targetId>` (the console's edit flow
relies on it); elsewhere `EventConsole_<bus>_<rule>_<targetId>[_dlq]`, which only EventConsole writes.
Ids keep to `[A-Za-z0-9_-]`, at most 100 characters (longer ones end in a hash).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Iterable

from changes.calls import ApiCall

from . import roles

EVENTS = "events.amazonaws.com"
VERSION = "2012-10-17"
LOGS_POLICY = "EventConsole-EventBridge-to-Logs"  # our shared Logs resource policies: this name, then -2, -3 …
LOGS_POLICY_CHARS = 5120  # the CloudWatch Logs quota on one resource policy's size
LOGS_POLICIES_PER_REGION = 10  # account-level Logs resource policies per Region (not adjustable)
LOGS_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
SID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
SID_MAX = 100
ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
                 r"(?P<account>\d{12})?:(?P<resource>.+)$")
# The targets a resource-based policy opens: from the one list of rule targets (delivery.roles.RULE_TARGETS).
SERVICE_LABEL = roles.resource_policy_services()


@dataclass(frozen=True)
class Need:
    """One statement a rule needs on one resource."""

    service: str  # "lambda" | "sns" | "sqs" | "logs"
    resource: str  # the function ARN (with its qualifier, if any), topic, queue or log group ARN
    target_id: str
    dlq: bool  # the target's dead-letter queue, not the target itself
    sid: str  # the statement id EventConsole writes
    label: str  # "Do_nothing", "Topic1"

    @property
    def key(self) -> tuple[str, str]:
        return self.service, self.resource

    def sids(self, rule_arn: str) -> tuple[str, str]:
        """The id, and the one used when another statement already holds it."""
        return self.sid, _bounded(f"{self.sid[:SID_MAX - 9]}_{_hash(rule_arn)}")


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _bounded(sid: str) -> str:
    sid = SID_CHARS.sub("_", sid)
    return sid if len(sid) <= SID_MAX else f"{sid[:SID_MAX - 9]}_{_hash(sid)}"


def parse_arn(arn: str) -> dict[str, str] | None:
    match = ARN.match(arn or "")
    return match.groupdict() if match else None


def rule_parts(rule_arn: str) -> tuple[str, str]:
    """(bus, name) from a rule ARN: rule/<name> on the default bus, rule/<bus>/<name> otherwise."""
    resource = (parse_arn(rule_arn) or {}).get("resource", "")
    parts = resource.split("/")
    return ("default", parts[-1]) if len(parts) == 2 else ("/".join(parts[1:-1]), parts[-1])


def _resource_of(arn: str) -> tuple[str, str, str] | None:
    """(service, resource ARN, label) for a target or DLQ ARN that needs a resource policy."""
    parts = parse_arn(arn)
    if parts is None:
        return None
    service, resource = parts["service"], parts["resource"]
    if service == "lambda" and resource.startswith("function:"):
        return "lambda", arn, resource.split(":")[1]
    if service in ("sns", "sqs") and ":" not in resource and "/" not in resource:
        return service, arn, resource
    if service == "logs" and resource.startswith("log-group:"):
        return "logs", arn.removesuffix(":*"), resource.removeprefix("log-group:").removesuffix(":*")
    return None


def needs(spec: dict[str, Any] | None, *, rule_arn: str) -> list[Need]:
    """The statements the rule of `spec` needs: one per Lambda, SNS, SQS or log group target (unless
    the target is reached through its own RoleArn) and one per dead-letter queue. Resources in
    another account or Region are the owner's to open (AWS: a cross-account DLQ's policy is yours
    to add) and are left out."""
    rule = parse_arn(rule_arn)
    if not spec or rule is None:
        return []
    bus, name = rule_parts(rule_arn)
    found: list[Need] = []
    for target in spec.get("Targets") or []:
        target_id = str(target.get("Id", ""))
        candidates = []
        if not target.get("RoleArn"):
            candidates.append((target.get("Arn", ""), False))
        if (target.get("DeadLetterConfig") or {}).get("Arn"):
            candidates.append((target["DeadLetterConfig"]["Arn"], True))
        for arn, dlq in candidates:
            what = _resource_of(arn)
            parts = parse_arn(arn) or {}
            if what is None or (dlq and what[0] != "sqs"):
                continue
            if parts.get("account") != rule["account"] or parts.get("region") != rule["region"]:
                continue
            service, resource, label = what
            if service == "lambda":
                sid = _bounded(f"AWSEvents_{name}_{target_id}")
            else:
                sid = _bounded(f"EventConsole_{bus}_{name}_{target_id}{'_dlq' if dlq else ''}")
            found.append(Need(service, resource, target_id, dlq, sid, label))
    return found


# ---------------------------------------------------------------------------------------------
# What a statement grants
# ---------------------------------------------------------------------------------------------
def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: dict | None) -> list[dict]:
    return [s for s in _as_list((document or {}).get("Statement")) if isinstance(s, dict)]


def _principal_ok(statement: dict) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return EVENTS in _as_list(principal.get("Service")) or "*" in _as_list(principal.get("AWS"))


def _condition_ok(statement: dict, rule_arn: str) -> bool:
    """Only conditions on the rule (aws:SourceArn) or its account (aws:SourceAccount) are understood;
    any other condition is taken as not granting (EventConsole then adds its own statement)."""
    account = (parse_arn(rule_arn) or {}).get("account", "")
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, dict):
            return False
        like = operator in ("ArnLike", "StringLike")
        if operator not in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
            return False
        for key, values in block.items():
            expected = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account}.get(key.lower())
            if expected is None:
                return False
            if not any(fnmatchcase(expected, v) if like else expected == v for v in _as_list(values)):
                return False
    return True


def grants(statement: dict, *, actions: Iterable[str], resource: str | None, rule_arn: str) -> bool:
    """Does `statement` let EventBridge's rule `rule_arn` do every one of `actions` on `resource`?"""
    if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotPrincipal" in statement:
        return False
    if not _principal_ok(statement) or not _condition_ok(statement, rule_arn):
        return False
    allowed = [a.lower() for a in _as_list(statement.get("Action"))]
    if not all(any(fnmatchcase(action.lower(), a) for a in allowed) for action in actions):
        return False
    if resource is not None and "Resource" in statement:
        return any(fnmatchcase(resource, r) for r in _as_list(statement["Resource"]))
    return resource is None or "NotResource" not in statement


def our_statement(need: Need, sid: str, *, rule_arn: str) -> dict:
    """The statement EventConsole writes for `need` (SNS, SQS, Logs; Lambda's is AddPermission's)."""
    if need.service == "logs":
        # Scoped to the log group's streams; AWS's own example for EventBridge has no condition.
        return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": EVENTS}, "Action": LOGS_ACTIONS,
                "Resource": f"{need.resource}:*"}
    action = "sns:Publish" if need.service == "sns" else "sqs:SendMessage"
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": EVENTS}, "Action": action,
            "Resource": need.resource, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}


def _check(need: Need, statement: dict, rule_arn: str) -> bool:
    if need.service == "lambda":
        return grants(statement, actions=["lambda:InvokeFunction"], resource=None, rule_arn=rule_arn)
    if need.service == "logs":
        return grants(statement, actions=LOGS_ACTIONS, resource=f"{need.resource}:log-stream:events",
                      rule_arn=rule_arn)
    action = "sns:Publish" if need.service == "sns" else "sqs:SendMessage"
    return grants(statement, actions=[action], resource=need.resource, rule_arn=rule_arn)


def _documents(need: Need, state: dict) -> list[dict] | None:
    """The policy documents that may let `need` in (None: the resource is missing or unreadable)."""
    if need.service == "logs":
        logs = state.get("logs") or {}
        if "Error" in logs:
            return None
        return [p["Document"] for p in logs.get("Policies", [])]
    entry = (state.get(need.service) or {}).get(need.resource)
    if entry is None or entry.get("Missing") or "Error" in entry:
        return None
    return [entry["Policy"]] if entry.get("Policy") else []


def allowed(need: Need, state: dict, *, rule_arn: str) -> bool | None:
    """True when the resource's policy lets the rule in; None when the resource could not be read."""
    documents = _documents(need, state)
    if documents is None:
        return None
    return any(_check(need, s, rule_arn) for doc in documents for s in statements(doc))


# ---------------------------------------------------------------------------------------------
# Reading (one call per distinct resource; one paged listing for every log group)
# ---------------------------------------------------------------------------------------------
def _code(exc) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _loads(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def queue_url(endpoint: str, queue_arn: str) -> str:
    """A queue's URL from its ARN, as `<endpoint>/<account>/<name>` (AWS and the emulator accept it)."""
    parts = parse_arn(queue_arn) or {}
    return f"{endpoint.rstrip('/')}/{parts.get('account', '')}/{parts.get('resource', '')}"


def queue_arn(url: str, *, rule_arn: str) -> str:
    parts = parse_arn(rule_arn) or {}
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:{parts.get('partition', 'aws')}:sqs:{parts.get('region', '')}:{account}:{name}"


def function_and_qualifier(arn: str) -> tuple[str, str]:
    """(unqualified function ARN, qualifier or "")."""
    head, _, rest = arn.partition(":function:")
    name, _, qualifier = rest.partition(":")
    return f"{head}:function:{name}", qualifier


def read(client, resources: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The policies of `resources` ((service, ARN) pairs): {"lambda": {arn: {"Policy"}}, "sns": …,
    "sqs": …, "logs": {"Policies": [{"Name", "Document"}]}}. `client(service)` gives the client.
    A resource that does not exist is {"Missing": True}; one that may not be read {"Error": words}."""
    from botocore.exceptions import ClientError

    state: dict[str, Any] = {}
    for service, arn in sorted(set(resources)):
        bucket = state.setdefault(service, {})
        if service == "logs":
            if "Policies" not in bucket and "Error" not in bucket:
                try:
                    bucket["Policies"] = _logs_policies(client("logs"))
                except ClientError as exc:
                    bucket["Error"] = _code(exc) or str(exc)
            continue
        try:
            if service == "lambda":
                function, qualifier = function_and_qualifier(arn)
                try:
                    answer = client("lambda").get_policy(FunctionName=function,
                                                         **({"Qualifier": qualifier} if qualifier else {}))
                    bucket[arn] = {"Policy": _loads(answer.get("Policy"))}
                except ClientError as exc:
                    if _code(exc) != "ResourceNotFoundException":  # also: no policy yet
                        raise
                    bucket[arn] = {"Policy": None}
            elif service == "sns":
                answer = client("sns").get_topic_attributes(TopicArn=arn)
                bucket[arn] = {"Policy": _loads(answer.get("Attributes", {}).get("Policy"))}
            elif service == "sqs":
                sqs = client("sqs")
                url = queue_url(sqs.meta.endpoint_url, arn)
                answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                bucket[arn] = {"Policy": _loads(answer.get("Attributes", {}).get("Policy")), "Url": url}
        except ClientError as exc:
            code = _code(exc)
            if code in ("NotFound", "NotFoundException", "AWS.SimpleQueueService.NonExistentQueue",
                        "QueueDoesNotExist", "ResourceNotFoundException"):
                bucket[arn] = {"Missing": True}
            else:
                bucket[arn] = {"Error": code or str(exc)}
    return state


def _logs_policies(logs) -> list[dict]:
    policies, token = [], None
    while True:
        page = logs.describe_resource_policies(**({"nextToken": token} if token else {}))
        for policy in page.get("resourcePolicies", []):
            policies.append({"Name": policy.get("policyName", ""),
                             "Document": _loads(policy.get("policyDocument")) or {}})
        token = page.get("nextToken")
        if not token:
            return policies


def subset(state: dict[str, Any], resources: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The part of a shared read that concerns `resources`."""
    found: dict[str, Any] = {}
    for service, arn in resources:
        if service == "logs":
            found["logs"] = state.get("logs", {})
        elif arn in state.get(service, {}):
            found.setdefault(service, {})[arn] = state[service][arn]
    return found


def resources_of(want: list[Need], ours: list[dict]) -> list[tuple[str, str]]:
    return sorted({n.key for n in want} | {(o["service"], o["resource"]) for o in ours})


# ---------------------------------------------------------------------------------------------
# The plan (pure)
# ---------------------------------------------------------------------------------------------
def _dump(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"))


def _matches(entry: dict, need: Need, rule_arn: str) -> bool:
    return (entry["service"], entry["resource"]) == need.key and entry["sid"] in need.sids(rule_arn)


def plan(want: list[Need], state: dict[str, Any], ours: list[dict], *, rule_arn: str) -> list[ApiCall]:
    """The calls that let every `want` in where its policy does not yet, and that take out the
    statements EventConsole added (`ours`) that no `want` needs any more. Nothing when all is there."""
    rule_name = rule_parts(rule_arn)[1]
    stale = [o for o in ours if not any(_matches(o, n, rule_arn) for n in want)]
    missing = [n for n in want if allowed(n, state, rule_arn=rule_arn) is False]
    calls: list[ApiCall] = []
    calls += _plan_lambda([n for n in missing if n.service == "lambda"],
                          [o for o in stale if o["service"] == "lambda"], state, rule_arn, rule_name)
    for service in ("sns", "sqs"):
        calls += _plan_document(service, [n for n in missing if n.service == service],
                                [o for o in stale if o["service"] == service], state, rule_arn, rule_name)
    calls += _plan_logs([n for n in missing if n.service == "logs"], [o for o in stale if o["service"] == "logs"],
                        state, rule_arn, rule_name)
    return calls


def _plan_lambda(missing, stale, state, rule_arn, rule_name) -> list[ApiCall]:
    calls = []
    for entry in stale:
        policy = ((state.get("lambda") or {}).get(entry["resource"]) or {}).get("Policy")
        if entry["sid"] not in {s.get("Sid") for s in statements(policy)}:
            continue  # already gone
        function, qualifier = function_and_qualifier(entry["resource"])
        calls.append(ApiCall("lambda", "RemovePermission", {
            "FunctionName": function, "StatementId": entry["sid"], **({"Qualifier": qualifier} if qualifier else {})},
            f"Remove the permission EventConsole added to Lambda function {_label(entry['resource'])} "
            f"(statement {entry['sid']})"))
    for need in missing:
        policy = state["lambda"][need.resource].get("Policy")
        taken = {s.get("Sid") for s in statements(policy)}
        sid = need.sid if need.sid not in taken else need.sids(rule_arn)[1]
        function, qualifier = function_and_qualifier(need.resource)
        calls.append(ApiCall("lambda", "AddPermission", {
            "FunctionName": function, "StatementId": sid, "Action": "lambda:InvokeFunction", "Principal": EVENTS,
            "SourceArn": rule_arn, **({"Qualifier": qualifier} if qualifier else {})},
            f"Allow rule {rule_name} to invoke Lambda function {need.label} (statement {sid})"))
    return calls


def _label(arn: str) -> str:
    what = _resource_of(arn)
    return what[2] if what else arn


def _plan_document(service, missing, stale, state, rule_arn, rule_name) -> list[ApiCall]:
    """SNS and SQS: one Get (at read time) and one Set per resource, the policy rewritten with our
    statements added or taken out and every other statement kept as it was."""
    calls = []
    for resource in sorted({n.resource for n in missing} | {o["resource"] for o in stale}):
        entry = (state.get(service) or {}).get(resource) or {}
        if "Policy" not in entry:
            continue  # missing or unreadable: nothing to write to
        had = entry.get("Policy")
        document = json.loads(json.dumps(had)) if had else {"Version": VERSION, "Statement": []}
        kept = statements(document)
        drop = {o["sid"] for o in stale if o["resource"] == resource}
        body = [s for s in kept if s.get("Sid") not in drop]
        removed = len(kept) - len(body)
        added = []
        for need in (n for n in missing if n.resource == resource):
            taken = {s.get("Sid") for s in body}
            sid = need.sid if need.sid not in taken else need.sids(rule_arn)[1]
            body.append(our_statement(need, sid, rule_arn=rule_arn))
            added.append(need)
        if not added and not removed:
            continue
        document["Statement"] = body
        label = SERVICE_LABEL[service]
        what = ("Allow rule " + rule_name + " to " + ("publish to" if service == "sns" else "send to")
                + f" {label} {_label(resource)}" if added else f"Remove EventConsole's statement from {label} {_label(resource)}")
        if added and removed:
            what += " and remove the statement(s) no longer needed"
        if service == "sns":
            calls.append(ApiCall("sns", "SetTopicAttributes", {
                "TopicArn": resource, "AttributeName": "Policy", "AttributeValue": _dump(document)},
                f"{what} (topic policy: statement{'s' if len(added) > 1 else ''} "
                f"{', '.join(n.sid for n in added) or 'removed'}; other statements kept)"))
        else:
            value = _dump(document) if body else ""  # "" removes a policy left with no statement
            calls.append(ApiCall("sqs", "SetQueueAttributes", {
                "QueueUrl": entry.get("Url", ""), "Attributes": {"Policy": value}},
                f"{what} (queue policy; other statements kept)"))
    return calls


def _plan_logs(missing, stale, state, rule_arn, rule_name) -> list[ApiCall]:
    """One shared account policy (named LOGS_POLICY, then -2, -3 … when one is full) holds a statement
    per rule and log group: the Region allows only LOGS_POLICIES_PER_REGION such policies."""
    logs = state.get("logs") or {}
    if "Policies" not in logs:
        return []
    policies = {p["Name"]: json.loads(json.dumps(p["Document"])) for p in logs["Policies"]}
    ours_names = sorted((n for n in policies if n == LOGS_POLICY or n.startswith(LOGS_POLICY + "-")),
                        key=lambda n: (len(n), n))
    touched: dict[str, str] = {}
    for entry in stale:
        name = entry.get("policy", "")
        if name in policies:
            before = statements(policies[name])
            after = [s for s in before if s.get("Sid") != entry["sid"]]
            if len(after) != len(before):
                policies[name]["Statement"] = after
                touched[name] = "remove"
    for need in missing:
        statement = our_statement(need, need.sid, rule_arn=rule_arn)
        for name in ours_names:
            body = [s for s in statements(policies[name]) if s.get("Sid") != need.sid]
            candidate = {**policies[name], "Statement": body + [statement]}
            if len(_dump(candidate)) <= LOGS_POLICY_CHARS:
                policies[name] = candidate
                touched[name] = "add"
                break
        else:
            name = LOGS_POLICY if not ours_names else f"{LOGS_POLICY}-{len(ours_names) + 1}"
            policies[name] = {"Version": VERSION, "Statement": [statement]}
            ours_names.append(name)
            touched[name] = "add"
    calls = []
    for name in sorted(touched):
        body = statements(policies[name])
        if not body:
            calls.append(ApiCall("logs", "DeleteResourcePolicy", {"policyName": name},
                                 f"Delete CloudWatch Logs resource policy {name} (EventConsole's, now empty)"))
        else:
            groups = ", ".join(_label(n.resource) for n in missing if touched[name] == "add") or "none added"
            calls.append(ApiCall("logs", "PutResourcePolicy", {"policyName": name, "policyDocument": _dump(policies[name])},
                                 f"Let EventBridge write rule {rule_name}'s events to log group(s) {groups} "
                                 f"(CloudWatch Logs resource policy {name})"))
    return calls


# ---------------------------------------------------------------------------------------------
# Which statements are EventConsole's (recorded after each successful call)
# ---------------------------------------------------------------------------------------------
def recorded_after(ours: list[dict], call: ApiCall, *, want: list[Need], rule_arn: str) -> list[dict]:
    """`ours` updated for `call`, which AWS just accepted. A statement is EventConsole's when it made
    it: AddPermission's own id; in a rewritten policy the ids of this rule's statements that were
    not there before (ours) or that EventConsole just wrote (ids only EventConsole uses)."""
    ours = [dict(o) for o in ours]
    params = call.params
    if call.service == "lambda" and call.operation in ("AddPermission", "RemovePermission"):
        resource = params["FunctionName"] + (f":{params['Qualifier']}" if params.get("Qualifier") else "")
        ours = [o for o in ours if not (o["service"] == "lambda" and o["resource"] == resource
                                        and o["sid"] == params["StatementId"])]
        if call.operation == "AddPermission":
            ours.append({"service": "lambda", "resource": resource, "sid": params["StatementId"]})
        return ours
    candidates = {sid for n in want for sid in n.sids(rule_arn) if not n.sid.startswith("AWSEvents_")}
    if call.operation in ("SetTopicAttributes", "SetQueueAttributes"):
        service = call.service
        if service == "sns":
            resource, text = params["TopicArn"], params.get("AttributeValue", "")
        else:
            resource, text = queue_arn(params["QueueUrl"], rule_arn=rule_arn), params["Attributes"].get("Policy", "")
        before = {o["sid"] for o in ours if o["service"] == service and o["resource"] == resource}
        now = {s.get("Sid") for s in statements(_loads(text))}
        keep = [o for o in ours if not (o["service"] == service and o["resource"] == resource)]
        return keep + [{"service": service, "resource": resource, "sid": sid}
                       for sid in sorted(now & (before | candidates))]
    if call.service == "logs" and call.operation in ("PutResourcePolicy", "DeleteResourcePolicy"):
        name = params["policyName"]
        before = {o["sid"] for o in ours if o["service"] == "logs" and o.get("policy") == name}
        keep = [o for o in ours if not (o["service"] == "logs" and o.get("policy") == name)]
        if call.operation == "DeleteResourcePolicy":
            return keep
        for statement in statements(_loads(params.get("policyDocument"))):
            if statement.get("Sid") in before | candidates:
                resource = str(_as_list(statement.get("Resource"))[0]).removesuffix(":*")
                keep.append({"service": "logs", "resource": resource, "sid": statement["Sid"], "policy": name})
        return keep
    return ours


# ---------------------------------------------------------------------------------------------
# In words
# ---------------------------------------------------------------------------------------------
def problem(need: Need, state: dict, *, rule_arn: str) -> str:
    """What stops `need` (empty when nothing does)."""
    ok = allowed(need, state, rule_arn=rule_arn)
    if ok:
        return ""
    entry = (state.get(need.service) or {}).get(need.resource) or {}
    if entry.get("Missing"):
        return f"{need.label} does not exist in AWS."
    if ok is None:
        return f"{need.label}'s policy could not be read: {entry.get('Error') or (state.get('logs') or {}).get('Error', '')}"
    if need.dlq:
        return (f"{need.label} cannot receive the events that target {need.target_id} could not deliver "
                "(dead-letter queue): its policy does not allow it")
    if need.service == "logs":
        return f"{need.label} cannot receive events from this rule: no CloudWatch Logs resource policy allows it"
    return f"{need.label} cannot receive events from this rule: its policy does not allow it"


def problems(spec: dict | None, state: dict, *, rule_arn: str) -> list[str]:
    return [p for n in needs(spec, rule_arn=rule_arn) if (p := problem(n, state, rule_arn=rule_arn))]


def receivers(spec: dict | None, state: dict | None, *, rule_arn: str) -> list[dict[str, Any]]:
    """For the rule's page: per target (and DLQ), whether it can receive the rule's events."""
    rows = []
    wanted = needs(spec, rule_arn=rule_arn)
    for target in (spec or {}).get("Targets") or []:
        target_id = str(target.get("Id", ""))
        label = _label(target.get("Arn", ""))
        mine = [n for n in wanted if n.target_id == target_id]
        if not mine:
            how = (f"through its role {target['RoleArn'].rsplit('/', 1)[-1]}" if target.get("RoleArn")
                   else "needs no resource policy EventConsole manages")
            rows.append({"id": target_id, "label": label, "ok": None, "text": f"{label}: {how}."})
            continue
        for need in mine:
            if state is None:
                rows.append({"id": target_id, "label": need.label, "ok": None,
                             "text": f"{need.label}: not checked yet."})
                continue
            text = problem(need, state, rule_arn=rule_arn)
            rows.append({"id": target_id, "label": need.label, "ok": not text, "text": text or (
                f"{need.label} can receive events from this rule" + (" (dead-letter queue)." if need.dlq else "."))})
    return rows
