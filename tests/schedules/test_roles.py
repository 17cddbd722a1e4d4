"""Execution roles for schedules ("Create new role for this schedule", the trust check) and the
rule-target role API, against a moto server over HTTP.

The expected policy documents are written here from AWS's documentation ("Setting up the execution
role", "Confused deputy prevention" in the EventBridge Scheduler User Guide; "Using identity-based
policies" and the templated-target actions), never built by the code under test. What IAM holds is
read back with boto3 (iam.get_role / get_role_policy).

moto does not model IAM's propagation delay, nor does it check that Scheduler may assume the role:
the delay is drilled by making CreateSchedule answer AWS's own ValidationException a few times (a
botocore before-call hook on the real clients, installed through the client factory).
"""
import json
import re

import pytest
from botocore.exceptions import ClientError

from changes import apply, services
from changes.choices import ChangeAction, ChangeState
from changes.models import ChangeRequest
from delivery import roles
from environments import aws
from schedules.models import Schedule
from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ACCOUNT = "123456789012"
ROLE_NAME = "Amazon_EventBridge_Scheduler_LAMBDA_0a1b2c3d4e"
DLQ = f"arn:aws:sqs:us-east-1:{ACCOUNT}:eventconsole-dlq"
KMS = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NOT_ASSUMABLE = "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."

# "Confused deputy prevention in EventBridge Scheduler": the account, and the schedule GROUP's ARN.
EXPECTED_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT,
                                   "aws:SourceArn": f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/default"}}}]}


