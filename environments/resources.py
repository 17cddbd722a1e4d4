"""What exists in an environment's AWS account, for the pickers of both kinds' flows (targets, dead-letter
queues, roles, event buses, schedule groups), listed from AWS.

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

from . import aws

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


def _by_label(resources) -> list[Resource]:
    return sorted(resources, key=lambda r: r.label.lower())


def _listed(environment, service_name: str, kind: str, operation: str, key: str, make):
    """Every item of a paginated listing, as Resources (`make` turns an item into one) sorted by label."""
    client = _client(environment, service_name)
    return _cached(environment, kind, lambda: _by_label(make(item) for item in _paginate(client, operation, key)))


def lambda_functions(environment):
    return _listed(environment, "lambda", "lambda", "list_functions", "Functions",
                   lambda f: Resource(f["FunctionArn"], f["FunctionName"]))


def sns_topics(environment):
    return _listed(environment, "sns", "sns", "list_topics", "Topics",
                   lambda t: Resource(t["TopicArn"], t["TopicArn"].rsplit(":", 1)[-1]))


def _queue_arn(environment, url: str) -> str:
    parts = urlsplit(url).path.strip("/").split("/")
    account, name = parts[-2], unquote(parts[-1])
    return f"arn:aws:sqs:{environment.region}:{account}:{name}"


def sqs_queues(environment):
    client = _client(environment, "sqs")

    def fetch():
        urls = _paginate(client, "list_queues", "QueueUrls")
        return _by_label(Resource(_queue_arn(environment, u), unquote(u.rstrip("/").rsplit("/", 1)[-1])) for u in urls)
    return _cached(environment, "sqs", fetch)


def state_machines(environment):
    return _listed(environment, "stepfunctions", "states", "list_state_machines", "stateMachines",
                   lambda m: Resource(m["stateMachineArn"], m["name"]))


def event_buses(environment):
    client = _client(environment, "events")

    def fetch():  # ListEventBuses has no botocore paginator
        buses = [Resource(b["Arn"], b["Name"]) for b in _token_pages(client.list_event_buses, "EventBuses")]
        return sorted(buses, key=lambda r: (r.label != "default", r.label.lower()))
    return _cached(environment, "events", fetch)


def _token_pages(call, key: str, token_in: str = "NextToken", token_out: str = "NextToken", **kwargs) -> list:
    """Every item of a listing that has no botocore paginator, following its NextToken."""
    items, token = [], None
    while True:
        page = call(**kwargs, **({token_in: token} if token else {}))
        items += page.get(key) or []
        token = page.get(token_out)
        if not token:
            return items


def kinesis_streams(environment):
    return _listed(environment, "kinesis", "kinesis", "list_streams", "StreamSummaries",
                   lambda s: Resource(s["StreamARN"], s["StreamName"]))


def api_destinations(environment):
    client = _client(environment, "events")
    return _cached(environment, "api-destinations", lambda: _by_label(
        Resource(d["ApiDestinationArn"], d["Name"]) for d in _token_pages(client.list_api_destinations,
                                                                           "ApiDestinations")))


def batch_job_queues(environment):
    return _listed(environment, "batch", "batch-job-queues", "describe_job_queues", "jobQueues",
                   lambda q: Resource(q["jobQueueArn"], q["jobQueueName"]))


def codepipeline_pipelines(environment):
    client = _client(environment, "codepipeline")

    def fetch():
        prefix = f"arn:aws:codepipeline:{environment.region}:{environment.account_id or '123456789012'}:"
        return _by_label(Resource(prefix + p["name"], p["name"]) for p in _paginate(client, "list_pipelines",
                                                                                       "pipelines"))
    return _cached(environment, "codepipeline-pipelines", fetch)


def firehose_streams(environment):
    client = _client(environment, "firehose")

    def fetch():
        names, start = [], None
        while True:  # ListDeliveryStreams pages by the last name seen
            page = client.list_delivery_streams(**({"ExclusiveStartDeliveryStreamName": start} if start else {}))
            names += page.get("DeliveryStreamNames") or []
            if not page.get("HasMoreDeliveryStreams") or not names:
                break
            start = names[-1]
        prefix = f"arn:aws:firehose:{environment.region}:{environment.account_id or '123456789012'}:deliverystream/"
        return _by_label(Resource(prefix + n, n) for n in names)
    return _cached(environment, "firehose-streams", fetch)


def inspector_templates(environment):
    return _listed(environment, "inspector", "inspector-templates", "list_assessment_templates",
                   "assessmentTemplateArns", lambda arn: Resource(arn, arn.split(":", 5)[-1]))


def redshift_targets(environment):
    """Provisioned clusters and Serverless workgroups (both take Data API queries)."""
    clusters, workgroups = _client(environment, "redshift"), _client(environment, "redshift-serverless")

    def fetch():
        prefix = f"arn:aws:redshift:{environment.region}:{environment.account_id or '123456789012'}:cluster:"
        found = [Resource(prefix + c["ClusterIdentifier"], f"{c['ClusterIdentifier']} (cluster)")
                 for c in _paginate(clusters, "describe_clusters", "Clusters")]
        try:
            found += [Resource(w["workgroupArn"], f"{w['workgroupName']} (Serverless workgroup)")
                      for w in _paginate(workgroups, "list_workgroups", "workgroups")]
        except ClientError:
            pass  # Serverless is not in every Region (nor in every emulator): the clusters are still listed
        return _by_label(found)
    return _cached(environment, "redshift-targets", fetch)


def sagemaker_pipelines(environment):
    return _listed(environment, "sagemaker", "sagemaker-pipelines", "list_pipelines", "PipelineSummaries",
                   lambda p: Resource(p["PipelineArn"], p.get("PipelineDisplayName") or p["PipelineName"]))


def _ssm_documents(environment, document_type: str, make):
    client = _client(environment, "ssm")
    return _cached(environment, f"ssm-documents:{document_type}", lambda: _by_label(
        make(d) for d in _paginate(client, "list_documents", "DocumentIdentifiers",
                                   Filters=[{"Key": "DocumentType", "Values": [document_type]}])))


def ssm_automation_documents(environment):
    prefix = f"arn:aws:ssm:{environment.region}:{environment.account_id or '123456789012'}:automation-definition/"
    return _ssm_documents(environment, "Automation", lambda d: Resource(f"{prefix}{d['Name']}:$DEFAULT", d["Name"]))


def ssm_command_documents(environment):
    prefix = f"arn:aws:ssm:{environment.region}:{environment.account_id or '123456789012'}:document/"
    return _ssm_documents(environment, "Command", lambda d: Resource(prefix + d["Name"], d["Name"]))


def ssm_opsitem(environment):
    """OpsItems have one target ARN per account and Region."""
    account = environment.account_id or "123456789012"
    return [Resource(f"arn:aws:ssm:{environment.region}:{account}:opsitem", "OpsCenter (create an OpsItem)")], ""


def incident_response_plans(environment):
    return _listed(environment, "ssm-incidents", "incident-response-plans", "list_response_plans",
                   "responsePlanSummaries", lambda p: Resource(p["arn"], p.get("displayName") or p["name"]))


def appsync_apis(environment):
    client = _client(environment, "appsync")
    return _cached(environment, "appsync-apis", lambda: _by_label(
        Resource(f"arn:aws:appsync:{environment.region}:{a['arn'].split(':')[4]}:endpoints/graphql-api/{a['apiId']}",
                 a["name"]) for a in _paginate(client, "list_graphql_apis", "graphqlApis")))


def log_groups(environment):
    return _listed(environment, "logs", "logs", "describe_log_groups", "logGroups",
                   lambda g: Resource(g["arn"].removesuffix(":*"), g["logGroupName"]))


LOGS_POLICIES_PER_REGION = 10  # the CloudWatch Logs quota on account resource policies in one Region


def logs_resource_policies(environment):
    """The Region's CloudWatch Logs account resource policies (DescribeResourcePolicies; `arn` and `label`
    are the policy's name). Policies scoped to one log group do not count against the Region's quota."""
    client = _client(environment, "logs")
    return _cached(environment, "logs-resource-policies", lambda: _by_label(
        Resource(p["policyName"], p["policyName"]) for p in _paginate(client, "describe_resource_policies",
                                                                      "resourcePolicies")
        if p.get("policyScope", "ACCOUNT") == "ACCOUNT"))


def logs_policy_room_warning(environment, *, ours: str) -> tuple[str, str]:
    """(warning, error) for a CloudWatch Logs target at the rules target step: a warning when the Region
    already holds the 10 account resource policies CloudWatch Logs allows and none is EventConsole's, so
    a statement letting EventBridge write to a log group has nowhere to go (PutResourcePolicy would fail
    with LimitExceededException) unless one of those policies already covers the group. `error` says why
    the policies could not be read (then nothing is known either way). `ours` is the name EventConsole's
    shared policies have (then -2, -3 …: delivery.policies.LOGS_POLICY)."""
    found, error = logs_resource_policies(environment)
    if error:
        return "", f"CloudWatch Logs resource policies could not be read: {error}"
    ours_found = [p for p in found if p.arn == ours or p.arn.startswith(ours + "-")]
    if len(found) < LOGS_POLICIES_PER_REGION or ours_found:
        return "", ""
    return (f"{environment.region} already has {len(found)} CloudWatch Logs resource policies, the most a Region "
            f"may have, and none is EventConsole's: unless one of them already lets EventBridge "
            f"(events.amazonaws.com) write to this log group, applying will fail. Delete a policy no longer "
            f"needed, or add the log group to one of them, first."), ""


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
    return _cached(environment, f"roles:{principal}", lambda: _by_label(
        Resource(r["Arn"], r["RoleName"]) for r in _paginate(client, "list_roles", "Roles") if _trusts(r, principal)))


# The rule flow's target types (rules.forms.targets.TARGET_TYPES) that can be listed, and how. The picker
# lists only the chosen type. API Gateway is not listed: its ARN names a stage, method and path.
TARGET_LISTINGS = {
    "lambda": lambda_functions, "sns": sns_topics, "sqs": sqs_queues, "states": state_machines,
    "events": event_buses, "kinesis": kinesis_streams, "logs": log_groups,
    "api_destination": api_destinations, "batch": batch_job_queues,
    "codebuild": lambda environment: codebuild_projects(environment),
    "codepipeline": codepipeline_pipelines, "ecs": lambda environment: ecs_clusters(environment),
    "firehose": firehose_streams, "inspector": inspector_templates, "redshift": redshift_targets,
    "sagemaker": sagemaker_pipelines, "ssm_automation": ssm_automation_documents, "ssm_opsitem": ssm_opsitem,
    "ssm_run_command": ssm_command_documents, "incidents": incident_response_plans, "appsync": appsync_apis,
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
    return _listed(environment, "ecs", "ecs-clusters", "list_clusters", "clusterArns",
                   lambda arn: Resource(arn, arn.rsplit("/", 1)[-1]))


def ecs_task_definitions(environment):
    return _listed(environment, "ecs", "ecs-task-definitions", "list_task_definitions", "taskDefinitionArns",
                   lambda arn: Resource(arn, arn.rsplit("/", 1)[-1]))


def codebuild_projects(environment):
    client = _client(environment, "codebuild")

    def fetch():
        names = _paginate(client, "list_projects", "projects")
        prefix = f"arn:aws:codebuild:{environment.region}:{environment.account_id or '123456789012'}:project/"
        return _by_label(Resource(prefix + name, name) for name in names)
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
        return _by_label(found)
    return _cached(environment, "ec2-instances", fetch)


def lambda_qualifiers(environment, function_arn: str):
    """The published versions and the aliases of one function (ListVersionsByFunction, ListAliases), for
    the Lambda target's "Version or alias" box. `arn` holds the qualifier to type ("3", "live"); $LATEST
    is left out (no qualifier means it). The function's own ARN is given without a qualifier."""
    client = _client(environment, "lambda")
    parts = (function_arn or "").split(":")[:7]
    function_arn = ":".join(parts)
    # Both APIs take the function's name or ARN; the name is given for a function of this account and Region.
    local = len(parts) == 7 and parts[3] == environment.region and parts[4] == (environment.account_id or parts[4])
    function = parts[6] if local else function_arn

    def fetch():
        versions = [v["Version"] for v in _paginate(client, "list_versions_by_function", "Versions",
                                                     FunctionName=function) if v.get("Version") != "$LATEST"]
        aliases = _paginate(client, "list_aliases", "Aliases", FunctionName=function)
        found = [Resource(a["Name"], f"{a['Name']} (alias of version {a.get('FunctionVersion', '?')})")
                 for a in sorted(aliases, key=lambda a: a["Name"].lower())]
        found += [Resource(v, f"{v} (version)") for v in sorted(versions, key=lambda v: (len(v), v), reverse=True)]
        return found
    return _cached(environment, f"lambda-qualifiers:{function_arn}", fetch)


SCHEDULER_TARGET_LISTINGS = {
    "lambda": lambda_functions, "sns": sns_topics, "sqs": sqs_queues, "states": state_machines,
    "events": event_buses, "kinesis": kinesis_streams, "codebuild": codebuild_projects, "ecs": ecs_clusters,
    "codepipeline": codepipeline_pipelines, "firehose": firehose_streams, "inspector": inspector_templates,
    "sagemaker": sagemaker_pipelines,
}
