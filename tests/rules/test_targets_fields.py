"""AWS's input rules for rule targets, refused at the target step, at the field where they are typed.

The limits and enums are read here from botocore's own events model (the oracle: the same model AWS's
SDKs validate with), not from EventConsole's code. Rules that are in AWS's documentation rather than in
the model (a FIFO or other-Region dead-letter queue, a role for Kinesis/Step Functions, an IAM user in
place of a role, Batch's array size and attempts) are written from those pages.
"""
import pytest
from botocore.session import get_session

from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

MODEL = get_session().get_service_model("events")
ROLE = "arn:aws:iam::123456789012:role/eventbridge-invoke"
REGION, ACCOUNT = "us-east-1", "123456789012"


def rule(*path: str) -> dict:
    """The model's constraints of a member: rule("EcsParameters", "TaskCount") -> {"min": 1}."""
    shape = MODEL.shape_for("Target")
    for name in path:
        shape = shape.members[name]
        while shape.type_name == "list" and name != path[-1]:
            shape = shape.member
    found = {k: v for k, v in shape.metadata.items() if k in ("min", "max")}
    if getattr(shape, "enum", None):
        found["enum"] = list(shape.enum)
    return found


def list_item(*path: str) -> dict:
    shape = MODEL.shape_for("Target")
    for name in path[:-1]:
        shape = shape.members[name]
        while shape.type_name == "list":
            shape = shape.member
    return {k: v for k, v in shape.members[path[-1]].metadata.items() if k in ("min", "max")}


def errors_for(operator, draft, kind, **fields):
    response = flow.post(operator, draft, "targets", flow.targets(flow.target(0, "", kind=kind, **fields)))
    assert response.status_code == 200, "the step should have refused this"
    return response.context["form"].forms[0].errors


def has(errors, field, *words):
    assert any(all(w in e for w in words) for e in errors.get(field, [])), errors


ECS = {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web", "role_arn": ROLE,
       "ecs_task_definition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1"}


def test_ecs_parameters_follow_the_model(operator, at_targets):
    count_min = rule("EcsParameters", "TaskCount")["min"]
    strategy_max = rule("EcsParameters", "CapacityProviderStrategy")["max"]
    weight = list_item("EcsParameters", "CapacityProviderStrategy", "weight")
    constraints_max = rule("EcsParameters", "PlacementConstraints")["max"]
    strategies_max = rule("EcsParameters", "PlacementStrategy")["max"]
    reference_max = rule("EcsParameters", "ReferenceId")["max"]
    tag_key_max = list_item("EcsParameters", "Tags", "Key")["max"]
    errors = errors_for(
        operator, at_targets, "ecs", **ECS, ecs_task_count=str(count_min - 1), ecs_subnets="subnet-1",
        ecs_capacity_providers="\n".join(f"p{i}:{weight['max'] + 1}" for i in range(strategy_max + 1)),
        ecs_placement_constraints="\n".join(["memberOf:attribute:x == y"] * (constraints_max + 1)),
        ecs_placement_strategy="\n".join(["spread:instanceId"] * (strategies_max + 1)),
        ecs_reference_id="r" * (reference_max + 1), ecs_tags=f"{'k' * (tag_key_max + 1)}=v")
    has(errors, "ecs_task_count", f"at least {count_min}")
    has(errors, "ecs_capacity_providers", f"at most {strategy_max}")
    has(errors, "ecs_capacity_providers", f"between {weight['min']} and {weight['max']}")
    has(errors, "ecs_placement_constraints", f"at most {constraints_max}")
    has(errors, "ecs_placement_strategy", f"at most {strategies_max}")
    has(errors, "ecs_reference_id", f"at most {reference_max}")
    has(errors, "ecs_tags", f"at most {tag_key_max}")


def test_ecs_enums_are_the_models_and_bad_types_are_refused(operator, at_targets):
    from rules.forms import TargetForm

    form_choices = {name: [v for v, _ in TargetForm.base_fields[name].choices if v]
                    for name in ("ecs_launch_type", "ecs_assign_public_ip", "ecs_propagate_tags")}
    assert form_choices == {
        "ecs_launch_type": rule("EcsParameters", "LaunchType")["enum"],
        "ecs_assign_public_ip": MODEL.shape_for("AssignPublicIp").enum,
        "ecs_propagate_tags": rule("EcsParameters", "PropagateTags")["enum"]}
    errors = errors_for(operator, at_targets, "ecs", **ECS, ecs_placement_constraints="sometimes",
                        ecs_placement_strategy="roundrobin", ecs_capacity_providers="FARGATE:heavy")
    has(errors, "ecs_placement_constraints", *MODEL.shape_for("PlacementConstraintType").enum)
    has(errors, "ecs_placement_strategy", *MODEL.shape_for("PlacementStrategyType").enum)
    has(errors, "ecs_capacity_providers", "whole number")
    errors = errors_for(operator, at_targets, "ecs", **ECS, ecs_launch_type="FARGATE",
                        ecs_capacity_providers="FARGATE_SPOT")
    has(errors, "ecs_capacity_providers", "not both")
    errors = errors_for(operator, at_targets, "ecs", **{**ECS, "ecs_task_definition": ""})
    has(errors, "ecs_task_definition", "task definition")


