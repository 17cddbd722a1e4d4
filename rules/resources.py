"""What exists in an environment, for the target and dead-letter-queue pickers (listed from AWS).

Each listing is cached for a short while so moving between steps stays fast; a listing that
fails gives an empty list and the reason, and the forms fall back to typing an ARN. Listings are
made while a person waits: they use interactive clients (one attempt, short timeouts) and share
the page's AWS time budget (AWS_INTERACTIVE_BUDGET_SECONDS), so a hung endpoint costs a few
seconds in all, not minutes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.core.cache import cache

from environments import aws

TTL = 30


@dataclass(frozen=True)
class Resource:
    arn: str
    label: str


class _client:  # noqa: N801 - used like the client it stands for
    """The interactive client, made on first use: inside the budget (an AssumeRole call counts too)."""

    def __init__(self, environment, service_name: str):
        self._environment, self._service_name = environment, service_name

    def __getattr__(self, name: str):
        return getattr(aws.client(self._environment, self._service_name, interactive=True), name)


def _cached(environment, kind: str, fetch) -> tuple[list[Resource], str]:
    key = f"resources:{environment.pk}:{environment.endpoint_url}:{environment.region}:{kind}"
    found = cache.get(key)
    if found is not None:
        return found, ""

    def fetch_and_cache():
        listed = fetch()
        cache.set(key, listed, TTL)  # also when the page stopped waiting: the next one finds it
        return listed

    try:
        return aws.within_budget(fetch_and_cache), ""
    except aws.BudgetSpent as exc:
        return [], f"{exc}; type the ARN instead."
    except (BotoCoreError, ClientError) as exc:
        return [], aws.describe_error(exc)


def _paginate(client, operation: str, key: str, **kwargs) -> list:
    items = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items += page.get(key, [])
    return items


def lambda_functions(environment):
    client = _client(environment, "lambda")
    return _cached(environment, "lambda", lambda: sorted(
        (Resource(f["FunctionArn"], f["FunctionName"]) for f in _paginate(client, "list_functions", "Functions")),
        key=lambda r: r.label.lower()))


def sns_topics(environment):
    client = _client(environment, "sns")
    return _cached(environment, "sns", lambda: sorted(
        (Resource(t["TopicArn"], t["TopicArn"].rsplit(":", 1)[-1]) for t in _paginate(client, "list_topics", "Topics")),
        key=lambda r: r.label.lower()))


def _queue_arn(environment, url: str) -> str:
    parts = urlsplit(url).path.strip("/").split("/")
    account, name = parts[-2], unquote(parts[-1])
    return f"arn:aws:sqs:{environment.region}:{account}:{name}"


def sqs_queues(environment):
    client = _client(environment, "sqs")

    def fetch():
        urls = _paginate(client, "list_queues", "QueueUrls")
        return sorted((Resource(_queue_arn(environment, u), unquote(u.rstrip("/").rsplit("/", 1)[-1])) for u in urls),
                      key=lambda r: r.label.lower())
    return _cached(environment, "sqs", fetch)


def state_machines(environment):
    client = _client(environment, "stepfunctions")
    return _cached(environment, "states", lambda: sorted(
        (Resource(m["stateMachineArn"], m["name"]) for m in _paginate(client, "list_state_machines", "stateMachines")),
        key=lambda r: r.label.lower()))


def event_buses(environment):
    client = _client(environment, "events")

    def fetch():
        buses, token = [], None
        while True:
            page = client.list_event_buses(**({"NextToken": token} if token else {}))
            buses += [Resource(b["Arn"], b["Name"]) for b in page.get("EventBuses", [])]
            token = page.get("NextToken")
            if not token:
                return sorted(buses, key=lambda r: (r.label != "default", r.label.lower()))
    return _cached(environment, "events", fetch)


def kinesis_streams(environment):
    client = _client(environment, "kinesis")

    def fetch():
        page = client.list_streams()
        summaries = page.get("StreamSummaries") or []
        return sorted((Resource(s["StreamARN"], s["StreamName"]) for s in summaries), key=lambda r: r.label.lower())
    return _cached(environment, "kinesis", fetch)


def log_groups(environment):
    client = _client(environment, "logs")
    return _cached(environment, "logs", lambda: sorted(
        (Resource(g["arn"].removesuffix(":*"), g["logGroupName"])
         for g in _paginate(client, "describe_log_groups", "logGroups")), key=lambda r: r.label.lower()))


def _trusts(role: dict, principal: str) -> bool:
    document = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(document, str):
        document = json.loads(unquote(document))
    for statement in document.get("Statement", []):
        services = (statement.get("Principal") or {}).get("Service", [])
        if principal in ([services] if isinstance(services, str) else services):
            return True
    return False


def roles_trusting(environment, principal: str):
    client = _client(environment, "iam")
    return _cached(environment, f"roles:{principal}", lambda: sorted(
        (Resource(r["Arn"], r["RoleName"]) for r in _paginate(client, "list_roles", "Roles") if _trusts(r, principal)),
        key=lambda r: r.label.lower()))


TARGET_LISTINGS = {
    "lambda": lambda_functions, "sns": sns_topics, "sqs": sqs_queues, "states": state_machines,
    "events": event_buses, "kinesis": kinesis_streams, "logs": log_groups,
}


# ---------------------------------------------------------------------------------------------
# Listings for EventBridge Scheduler's flow (schedule groups, ECS, CodeBuild, EC2)
# ---------------------------------------------------------------------------------------------
def schedule_groups(environment):
    """Schedule groups (ListScheduleGroups): `default` first. `arn` is the group's ARN, `label` its name."""
    client = _client(environment, "scheduler")
    return _cached(environment, "scheduler-groups", lambda: sorted(
        (Resource(g["Arn"], g["Name"]) for g in _paginate(client, "list_schedule_groups", "ScheduleGroups")
         if g.get("State", "ACTIVE") == "ACTIVE"),
        key=lambda r: (r.label != "default", r.label.lower())))