def expected_permissions(function_arn: str) -> dict:
    """Lambda Invoke templated target: lambda:InvokeFunction on the function (and its versions/aliases);
    the DLQ needs sqs:SendMessage; a customer managed key kms:Decrypt."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [function_arn, f"{function_arn}:*"]},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": DLQ},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS}]}


def new_role_settings(name=ROLE_NAME, **extra) -> dict:
    return flow.settings("", retry=False, role_mode="new", new_role_name=name, dlq_mode="other", dlq_arn=DLQ,
                         encryption="on", kms_key_arn=KMS, **extra)


def fill_steps(client, environment, *, target: dict, settings: dict, name="Invoke_Do_nothing") -> int:
    draft = flow.start(client, environment)
    for step, data in (("detail", flow.detail(environment, name=name)), ("target", target),
                       ("settings", settings)):
        response = flow.post(client, draft, step, data)
        assert response.status_code == 302, (step, response.context and response.context["form"].errors)
    return draft


def operations(change) -> list[str]:
    return [call["operation"] for call in change.plan]


def test_the_settings_step_offers_a_new_role_named_as_the_scheduler_console_names_it(
        client_for, environment, demo_resources):
    client = client_for("operator")
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment))
    flow.post(client, draft, "target", flow.templated("lambda", demo_resources["lambda"], "{}"))
    page = client.get(flow.step_url(draft, "settings")).content.decode()
    assert "Create new role for this schedule" in page and "Use existing role" in page
    # the default, as in the Scheduler console: a new role for this schedule
    radios = [tag for tag in re.findall(r"<input\b[^>]*>", page) if 'name="settings-role_mode"' in tag]
    checked = [re.search(r'value="(\w+)"', tag)[1] for tag in radios if re.search(r"\schecked\b", tag)]
    assert len(radios) == 3 and checked == ["new"], radios
    # the console's name: Amazon_EventBridge_Scheduler_<TARGET>_<10 hex>
    assert re.search(r'value="Amazon_EventBridge_Scheduler_LAMBDA_[0-9a-f]{10}"', page), page


def test_a_new_role_is_created_before_the_schedule_with_the_documented_policies(
        client_for, environment, demo_resources, apply_inline):
    # given the flow with "Create new role for this schedule", a DLQ and a customer managed key
    client = client_for("operator")
    function = demo_resources["lambda"]
    draft = fill_steps(client, environment, target=flow.templated("lambda", function, "{}"),
                       settings=new_role_settings())
    # then the review shows both policies in the plan, before CreateSchedule
    review = client.get(flow.step_url(draft, "review")).content.decode()
    assert review.index("CreateRole") < review.index("PutRolePolicy") < review.index("CreateSchedule")
    assert "scheduler.amazonaws.com" in review and "lambda:InvokeFunction" in review
    # when it is submitted (no approval needed: applied at once)
    assert client.post(flow.step_url(draft, "review"), {"_go": "submit"}).status_code == 302
    change = ChangeRequest.objects.get(pk=draft)
    # then
    assert change.state == ChangeState.APPLIED, change.last_error
    assert operations(change) == ["CreateRole", "PutRolePolicy", "CreateSchedule"]
    iam = aws.client(environment, "iam")
    role = iam.get_role(RoleName=ROLE_NAME)["Role"]
    assert role["Path"] == "/service-role/"
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/{ROLE_NAME}"
    assert role["AssumeRolePolicyDocument"] == EXPECTED_TRUST
    assert {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=ROLE_NAME)["Tags"]} == {
        "eventconsole:created-for": "default/Invoke_Do_nothing"}
    assert iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"] == [
        "Amazon-EventBridge-Scheduler-Execution-Policy"]
    policy = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName="Amazon-EventBridge-Scheduler-Execution-Policy")
    assert policy["PolicyDocument"] == expected_permissions(function)
    got = aws.client(environment, "scheduler").get_schedule(Name="Invoke_Do_nothing")
    assert got["Target"]["RoleArn"] == role["Arn"]
    # when it is planned again (a second apply): nothing is missing, nothing is created
    assert services.plan_for(change)[0] == []
    assert len([r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("Amazon_EventBridge_Scheduler")]) == 1


def test_a_half_done_apply_is_finished_without_creating_the_role_again(users, environment, demo_resources):
    """The role exists (an earlier attempt created it) but its policy does not: only PutRolePolicy and
    CreateSchedule are planned."""
    iam = aws.client(environment, "iam")
    iam.create_role(RoleName=ROLE_NAME, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(EXPECTED_TRUST))
    change = services.change_request_draft_create(
        kind="schedule", action=ChangeAction.CREATE, environment=environment, author=users["operator"],
        spec={"Name": "Invoke_Do_nothing", "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"},
              "Target": {"Arn": demo_resources["lambda"], "Input": "{}",
                         "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/service-role/{ROLE_NAME}"}})
    change.wizard = {"settings": {"settings-role_mode": ["new"], "settings-new_role_name": [ROLE_NAME]}}
    change.save()
    services.change_request_submit(change, actor=users["operator"])
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED, change.last_error
    assert operations(change) == ["PutRolePolicy", "CreateSchedule"]
    assert [c["operation"] for c in change.apply_attempts.get().calls] == ["PutRolePolicy", "CreateSchedule"]


def _refuse_create_schedule(times: int, seen: list):
    class Refused:
        status_code = 400

    def hook(client, environment, service):
        def before(model, **kwargs):
            if model.name == "CreateSchedule":
                seen.append(model.name)
                if len(seen) <= times:
                    return Refused(), {"Error": {"Code": "ValidationException", "Message": NOT_ASSUMABLE},
                                       "ResponseMetadata": {"HTTPStatusCode": 400}}
            return None
        client.meta.events.register("before-call", before)
    return hook


def test_apply_waits_out_iam_propagation_and_does_not_fail_the_first_time(
        client_for, environment, demo_resources, apply_inline):
    """CreateSchedule answers as AWS does for a role IAM has not propagated yet, twice, then accepts."""
    seen: list = []
    hook = _refuse_create_schedule(2, seen)
    aws.add_client_hook(hook)
    try:
        client = client_for("operator")
        draft = fill_steps(client, environment, target=flow.templated("lambda", demo_resources["lambda"], "{}"),
                           settings=new_role_settings())
        assert client.post(flow.step_url(draft, "review"), {"_go": "submit"}).status_code == 302
    finally:
        aws.remove_client_hook(hook)
    change = ChangeRequest.objects.get(pk=draft)
    assert change.state == ChangeState.APPLIED, change.last_error
    assert change.attempts == 1  # one apply attempt: the waits happened inside it
    assert len(seen) == 3
    create = [c for c in change.apply_attempts.get().calls if c["operation"] == "CreateSchedule"]
    assert create[0]["ok"] and create[0]["iam_propagation_retries"] == 2
    assert aws.client(environment, "scheduler").get_schedule(Name="Invoke_Do_nothing")["Target"]["RoleArn"].endswith(
        f"/service-role/{ROLE_NAME}")


def test_a_role_trusting_only_ec2_is_warned_about_at_the_field_and_in_the_plan(client_for, environment,
                                                                               demo_resources):
    iam = aws.client(environment, "iam")
    arn = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    client = client_for("operator")
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment, name="Invoke_Do_nothing"))
    flow.post(client, draft, "target", flow.templated("lambda", demo_resources["lambda"], "{}"))
    # when the step is sent with that role
    response = flow.post(client, draft, "settings", flow.settings("", role_mode="arn", role_arn=arn))
    # then it stays, warning at the field, keeping what was typed
    assert response.status_code == 200
    page = response.content.decode()
    warning = re.search(r'data-testid="role-warning">([^<]*)<', page)
    assert warning, page
    assert "ec2-only" in warning.group(1) and "only ec2.amazonaws.com" in warning.group(1)
    assert "not scheduler.amazonaws.com" in warning.group(1)
    assert response.context["form"].errors["role_arn"] == [
        "This role's trust policy does not allow scheduler.amazonaws.com: fix it in IAM, choose another role, or "
        "tick “Use this role anyway”."]
    assert f'value="{arn}"' in page and "Use this role anyway" in page
    # when the person goes on anyway, the plan says so too
    response = flow.post(client, draft, "settings", flow.settings("", role_mode="arn", role_arn=arn,
                                                                  role_trust_ack="on"))
    assert response.status_code == 302 and response["Location"].endswith("/review/")
    review = client.get(flow.step_url(draft, "review")).content.decode()
    assert "Warning: Role ec2-only cannot be used by EventBridge Scheduler" in review


def test_the_worked_example_role_that_trusts_scheduler_gets_no_warning(client_for, environment, demo_resources):
    client = client_for("operator")
    draft = fill_steps(client, environment, target=flow.universal(input_text='{"InstanceIds": ["i-0123456789abcdef0"]}'),
                       settings=flow.settings(flow.role_arn(), retry=False))
    assert 'data-testid="role-warning"' not in client.get(flow.step_url(draft, "settings")).content.decode()
    assert "Warning:" not in client.get(flow.step_url(draft, "review")).content.decode()


def _delete(user, schedule) -> ChangeRequest:
    change = services.change_request_draft_create(kind="schedule", action=ChangeAction.DELETE,
                                                  environment=schedule.environment, author=user,
                                                  spec=schedule.desired_spec, target=schedule)
    services.change_request_submit(change, actor=user)
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    return change


def test_deleting_the_schedule_deletes_the_role_made_for_it_but_never_an_existing_role(
        client_for, users, environment, demo_resources, apply_inline):
    client = client_for("operator")
    draft = fill_steps(client, environment, target=flow.templated("lambda", demo_resources["lambda"], "{}"),
                       settings=new_role_settings())
    client.post(flow.step_url(draft, "review"), {"_go": "submit"})
    ours = Schedule.objects.get(name="Invoke_Do_nothing")
    draft = fill_steps(client, environment, name="Start_with_demo_role",
                       target=flow.universal(input_text='{"InstanceIds": ["i-0123456789abcdef0"]}'),
                       settings=flow.settings(flow.role_arn(), retry=False))
    client.post(flow.step_url(draft, "review"), {"_go": "submit"})
    theirs = Schedule.objects.get(name="Start_with_demo_role")
    iam = aws.client(environment, "iam")
    # when the schedule with the role EventConsole created for it is deleted
    deleted = _delete(users["operator"], ours)
    # then the role goes with it (its inline policy first)
    assert deleted.state == ChangeState.APPLIED, deleted.last_error
    assert operations(deleted) == ["DeleteSchedule", "DeleteRolePolicy", "DeleteRole"]
    with pytest.raises(ClientError) as missing:
        iam.get_role(RoleName=ROLE_NAME)
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    # when the schedule using an existing role is deleted, the role stays
    deleted = _delete(users["operator"], theirs)
    assert deleted.state == ChangeState.APPLIED and operations(deleted) == ["DeleteSchedule"]
    assert iam.get_role(RoleName=flow.ROLE)["Role"]["Arn"] == flow.role_arn()


def test_a_role_made_for_one_schedule_but_used_by_another_managed_schedule_is_kept(
        client_for, users, environment, demo_resources, apply_inline):
    client = client_for("operator")
    draft = fill_steps(client, environment, target=flow.templated("lambda", demo_resources["lambda"], "{}"),
                       settings=new_role_settings())
    client.post(flow.step_url(draft, "review"), {"_go": "submit"})
    arn = f"arn:aws:iam::{ACCOUNT}:role/service-role/{ROLE_NAME}"
    draft = fill_steps(client, environment, name="Second_user_of_the_role",
                       target=flow.templated("lambda", demo_resources["lambda"], "{}"),
                       settings=flow.settings("", role_mode="arn", role_arn=arn))
    client.post(flow.step_url(draft, "review"), {"_go": "submit"})
    assert ChangeRequest.objects.get(pk=draft).state == ChangeState.APPLIED
    deleted = _delete(users["operator"], Schedule.objects.get(name="Invoke_Do_nothing"))
    assert operations(deleted) == ["DeleteSchedule"]
    assert aws.client(environment, "iam").get_role(RoleName=ROLE_NAME)["Role"]["Arn"] == arn


# ---------------------------------------------------------------------------------------------
# The rule-target role (EventBridge console's "Create a new role for this specific resource")
# ---------------------------------------------------------------------------------------------
RULE = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/orders-to-kinesis"
STREAM = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders"


def test_rule_role_policies_are_the_documented_ones_and_iam_holds_them(environment):
    name = roles.rule_role_name("kinesis")
    assert re.fullmatch(r"Amazon_EventBridge_Invoke_Kinesis_\d{10}", name)
    # "Confused deputy prevention" (EventBridge User Guide): the rule's ARN and the account
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:SourceArn": RULE}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}
    permissions = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": STREAM}]}
    role = roles.NewRole(name=name, trust=roles.rule_trust_policy(account_id=ACCOUNT, rule_arn=RULE),
                         permissions=roles.rule_permissions_policy("kinesis", STREAM),
                         policy_name=roles.RULE_POLICY_NAME, created_for=RULE)
    iam = aws.client(environment, "iam")
    for call in roles.create_role_calls(role, None):
        call.execute(iam)
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust
    assert iam.get_role_policy(RoleName=name, PolicyName=roles.RULE_POLICY_NAME)["PolicyDocument"] == permissions
    # applying twice creates nothing new
    assert roles.create_role_calls(role, roles.read_role(iam, name)) == []


@pytest.mark.parametrize(("kind", "arn", "statement"), [
    ("states", f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:orders",
     {"Effect": "Allow", "Action": "states:StartExecution",
      "Resource": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:orders"}),
    ("events", f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/central",
     {"Effect": "Allow", "Action": "events:PutEvents", "Resource": f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/central"}),
    ("api-destination", f"arn:aws:events:us-east-1:{ACCOUNT}:api-destination/crm/0a1b",
     {"Effect": "Allow", "Action": "events:InvokeApiDestination",
      "Resource": f"arn:aws:events:us-east-1:{ACCOUNT}:api-destination/crm/0a1b"}),
    ("batch", f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/nightly",
     {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": [
         f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/nightly", f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/*"]}),
])
def test_rule_role_permissions_per_target(kind, arn, statement):
    assert roles.rule_permissions_policy(kind, arn) == {"Version": "2012-10-17", "Statement": [statement]}


def test_rule_role_for_ecs_runs_the_task_in_that_cluster_and_passes_roles_to_ecs_tasks():
    cluster = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/batch"
    task = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/nightly:3"
    assert roles.rule_permissions_policy("ecs", cluster, ecs_task_definition=task) == {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/nightly:*",
             "Condition": {"ArnLike": {"ecs:cluster": cluster}}},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]}


def test_universal_target_role_allows_the_service_action():
    policy = roles.scheduler_permissions_policy({"Arn": "arn:aws:scheduler:::aws-sdk:sfn:startExecution"})
    assert policy["Statement"] == [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}]
    assert roles.scheduler_role_name("arn:aws:scheduler:::aws-sdk:ec2:startInstances", suffix="0123456789") == \
        "Amazon_EventBridge_Scheduler_EC2_0123456789"


def test_the_propagation_wait_is_bounded_and_only_for_scheduler_s_role_message():
    """How long apply waits for IAM, per attempt: a pure check of the bound (the wait itself is drilled above)."""
    from schedules.plan import ScheduleCall

    create = ScheduleCall("scheduler", "CreateSchedule", {})
    not_assumable = ClientError({"Error": {"Code": "ValidationException", "Message": NOT_ASSUMABLE}}, "CreateSchedule")
    other = ClientError({"Error": {"Code": "ValidationException", "Message": "Invalid Schedule Expression"}},
                        "CreateSchedule")
    delays = []
    attempt = 0
    while (delay := create.propagation_delay(not_assumable, attempt)) is not None:
        delays.append(delay)
        attempt += 1
    assert 60 <= sum(delays) <= 180 and len(delays) <= 10  # about two minutes, as IAM's changes commonly take
    assert create.propagation_delay(other, 0) is None
    assert ScheduleCall("scheduler", "DeleteSchedule", {}).propagation_delay(not_assumable, 0) is None


def test_a_role_made_for_another_schedule_group_is_warned_about(client_for, environment, demo_resources):
    """Scheduler checks the trust conditions against the schedule's group (moto does not: the form does)."""
    iam = aws.client(environment, "iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT,
                                       "aws:SourceArn": f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/reports"}}}]}
    arn = iam.create_role(RoleName="reports-only", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    client = client_for("operator")
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment, name="Invoke_Do_nothing"))  # group default
    flow.post(client, draft, "target", flow.templated("lambda", demo_resources["lambda"], "{}"))
    response = flow.post(client, draft, "settings", flow.settings("", role_mode="arn", role_arn=arn))
    assert response.status_code == 200
    warning = re.search(r'data-testid="role-warning">([^<]*)<', response.content.decode())
    assert warning and "reports-only" in warning.group(1)
    assert f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/default" in warning.group(1)
    # the same conditions with a wildcard group are fine
    trust["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                          "ArnLike": {"aws:SourceArn": f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/*"}}
    iam.update_assume_role_policy(RoleName="reports-only", PolicyDocument=json.dumps(trust))
    response = flow.post(client, draft, "settings", flow.settings("", role_mode="arn", role_arn=arn))
    assert response.status_code == 302
