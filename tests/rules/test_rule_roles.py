"""A rule target's execution role, as the EventBridge console offers it: "Create a new role for this
specific resource" (the default for targets that need a role) or "Use existing role"; for Lambda, SNS
and SQS a resource-based policy (the default) or an execution role.

Expected documents are written here from AWS's documentation: the trust policy of "Confused deputy
prevention" in the EventBridge User Guide (events.amazonaws.com, aws:SourceArn = the rule's ARN,
aws:SourceAccount = the account), and the permissions of "Permissions required for EventBridge to
access targets using IAM roles" (kinesis:PutRecord for a stream; lambda:InvokeFunction for a
function), scoped to the one target. They are compared with what moto's IAM holds, read back over HTTP
with boto3. Moto does not deliver events, so that EventBridge can assume the role is not shown here;
what AWS holds after each apply is.
"""
import json

import pytest
from botocore.exceptions import ClientError

from changes import services
from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.models import ChangeRequest
from environments import aws
from rules.models import Rule
from tests.rules import flow
from tests.rules.test_apply import submit_and_apply

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ACCOUNT, REGION = "123456789012", "us-east-1"
RULE = "orders-to-kinesis"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"
KINESIS_ROLE = "Amazon_EventBridge_Invoke_Kinesis_1234567890"
LAMBDA_ROLE = "Amazon_EventBridge_Invoke_Lambda_0000000042"
POLICY_NAME = "Amazon-EventBridge-Invoke-Policy"


def trust_for(rule_arn):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}


@pytest.fixture
def stream(environment):
    kinesis = aws.client(environment, "kinesis")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    return kinesis.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamARN"]


def through_targets(client, environment, name, *targets):
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment, name=name))
    flow.post(client, draft, "pattern", flow.worked_example_pattern_form())
    return draft, flow.post(client, draft, "targets", flow.targets(*targets))


def submit(client, draft):
    assert flow.post(client, draft, "tags", flow.tags()).status_code == 302
    review = client.get(flow.step_url(draft, "review"))
    assert client.post(flow.step_url(draft, "review"), {"_go": "submit"}).status_code == 302
    return review, ChangeRequest.objects.get(pk=draft)


def iam_role(environment, name):
    iam = aws.client(environment, "iam")
    role = iam.get_role(RoleName=name)["Role"]
    policy = iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"]
    return role, policy if isinstance(policy, dict) else json.loads(policy)


def role_names(environment):
    return sorted(r["RoleName"] for r in aws.client(environment, "iam").list_roles()["Roles"])


def test_a_kinesis_target_with_a_new_role(operator, environment, stream, apply_inline):
    draft, response = through_targets(operator, environment, RULE, flow.target(
        0, "", kind="kinesis", arn=stream, role_mode="new", new_role_name=KINESIS_ROLE))
    assert response.status_code == 302, response.context["form"].forms[0].errors
    review, change = submit(operator, draft)
    # The review shows the new role first, with both its policies, then the rule.
    operations = [call.operation for call in review.context["plan"]]
    assert operations[:4] == ["CreateRole", "PutRolePolicy", "PutRule", "PutTargets"]
    page = review.content.decode()
    assert 'data-testid="review-new-role"' in page and 'data-testid="review-role-permissions"' in page
    assert "sts:AssumeRole" in page and "kinesis:PutRecord" in page
    assert change.state == ChangeState.APPLIED, change.last_error
    assert not [c for c in change.apply_attempts.get().calls if "Warning" in c["summary"]]

    role, permissions = iam_role(environment, KINESIS_ROLE)
    assert role["Path"] == "/service-role/"
    assert role["AssumeRolePolicyDocument"] == trust_for(RULE_ARN)
    assert permissions == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": stream}]}
    (target,) = aws.client(environment, "events").list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["RoleArn"] == role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/{KINESIS_ROLE}"
    assert Rule.objects.get(name=RULE).sync_status == SyncStatus.IN_SYNC

    # Applying again creates nothing: the plan reads the role first.
    before = role_names(environment)
    assert services.plan_for(ChangeRequest.objects.get(pk=draft))[0] == []
    again = submit_and_apply(change.author, environment, change.spec, action=ChangeAction.UPDATE,
                             target=Rule.objects.get(name=RULE))
    assert again.state == ChangeState.APPLIED, again.last_error
    assert again.apply_attempts.get().calls == []
    assert role_names(environment) == before


def test_a_dead_letter_queue_is_in_the_new_role_s_permissions(operator, environment, stream, apply_inline):
    sqs = aws.client(environment, "sqs")
    url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    draft, response = through_targets(operator, environment, RULE, flow.target(
        0, "", kind="kinesis", arn=stream, role_mode="new", new_role_name=KINESIS_ROLE, dlq_mode="other",
        dlq_arn=dlq))
    assert response.status_code == 302, response.context["form"].forms[0].errors
    _review, change = submit(operator, draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    _role, permissions = iam_role(environment, KINESIS_ROLE)
    assert permissions["Statement"] == [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": stream},
                                        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq}]


