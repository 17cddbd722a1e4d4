"""Every target type the EventBridge console offers, through the real views to a valid spec.

The ARN forms are the ones AWS documents for each target (PutTargets and the EventBridge user guide's
target pages); the expected entries are written here by hand, not produced by the code under test.
Moto stores PutTargets entries without checking them against the target service, so the check that
counts is the review page: the spec is valid (no spec errors) and holds the entry AWS expects.
"""
import pytest

from changes.models import ChangeRequest
from rules.wizard import wizard_from_spec
from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ROLE = "arn:aws:iam::123456789012:role/eventbridge-invoke"
ACCOUNT, REGION = "123456789012", "us-east-1"

CASES = [
    ("api_destination", {"arn": f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/orders/6d1e3c0a",
                         "role_arn": ROLE, "http_path_parameters": "42", "http_headers": "x-team=orders",
                         "http_query": "mode=full"},
     {"Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/orders/6d1e3c0a", "RoleArn": ROLE,
      "HttpParameters": {"PathParameterValues": ["42"], "HeaderParameters": {"x-team": "orders"},
                         "QueryStringParameters": {"mode": "full"}}}),
    ("apigateway", {"arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3/prod/POST/orders"},
     {"Arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3/prod/POST/orders"}),
    ("batch", {"arn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/nightly", "role_arn": ROLE,
               "batch_job_definition": "resize:3", "batch_job_name": "resize", "batch_array_size": "10",
               "batch_attempts": "2"},
     {"Arn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/nightly", "RoleArn": ROLE,
      "BatchParameters": {"JobDefinition": "resize:3", "JobName": "resize", "ArrayProperties": {"Size": 10},
                          "RetryStrategy": {"Attempts": 2}}}),
    ("codebuild", {"arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/site", "role_arn": ROLE},
     {"Arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/site", "RoleArn": ROLE}),
    ("codepipeline", {"arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:release", "role_arn": ROLE},
     {"Arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:release", "RoleArn": ROLE}),
    ("ec2", {"ec2_action": "create-snapshot", "ec2_resource_id": "vol-0123456789abcdef0", "role_arn": ROLE},
     {"Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:target/create-snapshot", "Input": '"vol-0123456789abcdef0"',
      "RoleArn": ROLE}),
    ("ec2", {"ec2_action": "stop-instance", "ec2_resource_id": "i-0123456789abcdef0", "role_arn": ROLE},
     {"Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:target/stop-instance", "Input": '"i-0123456789abcdef0"',
      "RoleArn": ROLE}),
    ("ecs", {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web", "role_arn": ROLE,
             "ecs_task_definition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7", "ecs_task_count": "2",
             "ecs_launch_type": "FARGATE", "ecs_subnets": "subnet-1, subnet-2", "ecs_security_groups": "sg-1",
             "ecs_assign_public_ip": "DISABLED", "ecs_platform_version": "LATEST", "ecs_group": "nightly",
             "ecs_placement_constraints": "", "ecs_placement_strategy": "", "ecs_tags": "team=web",
             "ecs_propagate_tags": "TASK_DEFINITION", "ecs_managed_tags": "on", "ecs_execute_command": "on",
             "ecs_reference_id": "ref-1"},
     {"Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web", "RoleArn": ROLE,
      "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7", "TaskCount": 2,
                        "LaunchType": "FARGATE",
                        "NetworkConfiguration": {"awsvpcConfiguration": {
                            "Subnets": ["subnet-1", "subnet-2"], "SecurityGroups": ["sg-1"],
                            "AssignPublicIp": "DISABLED"}},
                        "PlatformVersion": "LATEST", "Group": "nightly", "Tags": [{"Key": "team", "Value": "web"}],
                        "PropagateTags": "TASK_DEFINITION", "EnableECSManagedTags": True,
                        "EnableExecuteCommand": True, "ReferenceId": "ref-1"}}),
    ("ecs", {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web", "role_arn": ROLE,
             "ecs_task_definition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7",
             "ecs_capacity_providers": "FARGATE_SPOT:3:1\nFARGATE:1", "ecs_subnets": "subnet-1",
             "ecs_placement_strategy": "spread:attribute:ecs.availability-zone",
             "ecs_placement_constraints": "distinctInstance"},
     {"Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web", "RoleArn": ROLE,
      "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7",
                        "CapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 1},
                                                     {"capacityProvider": "FARGATE", "weight": 1}],
                        "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"]}},
                        "PlacementConstraints": [{"type": "distinctInstance"}],
                        "PlacementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}]}}),
    ("firehose", {"arn": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/clicks", "role_arn": ROLE},
     {"Arn": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/clicks", "RoleArn": ROLE}),
    ("inspector", {"arn": f"arn:aws:inspector:{REGION}:{ACCOUNT}:target/0-abc/template/0-def", "role_arn": ROLE},
     {"Arn": f"arn:aws:inspector:{REGION}:{ACCOUNT}:target/0-abc/template/0-def", "RoleArn": ROLE}),
    ("lambda", {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize", "lambda_qualifier": "live"},
     {"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize:live"}),
    ("redshift", {"arn": f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:warehouse", "role_arn": ROLE,
                  "redshift_database": "dev", "redshift_db_user": "etl", "redshift_sql": "select 1",
                  "redshift_statement_name": "ping", "redshift_with_event": "on"},
     {"Arn": f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:warehouse", "RoleArn": ROLE,
      "RedshiftDataParameters": {"Database": "dev", "DbUser": "etl", "Sql": "select 1", "StatementName": "ping",
                                 "WithEvent": True}}),
    ("redshift", {"arn": f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT}:workgroup/5c4e7f3a", "role_arn": ROLE,
                  "redshift_database": "dev", "redshift_sql": "insert into a values (1)\n---\ninsert into b values (2)",
                  "redshift_secret_arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rs-AbCdEf"},
     {"Arn": f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT}:workgroup/5c4e7f3a", "RoleArn": ROLE,
      "RedshiftDataParameters": {"Database": "dev", "Sqls": ["insert into a values (1)", "insert into b values (2)"],
                                 "SecretManagerArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rs-AbCdEf"}}),
    ("sagemaker", {"arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/train", "role_arn": ROLE,
                   "sagemaker_parameters": "InputUri=s3://bucket/in\nEpochs=3"},
     {"Arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/train", "RoleArn": ROLE,
      "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "InputUri", "Value": "s3://bucket/in"},
                                                                {"Name": "Epochs", "Value": "3"}]}}),
    ("sqs", {"arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders.fifo", "message_group_id": "orders"},
     {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders.fifo", "SqsParameters": {"MessageGroupId": "orders"}}),
    ("ssm_automation", {"arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/AWS-RestartEC2Instance:$DEFAULT",
                        "role_arn": ROLE},
     {"Arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/AWS-RestartEC2Instance:$DEFAULT",
      "RoleArn": ROLE}),
    ("ssm_opsitem", {"arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:opsitem", "role_arn": ROLE},
     {"Arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:opsitem", "RoleArn": ROLE}),
    ("ssm_run_command", {"arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/AWS-RunShellScript", "role_arn": ROLE,
                         "run_command_targets": "InstanceIds=i-1,i-2\ntag:Role=web"},
     {"Arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/AWS-RunShellScript", "RoleArn": ROLE,
      "RunCommandParameters": {"RunCommandTargets": [{"Key": "InstanceIds", "Values": ["i-1", "i-2"]},
                                                     {"Key": "tag:Role", "Values": ["web"]}]}}),
    ("incidents", {"arn": f"arn:aws:ssm-incidents::{ACCOUNT}:response-plan/outage", "role_arn": ROLE},
     {"Arn": f"arn:aws:ssm-incidents::{ACCOUNT}:response-plan/outage", "RoleArn": ROLE}),
    ("appsync", {"arn": f"arn:aws:appsync:{REGION}:{ACCOUNT}:endpoints/graphql-api/abcdefghijklmnopqrstuvwxyz",
                 "role_arn": ROLE, "appsync_operation": "mutation Ping { ping { id } }"},
     {"Arn": f"arn:aws:appsync:{REGION}:{ACCOUNT}:endpoints/graphql-api/abcdefghijklmnopqrstuvwxyz", "RoleArn": ROLE,
      "AppSyncParameters": {"GraphQLOperation": "mutation Ping { ping { id } }"}}),
]


@pytest.mark.parametrize(("kind", "fields", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_target_type_reaches_a_valid_spec(client_for, environment, kind, fields, expected):
    client = client_for("operator")
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment))
    flow.post(client, draft, "pattern", flow.worked_example_pattern_form())
    response = flow.post(client, draft, "targets", flow.targets(flow.target(0, "", kind=kind, **fields)))
    assert response.status_code == 302, response.context["form"].forms[0].errors
    assert flow.post(client, draft, "tags", flow.tags()).status_code == 302
    review = client.get(flow.step_url(draft, "review"))
    assert review.context["spec_errors"] == {}
    assert ChangeRequest.objects.get(pk=draft).spec["Targets"] == [{"Id": "Target1", **expected}]
    # Edit and Clone fill the step in from the spec (wizard_from_spec): posted as filled in, the same entry.
    spec = ChangeRequest.objects.get(pk=draft).spec
    filled = wizard_from_spec(spec, environment=environment)["targets"]
    again = flow.start(client, environment)
    flow.post(client, again, "detail", flow.detail(environment))
    flow.post(client, again, "pattern", flow.worked_example_pattern_form())
    response = client.post(flow.step_url(again, "targets"), {**filled, "_go": "next"})
    assert response.status_code == 302, response.context["form"].forms[0].errors
    assert ChangeRequest.objects.get(pk=again).spec["Targets"] == spec["Targets"]


def test_parameters_reach_aws_as_typed(client_for, environment, apply_inline):
    """Five typed targets with their parameters, applied, and read back from moto over HTTP with boto3.

    Moto stores the entries as PutTargets sent them; it does not run ECS tasks, Batch jobs, Redshift
    queries or SageMaker pipelines, so delivery itself cannot be shown here.
    """
    from changes.choices import ChangeState
    from environments import aws

    picked = [CASES[i] for i in (2, 7, 12, 14, 18)]  # Batch, ECS, Redshift, SageMaker, Run Command
    client = client_for("operator")
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment, name="typed-targets"))
    flow.post(client, draft, "pattern", flow.worked_example_pattern_form())
    response = flow.post(client, draft, "targets", flow.targets(
        *(flow.target(i, "", kind=kind, **fields) for i, (kind, fields, _expected) in enumerate(picked))))
    assert response.status_code == 302, [f.errors for f in response.context["form"].forms]
    flow.post(client, draft, "tags", flow.tags())
    assert client.post(flow.step_url(draft, "review"), {"_go": "submit"}).status_code == 302
    change = ChangeRequest.objects.get(pk=draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    stored = aws.client(environment, "events").list_targets_by_rule(Rule="typed-targets")["Targets"]
    assert sorted(stored, key=lambda t: t["Id"]) == [
        {"Id": f"Target{i + 1}", **expected} for i, (_kind, _fields, expected) in enumerate(picked)]
    # What AWS holds reads back as what was asked for: no drift from the parameters.
    from changes.choices import SyncStatus
    from rules.models import Rule

    managed = Rule.objects.get(name="typed-targets")
    assert managed.sync_status == SyncStatus.IN_SYNC and managed.targets_count == 5