def ecs_clusters(environment):
    client = _client(environment, "ecs")
    return _cached(environment, "ecs-clusters", lambda: sorted(
        (Resource(arn, arn.rsplit("/", 1)[-1]) for arn in _paginate(client, "list_clusters", "clusterArns")),
        key=lambda r: r.label.lower()))


def ecs_task_definitions(environment):
    client = _client(environment, "ecs")
    return _cached(environment, "ecs-task-definitions", lambda: sorted(
        (Resource(arn, arn.rsplit("/", 1)[-1]) for arn in
         _paginate(client, "list_task_definitions", "taskDefinitionArns")), key=lambda r: r.label.lower()))


def codebuild_projects(environment):
    client = _client(environment, "codebuild")

    def fetch():
        names = _paginate(client, "list_projects", "projects")
        prefix = f"arn:aws:codebuild:{environment.region}:{environment.account_id or '123456789012'}:project/"
        return sorted((Resource(prefix + name, name) for name in names), key=lambda r: r.label.lower())
    return _cached(environment, "codebuild-projects", fetch)


def ec2_instances(environment):
    """Instances that are not terminated. `arn` holds the instance id; `label` its Name tag, id and state."""
    client = _client(environment, "ec2")

    def fetch():
        found = []
        for reservation in _paginate(client, "describe_instances", "Reservations"):
            for instance in reservation.get("Instances", []):
                state = instance.get("State", {}).get("Name", "")
                if state in ("terminated", "shutting-down"):
                    continue
                name = next((t["Value"] for t in instance.get("Tags", []) if t["Key"] == "Name"), "")
                instance_id = instance["InstanceId"]
                found.append(Resource(instance_id, f"{name} ({instance_id}, {state})" if name else
                                      f"{instance_id} ({state})"))
        return sorted(found, key=lambda r: r.label.lower())
    return _cached(environment, "ec2-instances", fetch)


SCHEDULER_TARGET_LISTINGS = {
    "lambda": lambda_functions, "sns": sns_topics, "sqs": sqs_queues, "states": state_machines,
    "events": event_buses, "kinesis": kinesis_streams, "codebuild": codebuild_projects, "ecs": ecs_clusters,
}
