"""All twelve templated targets, ECS RunTask with every EcsParameters member, Lambda version or alias.

Form steps through the Django test client (resource pickers read a moto server over HTTP); the ECS
schedule is applied to moto and read back over HTTP with boto3. Expected members come from the
Scheduler guide's templated-target list and botocore's scheduler model (read in the tests).
"""
import botocore.session
import pytest

from changes import apply, services
from changes.choices import ChangeAction, ChangeState
from changes.models import ChangeRequest
from environments import aws
from schedules import targets
from schedules.spec import canonical_schedule_spec, validate_schedule_spec
from schedules.wizard import ScheduleWizardView, build_spec, wizard_from_spec
from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/EventBridge_EC2_Startinstance_Role"
SCHEDULER = botocore.session.get_session().get_service_model("scheduler")


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{resource}"


# kind → (form fields, the Target the step must build): the Scheduler guide's twelve templated targets
CASES = {
    "lambda": ({"resource_arn": arn("lambda", "function:Do_nothing"), "input": '{"a": 1}', "qualifier": "live"},
               {"Arn": arn("lambda", "function:Do_nothing:live"), "Input": '{"a": 1}'}),
    "sns": ({"resource_arn": arn("sns", "Topic1"), "input": "hello"}, {"Arn": arn("sns", "Topic1"), "Input": "hello"}),
    "sqs": ({"resource_arn": arn("sqs", "jobs.fifo"), "input": "m", "message_group_id": "g1"},
            {"Arn": arn("sqs", "jobs.fifo"), "Input": "m", "SqsParameters": {"MessageGroupId": "g1"}}),
    "states": ({"resource_arn": arn("states", "stateMachine:sm"), "input": "{}"},
               {"Arn": arn("states", "stateMachine:sm"), "Input": "{}"}),
    "events": ({"resource_arn": arn("events", "event-bus/default"), "input": "{}", "detail_type": "tick",
                "source": "my.app"},
               {"Arn": arn("events", "event-bus/default"), "Input": "{}",
                "EventBridgeParameters": {"DetailType": "tick", "Source": "my.app"}}),
    "kinesis": ({"resource_arn": arn("kinesis", "stream/s"), "input": "d", "partition_key": "p"},
                {"Arn": arn("kinesis", "stream/s"), "Input": "d", "KinesisParameters": {"PartitionKey": "p"}}),
    "codebuild": ({"resource_arn": arn("codebuild", "project/build")}, {"Arn": arn("codebuild", "project/build")}),
    "ecs": ({"resource_arn": arn("ecs", "cluster/default"), "task_definition": arn("ecs", "task-definition/t:1"),
             "task_count": "1", "launch_type": "FARGATE", "subnets": "subnet-1"},
            {"Arn": arn("ecs", "cluster/default"), "EcsParameters": {
                "TaskDefinitionArn": arn("ecs", "task-definition/t:1"), "TaskCount": 1, "LaunchType": "FARGATE",
                "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"],
                                                                 "AssignPublicIp": "DISABLED"}}}}),
    "codepipeline": ({"resource_arn": arn("codepipeline", "release")}, {"Arn": arn("codepipeline", "release")}),
    "firehose": ({"resource_arn": arn("firehose", "deliverystream/logs"), "input": "record"},
                 {"Arn": arn("firehose", "deliverystream/logs"), "Input": "record"}),
    "inspector": ({"resource_arn": arn("inspector", "target/0-nvgVhaxX/template/0-7sbz2Kz0")},
                  {"Arn": arn("inspector", "target/0-nvgVhaxX/template/0-7sbz2Kz0")}),
    "sagemaker": ({"resource_arn": arn("sagemaker", "pipeline/train"), "pipeline_parameters": "Epochs=3\nMode=fast"},
                  {"Arn": arn("sagemaker", "pipeline/train"), "SageMakerPipelineParameters": {
                      "PipelineParameterList": [{"Name": "Epochs", "Value": "3"}, {"Name": "Mode", "Value": "fast"}]}}),
}


def test_the_twelve_templated_targets_of_the_scheduler_guide():
    assert set(targets.TEMPLATED) == set(CASES) and len(CASES) == 12