def test_a_lambda_target_with_an_execution_role_gets_no_resource_policy(
        operator, environment, demo_resources, apply_inline):
    function = demo_resources["lambda"]
    draft, response = through_targets(operator, environment, "lambda-as-role", flow.target(
        0, function, access_mode="role", role_mode="new", new_role_name=LAMBDA_ROLE))
    assert response.status_code == 302, response.context["form"].forms[0].errors
    _review, change = submit(operator, draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    assert [c["operation"] for c in change.apply_attempts.get().calls] == [
        "CreateRole", "PutRolePolicy", "PutRule", "PutTargets"]
    lam = aws.client(environment, "lambda")
    with pytest.raises(ClientError) as no_policy:  # no AddPermission was made: the function has no policy
        lam.get_policy(FunctionName="Do_nothing")
    assert no_policy.value.response["Error"]["Code"] == "ResourceNotFoundException"
    role, permissions = iam_role(environment, LAMBDA_ROLE)
    assert role["AssumeRolePolicyDocument"] == trust_for(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/lambda-as-role")
    assert permissions == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [function, f"{function}:*"]}]}
    (target,) = aws.client(environment, "events").list_targets_by_rule(Rule="lambda-as-role")["Targets"]
    assert target["RoleArn"] == role["Arn"]