def test_run_command_redshift_sagemaker_follow_the_model(operator, at_targets):
    run_max = rule("RunCommandParameters", "RunCommandTargets")["max"]
    values_max = list_item("RunCommandParameters", "RunCommandTargets", "Values")["max"]
    errors = errors_for(operator, at_targets, "ssm_run_command",
                        arn=f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/AWS-RunShellScript", role_arn=ROLE,
                        run_command_targets="\n".join(f"tag:k{i}=v" for i in range(run_max + 1)))
    has(errors, "run_command_targets", f"at most {run_max}")
    errors = errors_for(operator, at_targets, "ssm_run_command",
                        arn=f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/AWS-RunShellScript", role_arn=ROLE,
                        run_command_targets="InstanceIds=" + ",".join(f"i-{n}" for n in range(values_max + 1)))
    has(errors, "run_command_targets", f"at most {values_max}")

    redshift = {"arn": f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:w", "role_arn": ROLE}
    database_max = rule("RedshiftDataParameters", "Database")["max"]
    user_max = rule("RedshiftDataParameters", "DbUser")["max"]
    name_max = rule("RedshiftDataParameters", "StatementName")["max"]
    sqls_max = rule("RedshiftDataParameters", "Sqls")["max"]
    errors = errors_for(operator, at_targets, "redshift", **redshift, redshift_database="d" * (database_max + 1),
                        redshift_db_user="u" * (user_max + 1), redshift_statement_name="n" * (name_max + 1),
                        redshift_secret_arn="not-a-secret",
                        redshift_sql="\n---\n".join(f"select {i}" for i in range(sqls_max + 1)))
    has(errors, "redshift_database", f"at most {database_max}")
    has(errors, "redshift_db_user", f"at most {user_max}")
    has(errors, "redshift_statement_name", f"at most {name_max}")
    has(errors, "redshift_sql", f"at most {sqls_max}")
    has(errors, "redshift_secret_arn", "form AWS accepts")  # the model's pattern: a secretsmanager ARN

    value_max = list_item("SageMakerPipelineParameters", "PipelineParameterList", "Value")["max"]
    errors = errors_for(operator, at_targets, "sagemaker", arn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/p",
                        role_arn=ROLE, sagemaker_parameters=f"-bad=1\nok={'v' * (value_max + 1)}")
    has(errors, "sagemaker_parameters", "form AWS accepts")  # Name must start with a letter or digit
    has(errors, "sagemaker_parameters", f"at most {value_max}")


def test_sqs_kinesis_and_input_limits(operator, at_targets):
    group_max = rule("SqsParameters", "MessageGroupId")["max"]
    errors = errors_for(operator, at_targets, "sqs", arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo",
                        message_group_id="g" * (group_max + 1))
    has(errors, "message_group_id", f"at most {group_max}")
    key_max = rule("KinesisParameters", "PartitionKeyPath")["max"]
    errors = errors_for(operator, at_targets, "kinesis", arn=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s",
                        role_arn=ROLE, partition_key_path="$" + "k" * key_max)
    has(errors, "partition_key_path", f"at most {key_max}")
    path_max = MODEL.shape_for("TargetInputPath").metadata["max"]
    errors = errors_for(operator, at_targets, "sns", arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:t", input_mode="part",
                        input_path="$." + "a" * path_max)
    has(errors, "input_path", f"at most {path_max}")


def test_batch_needs_its_job_and_keeps_to_aws_ranges(operator, at_targets):
    """Array size 2–10,000 and attempts 1–10: AWS Batch's SubmitJob limits (not in the events model)."""
    batch = {"arn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/q", "role_arn": ROLE}
    errors = errors_for(operator, at_targets, "batch", **batch, batch_array_size="1", batch_attempts="11")
    has(errors, "batch_job_definition", "job definition")
    has(errors, "batch_job_name", "job name")
    has(errors, "batch_array_size", "between 2 and 10,000")
    has(errors, "batch_attempts", "between 1 and 10")


@pytest.mark.parametrize(("kind", "fields", "field", "message"), [
    ("states", {"arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m"}, "role",
     "A Step Functions state machine target needs an execution role."),
    ("kinesis", {"arn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s"}, "role",
     "A Kinesis stream target needs an execution role."),
    ("lambda", {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "role_arn": "arn:aws:iam::123456789012:user/bob"},
     "role_arn", "That is an IAM user, not a role"),
    ("lambda", {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "dlq_mode": "other",
                "dlq_arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead.fifo"},
     "dlq_arn", "The dead-letter queue must be a standard queue, not FIFO."),
    ("lambda", {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "dlq_mode": "other",
                "dlq_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:dead"},
     "dlq_arn", "The dead-letter queue must be in the rule's Region (us-east-1), not eu-west-1."),
    ("sns", {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"}, "arn", "That is not a SNS topic ARN"),
    ("ec2", {"ec2_action": "stop-instance", "ec2_resource_id": "vol-1", "role_arn": ROLE}, "ec2_resource_id",
     "instance ID"),
    ("apigateway", {}, "arn", "arn:aws:execute-api:"),
])
def test_checks_that_waited_for_review_are_made_at_the_step(operator, at_targets, kind, fields, field, message):
    has(errors_for(operator, at_targets, kind, **fields), field, message)


def test_fifty_one_tags_are_refused_in_aws_words(operator, environment):
    draft = flow.start(operator, environment)
    response = flow.post(operator, draft, "tags", flow.tags(**{f"k{i}": "v" for i in range(51)}))
    assert response.context["form"].non_form_errors() == ["A rule can have at most 50 tags."]
    assert flow.post(operator, draft, "tags", flow.tags(**{f"k{i}": "v" for i in range(50)})).status_code == 302