@pytest.fixture
def draft(client_for, environment):
    client = client_for("operator")
    return client, flow.start(client, environment)


def post_target(client, draft_id, kind, fields):
    data = flow.templated(kind, "", **{k: v for k, v in fields.items() if k != "input"},
                          input_text=fields.get("input", ""))
    return flow.post(client, draft_id, "target", data)


@pytest.mark.parametrize("kind", list(CASES))
def test_each_templated_target_builds_a_valid_spec(draft, kind):
    client, draft_id = draft
    fields, expected = CASES[kind]
    response = post_target(client, draft_id, kind, fields)
    assert response.status_code == 302, response.context["form"].errors
    target = ChangeRequest.objects.get(pk=draft_id).spec["Target"]
    assert target == expected
    # every member the step wrote is a member of Scheduler's Target shape
    assert set(target) <= set(SCHEDULER.shape_for("Target").members)
    full = {"Name": "n", "ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {**target, "RoleArn": ROLE}}
    assert validate_schedule_spec(full) == {}


@pytest.mark.parametrize("kind", list(CASES))
def test_edit_and_clone_refill_each_templated_target(users, environment, kind):
    spec = canonical_schedule_spec({"Name": "n", "ScheduleExpression": "rate(1 day)",
                                    "FlexibleTimeWindow": {"Mode": "OFF"},
                                    "Target": {**CASES[kind][1], "RoleArn": ROLE}})
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.CREATE,
                                                  environment=environment, author=users["operator"], spec={},
                                                  wizard=wizard_from_spec(spec, environment=environment))
    wizard = ScheduleWizardView()
    wizard.change = change
    cleaned, first_invalid = wizard.cleaned_steps()
    assert first_invalid is None, {s.slug: wizard.form_for(s).errors for s in wizard.steps if s.form_class}
    assert canonical_schedule_spec(build_spec(cleaned, change=change)) == spec