def test_lambda_keeps_the_resource_based_policy_by_default(operator, environment, demo_resources):
    """The default (the worked example's): no role, even when a role was picked before switching back."""
    draft, response = through_targets(operator, environment, "lambda-as-policy", flow.target(
        0, demo_resources["lambda"], access_mode="policy", role_mode="new", new_role_name=LAMBDA_ROLE,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/picked-before"))
    assert response.status_code == 302, response.context["form"].forms[0].errors
    assert ChangeRequest.objects.get(pk=draft).spec["Targets"] == [{"Id": "Target1", "Arn": demo_resources["lambda"]}]


def _delete(user, rule):
    return submit_and_apply(user, rule.environment, None, action=ChangeAction.DELETE, target=rule)


def test_deleting_the_rule_deletes_its_role_unless_another_rule_uses_it(
        operator, users, environment, stream, apply_inline):
    draft, _response = through_targets(operator, environment, RULE, flow.target(
        0, "", kind="kinesis", arn=stream, role_mode="new", new_role_name=KINESIS_ROLE))
    _review, change = submit(operator, draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/service-role/{KINESIS_ROLE}"
    # A second managed rule uses the same role ("Use existing role"): deleting the first keeps it.
    other = submit_and_apply(users["operator"], environment, {
        "Rule": {"Name": "also-to-kinesis", "EventBusName": "default", "State": "ENABLED",
                 "EventPattern": json.dumps({"source": ["aws.s3"]})},
        "Targets": [{"Id": "T1", "Arn": stream, "RoleArn": role_arn}], "Tags": []})
    assert other.state == ChangeState.APPLIED, other.last_error
    # The role trusts EventBridge for the first rule only: the second rule's plan says so.
    (put_targets,) = [c for c in other.apply_attempts.get().calls if c["operation"] == "PutTargets"]
    assert f"Role {KINESIS_ROLE} cannot be used by this rule" in put_targets["summary"]
    assert "aws:SourceArn = arn:aws:events:us-east-1:123456789012:rule/also-to-kinesis" in put_targets["summary"]
    deleted = _delete(users["operator"], Rule.objects.get(name=RULE))
    assert [c["operation"] for c in deleted.apply_attempts.get().calls] == ["RemoveTargets", "DeleteRule"]
    assert aws.client(environment, "iam").get_role(RoleName=KINESIS_ROLE)["Role"]["Arn"] == role_arn
    # A role EventConsole did not make for that rule is never deleted with it.
    deleted = _delete(users["operator"], Rule.objects.get(name="also-to-kinesis"))
    assert [c["operation"] for c in deleted.apply_attempts.get().calls] == ["RemoveTargets", "DeleteRule"]
    assert aws.client(environment, "iam").get_role(RoleName=KINESIS_ROLE)["Role"]["Arn"] == role_arn


def test_deleting_the_only_rule_that_uses_its_role_deletes_the_role(operator, users, environment, stream,
                                                                    apply_inline):
    draft, _response = through_targets(operator, environment, RULE, flow.target(
        0, "", kind="kinesis", arn=stream, role_mode="new", new_role_name=KINESIS_ROLE))
    _review, change = submit(operator, draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    deleted = _delete(users["operator"], Rule.objects.get(name=RULE))
    assert deleted.state == ChangeState.APPLIED, deleted.last_error
    assert [c["operation"] for c in deleted.apply_attempts.get().calls] == [
        "RemoveTargets", "DeleteRule", "DeleteRolePolicy", "DeleteRole"]
    with pytest.raises(ClientError) as gone:
        aws.client(environment, "iam").get_role(RoleName=KINESIS_ROLE)
    assert gone.value.response["Error"]["Code"] == "NoSuchEntity"


# ---------------------------------------------------------------------------------------------
# The choices, at the field
# ---------------------------------------------------------------------------------------------
def errors_of(response):
    assert response.status_code == 200, "the step should have refused this"
    return response.context["form"].forms[0].errors


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"role_mode": "existing"}, "role", "A Kinesis stream target needs an execution role."),
    ({"role_mode": "existing", "role_arn": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "role_arn",
     "That is an IAM user, not a role"),
    ({"role_mode": "new", "new_role_name": ""}, "new_role_name", "Enter a name for the new role."),
    ({"role_mode": "new", "new_role_name": "has space"}, "new_role_name", "1 to 64 letters"),
])
def test_kinesis_role_choices_are_checked_at_the_field(operator, environment, fields, field, message):
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s"
    _draft, response = through_targets(operator, environment, RULE, flow.target(0, "", kind="kinesis", arn=arn,
                                                                                **fields))
    errors = errors_of(response)
    assert any(message in e for e in errors.get(field, [])), errors


def test_a_lambda_with_an_execution_role_needs_one(operator, environment, demo_resources):
    _draft, response = through_targets(operator, environment, RULE, flow.target(
        0, demo_resources["lambda"], access_mode="role", role_mode="existing"))
    assert errors_of(response)["role"] == ["Choose the execution role, or create a new one."]


def test_two_targets_cannot_create_the_same_role(operator, environment):
    arns = [f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{n}" for n in ("a", "b")]
    _draft, response = through_targets(operator, environment, RULE, *(
        flow.target(i, "", kind="kinesis", arn=arn, role_mode="new", new_role_name="orders-writer")
        for i, arn in enumerate(arns)))
    assert response.status_code == 200
    assert "Another target creates a role of this name" in " ".join(response.context["form"].forms[1].errors["new_role_name"])


def test_two_targets_added_from_the_blank_one_get_two_default_names(operator, environment):
    """"Add another target" copies one blank target, default role name included: the second is made anew."""
    arns = [f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{n}" for n in ("a", "b")]
    draft, response = through_targets(operator, environment, RULE, *(
        flow.target(i, "", kind="kinesis", arn=arn, role_mode="new", new_role_name=KINESIS_ROLE)
        for i, arn in enumerate(arns)))
    assert response.status_code == 302, [f.errors for f in response.context["form"].forms]
    first, second = (t["RoleArn"] for t in ChangeRequest.objects.get(pk=draft).spec["Targets"])
    assert first == f"arn:aws:iam::{ACCOUNT}:role/service-role/{KINESIS_ROLE}"
    assert second != first and second.rsplit("/", 1)[-1].startswith("Amazon_EventBridge_Invoke_Kinesis_")


def test_the_step_offers_the_console_s_defaults(operator, environment):
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment))
    flow.post(operator, draft, "pattern", flow.worked_example_pattern_form())
    form = operator.get(flow.step_url(draft, "targets")).context["form"].forms[0]
    # Lambda (the first type): a resource-based policy; a role, if chosen, is a new one, named as the console does.
    assert form["access_mode"].value() == "policy" and form["role_mode"].value() == "new"
    assert form["new_role_name"].value().startswith("Amazon_EventBridge_Invoke_Lambda_")
    # Changing the type to Kinesis: no policy choice, the new role's default name follows the type.
    data = flow.targets(flow.target(0, "", kind="kinesis", role_mode="new",
                                    new_role_name=form["new_role_name"].value()))
    form = flow.post(operator, draft, "targets", data, go="refresh").context["form"].forms[0]
    assert form.access == "role" and form.offers_new_role
    assert form["new_role_name"].value().startswith("Amazon_EventBridge_Invoke_Kinesis_")
    body = flow.post(operator, draft, "targets", data, go="refresh").content.decode()
    body = body.split("data-formset-empty")[0]  # the target shown (not the blank one "Add another target" copies)
    assert "Create a new role for this specific resource" in body and "Use a resource-based policy" not in body
    # A name typed by hand is kept.
    data["targets-0-new_role_name"] = "orders-stream-writer"
    form = flow.post(operator, draft, "targets", data, go="refresh").context["form"].forms[0]
    assert form["new_role_name"].value() == "orders-stream-writer"


def test_a_default_name_made_for_another_type_follows_the_type_and_the_role_is_made(
        operator, environment, stream, apply_inline):
    """The type was changed after the name was filled in (Lambda's default name, a Kinesis target)."""
    draft, response = through_targets(operator, environment, RULE, flow.target(
        0, "", kind="kinesis", arn=stream, role_mode="new", new_role_name=LAMBDA_ROLE))
    assert response.status_code == 302, response.context["form"].forms[0].errors
    _review, change = submit(operator, draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    (target,) = aws.client(environment, "events").list_targets_by_rule(Rule=RULE)["Targets"]
    name = target["RoleArn"].rsplit("/", 1)[-1]
    assert name.startswith("Amazon_EventBridge_Invoke_Kinesis_") and name != LAMBDA_ROLE
    role, _permissions = iam_role(environment, name)
    assert role["Arn"] == target["RoleArn"]