ECS_FULL = {
    "resource_arn": arn("ecs", "cluster/default"), "task_definition": arn("ecs", "task-definition/t:1"),
    "task_count": "3", "launch_type": "", "subnets": "subnet-1, subnet-2", "security_groups": "sg-1",
    "assign_public_ip": "on", "capacity_providers": "FARGATE_SPOT:2:1\nFARGATE:1",
    "placement_constraints": "distinctInstance\nmemberOf attribute:ecs.instance-type =~ t3.*",
    "placement_strategy": "spread attribute:ecs.availability-zone\nbinpack memory",
    "platform_version": "1.4.0", "task_group": "batch", "propagate_tags": "TASK_DEFINITION",
    "reference_id": "nightly", "ecs_tags": "team=data\ncost=batch", "enable_managed_tags": "on",
    "enable_execute_command": "on",
}
ECS_EXPECTED = {
    "TaskDefinitionArn": arn("ecs", "task-definition/t:1"), "TaskCount": 3,
    "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1", "subnet-2"], "SecurityGroups": ["sg-1"],
                                                     "AssignPublicIp": "ENABLED"}},
    "CapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 2, "base": 1},
                                 {"capacityProvider": "FARGATE", "weight": 1}],
    "PlacementConstraints": [{"type": "distinctInstance"},
                             {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
    "PlacementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                          {"type": "binpack", "field": "memory"}],
    "PlatformVersion": "1.4.0", "Group": "batch", "PropagateTags": "TASK_DEFINITION", "ReferenceId": "nightly",
    "Tags": [{"team": "data"}, {"cost": "batch"}], "EnableECSManagedTags": True, "EnableExecuteCommand": True,
}


def test_ecs_run_task_takes_every_member_of_the_ecs_parameters_shape(draft):
    client, draft_id = draft
    response = post_target(client, draft_id, "ecs", ECS_FULL)
    assert response.status_code == 302, response.context["form"].errors
    ecs = ChangeRequest.objects.get(pk=draft_id).spec["Target"]["EcsParameters"]
    assert ecs == ECS_EXPECTED
    # the form reaches every member of botocore's EcsParameters (LaunchType is the alternative to the strategy)
    assert set(ecs) | {"LaunchType"} == set(SCHEDULER.shape_for("EcsParameters").members)


def test_fargate_with_subnets_and_no_security_group_is_valid(draft):
    """ECS uses the VPC's default security group when none is given; Scheduler accepts it."""
    client, draft_id = draft
    fields = {**CASES["ecs"][0], "security_groups": ""}
    assert post_target(client, draft_id, "ecs", fields).status_code == 302
    vpc = ChangeRequest.objects.get(pk=draft_id).spec["Target"]["EcsParameters"]["NetworkConfiguration"]
    assert vpc == {"awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "DISABLED"}}


ECS_ERRORS = [
    ("capacity_providers", {"launch_type": "FARGATE", "capacity_providers": "FARGATE_SPOT"}, "not both"),
    ("capacity_providers", {"launch_type": "", "capacity_providers": "A:x"}, "provider[:weight[:base]]"),
    ("capacity_providers", {"launch_type": "", "capacity_providers": "A:1001"}, "weight must be between 0 and 1000"),
    ("capacity_providers", {"launch_type": "", "capacity_providers": "\n".join(f"P{i}" for i in range(7))},
     "at most 6"),
    ("placement_strategy", {"placement_strategy": "closest memory"}, "must be one of random, spread, binpack"),
    ("placement_constraints", {"placement_constraints": "nearby"}, "must be one of distinctInstance, memberOf"),
    ("ecs_tags", {"ecs_tags": "no equals sign"}, "key=value"),
    ("ecs_tags", {"ecs_tags": "\n".join(f"k{i}=v" for i in range(51))}, "at most 50"),
    ("platform_version", {"platform_version": "v" * 65}, "at most 64 characters"),
    ("security_groups", {"security_groups": "sg-1,sg-2,sg-3,sg-4,sg-5,sg-6"}, "at most 5"),
    ("subnets", {"subnets": ""}, "at least one subnet"),
]


@pytest.mark.parametrize(("field", "change", "message"), ECS_ERRORS)
def test_ecs_parameters_are_refused_at_their_field(draft, field, change, message):
    client, draft_id = draft
    response = post_target(client, draft_id, "ecs", {**CASES["ecs"][0], **change})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors


@pytest.mark.parametrize(("kind", "fields", "field", "message"), [
    ("lambda", {"resource_arn": arn("lambda", "function:f"), "qualifier": "no spaces"}, "qualifier",
     "A version or alias"),
    ("firehose", {"resource_arn": arn("firehose", "logs")}, "resource_arn", "ends with deliverystream/<name>"),
    ("sagemaker", {"resource_arn": arn("sagemaker", "pipeline/p"), "pipeline_parameters": "no value"},
     "pipeline_parameters", "Name=Value"),
    ("sagemaker", {"resource_arn": arn("sagemaker", "pipeline/p"), "pipeline_parameters": "bad name!=1"},
     "pipeline_parameters", "Pipeline parameter name"),
    ("codepipeline", {"resource_arn": arn("codebuild", "project/p")}, "resource_arn", "not a CodePipeline"),
    # botocore's MessageGroupId: 1 to 128 characters, refused here at the target step, not at Review
    ("sqs", {"resource_arn": arn("sqs", "jobs.fifo"), "message_group_id": "g" * 129}, "message_group_id",
     "at most 128 characters"),
])
def test_templated_target_mistakes_at_their_field(draft, kind, fields, field, message):
    client, draft_id = draft
    response = post_target(client, draft_id, kind, fields)
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors


def test_ecs_schedule_with_every_parameter_is_created_in_aws(users, environment):
    spec = {"Name": "ecs-full", "GroupName": "default", "ScheduleExpression": "rate(1 day)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": arn("ecs", "cluster/default"), "RoleArn": ROLE, "EcsParameters": ECS_EXPECTED}}
    assert validate_schedule_spec(spec) == {}
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.CREATE,
                                                  environment=environment, author=users["operator"], spec=spec)
    services.change_request_submit(change, actor=users["operator"])
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED, change.last_error
    got = aws.client(environment, "scheduler").get_schedule(Name="ecs-full")
    assert got["Target"]["EcsParameters"] == ECS_EXPECTED
