"""The universal target ("All APIs"): every botocore service, skeletons and botocore's own validator.

Expected values come from botocore's model read here through botocore's loader (an outside oracle),
and from the Scheduler guide's examples; the picker pages go through the Django test client.
"""
import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

from schedules import targets
from tests.schedules import flow

SESSION = botocore.session.get_session()


def input_shape(botocore_name: str, operation: str):
    return SESSION.get_service_model(botocore_name).operation_model(operation).input_shape


def test_every_service_botocore_ships_is_offered():
    shipped = set(SESSION.get_component("data_loader").list_available_services("service-2"))
    by_id: dict[str, set[str]] = {}
    for name in shipped:
        by_id.setdefault(SESSION.get_service_model(name).service_id, set()).add(name)
    offered = [found.botocore for found in targets.services().values()]
    # one entry per SDK service identifier: every identifier botocore ships, and nothing else
    assert len(offered) == len(by_id) > 400
    assert all(len(by_id[SESSION.get_service_model(name).service_id] & set(offered)) == 1 for name in offered)


@pytest.mark.parametrize(("name", "botocore_name"), [
    # the Scheduler guide: the SDK service identifier, not the endpoint prefix (cognitoidentityprovider, not
    # cognito-idp); its examples use sqs, sfn, ec2, lambda
    ("cognitoidentityprovider", "cognito-idp"), ("sfn", "stepfunctions"), ("sqs", "sqs"), ("ec2", "ec2"),
    ("lambda", "lambda"), ("rds", "rds"),
])
def test_services_are_named_as_scheduler_names_them(name, botocore_name):
    assert targets.service(name).botocore == botocore_name
    assert targets.universal_arn(name, "Foo") == f"arn:aws:scheduler:::aws-sdk:{name}:foo"


def test_a_botocore_name_scheduler_does_not_use_gets_the_right_one():
    (message,) = targets.check_universal("cognito-idp", "adminDeleteUser", "{}")
    assert "cognitoidentityprovider" in message


def test_read_only_actions_are_not_offered():
    ec2 = dict(targets.actions("ec2"))
    assert {"startInstances", "stopInstances", "rebootInstances", "runInstances"} <= set(ec2)
    assert not {"describeInstances", "getConsoleOutput", "listImagesInRecycleBin"} & set(ec2)
    assert set(ec2.values()) <= set(SESSION.get_service_model("ec2").operation_names)


@pytest.mark.parametrize(("service", "action", "botocore_name", "operation"), [
    ("ec2", "startInstances", "ec2", "StartInstances"),
    ("sqs", "sendMessage", "sqs", "SendMessage"),
    ("sfn", "startExecution", "stepfunctions", "StartExecution"),
    ("ecs", "runTask", "ecs", "RunTask"),
    ("lambda", "invoke", "lambda", "Invoke"),
    ("dynamodb", "putItem", "dynamodb", "PutItem"),
    ("rds", "stopDBCluster", "rds", "StopDBCluster"),
])
def test_skeleton_holds_the_required_members_of_the_input_shape(service, action, botocore_name, operation):
    shape = input_shape(botocore_name, operation)
    required = [m[:1].upper() + m[1:] for m in shape.required_members]
    skeleton = json.loads(targets.skeleton(service, action))
    assert list(skeleton) == required
    rows = targets.members(service, action)
    assert [name for name, _, is_required in rows if is_required] == required
    assert [r for _, _, r in rows] == sorted((r for _, _, r in rows), reverse=True)  # required members first
    assert {name.lower() for name, _, _ in rows} == {m.lower() for m in shape.members}


def test_skeleton_types_follow_the_shape():
    skeleton = json.loads(targets.skeleton("ec2", "startInstances"))
    assert skeleton == {"InstanceIds": ["<string>"]}  # InstanceIds is a list of strings in botocore's model
    assert input_shape("ec2", "StartInstances").members["InstanceIds"].type_name == "list"
    assert ("InstanceIds", "list of string", True) in targets.members("ec2", "startInstances")
    assert ("DryRun", "boolean", False) in targets.members("ec2", "startInstances")
    assert targets.skeleton("ec2", "rebootInstances") == json.dumps({"InstanceIds": ["<string>"]}, indent=2)


def test_a_skeleton_left_as_it_is_is_refused_and_filled_in_is_accepted():
    problems = targets.check_universal("sqs", "sendMessage", targets.skeleton("sqs", "sendMessage"))
    assert problems == ["Input: replace the placeholder at QueueUrl with a value.",
                        "Input: replace the placeholder at MessageBody with a value."]
    body = {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": "hello"}
    assert targets.check_universal("sqs", "sendMessage", json.dumps(body)) == []


def test_the_issue_example_is_refused_for_both_reasons():
    text = '{"InstanceIds": "i-123", "Bogus": 1}'
    problems = targets.check_universal("ec2", "startInstances", text)
    # botocore's validator, the oracle, finds the same two problems
    report = ParamValidator().validate(json.loads(text), input_shape("ec2", "StartInstances")).generate_report()
    assert "Unknown parameter in input: \"Bogus\"" in report and "Invalid type for parameter InstanceIds" in report
    assert len(problems) == 2
    assert any("unknown member 'Bogus'" in p and "InstanceIds, AdditionalInfo, DryRun" in p for p in problems)
    assert any('InstanceIds must be a list, not a string ("i-123")' in p for p in problems)
    assert targets.check_universal("ec2", "startInstances", '{"InstanceIds": ["i-123"]}') == []


def test_pascal_case_members_as_scheduler_writes_them():
    """The Scheduler guide's Step Functions example writes StateMachineArn and Input where botocore's model has
    stateMachineArn and input; RDS users write DbInstanceIdentifier for DBInstanceIdentifier."""
    body = {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Input": "{}"}
    assert targets.check_universal("sfn", "startExecution", json.dumps(body)) == []
    assert targets.check_universal("rds", "startDBInstance", '{"DbInstanceIdentifier": "db1"}') == []
    assert targets.required_members("sfn", "startExecution") == ("StateMachineArn",)


@pytest.mark.parametrize(("service", "action", "text", "words"), [
    ("sqs", "sendMessage", '{"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": "5"}',
     "DelaySeconds must be a whole number, not a string"),
    ("sqs", "sendMessage", '{"QueueUrl": "u", "MessageBody": "b", "MessageAttributes": {"a": {"DataType": 3}}}',
     "MessageAttributes.a.DataType must be a string, not a number"),
    ("ec2", "startInstances", '{"InstanceIds": [1]}', "InstanceIds[0] must be a string, not a number"),
    ("ec2", "startInstances", '{"InstanceIds": ["i-1"], "DryRun": "yes"}', "DryRun must be true or false"),
    ("lambda", "invoke", '{}', "missing FunctionName"),
    ("lambda", "putProvisionedConcurrencyConfig",
     '{"FunctionName": "f", "Qualifier": "live", "ProvisionedConcurrentExecutions": 0}',
     "ProvisionedConcurrentExecutions must be at least 1 (it is 0)"),
    ("lambda", "invoke", '{"FunctionName": ""}', "FunctionName must have a length of at least 1 (it has 0)"),
    ("dynamodb", "putItem", '{"TableName": "t", "Item": {"k": {"Nope": "x"}}}', "Item.k has the unknown member 'Nope'"),
])
def test_botocore_validation_rules_in_words(service, action, text, words):
    problems = targets.check_universal(service, action, text)
    assert any(words in p for p in problems), problems


def test_context_attributes_are_allowed_in_values():
    body = '{"InstanceIds": ["i-1"], "AdditionalInfo": "<aws.scheduler.scheduled-time>"}'
    assert targets.check_universal("ec2", "startInstances", body) == []


@pytest.mark.django_db
@pytest.mark.aws
def test_pickers_list_every_service_and_are_searchable(client_for, environment):
    client = client_for("operator")
    draft = flow.start(client, environment)
    response = flow.post(client, draft, "target", flow.universal(service="ec2", action="", input_text=""), go="refresh")
    html = response.content.decode()
    assert html.count('<option value="') >= 2 * len(targets.services())  # the select and its search list
    assert 'list="service-options"' in html and 'data-pick-into="id_target-service"' in html
    assert '<option value="cognitoidentityprovider" label="Amazon Cognito Identity Provider">' in html
    assert '<option value="StartInstances">' in html  # the API search list of the chosen service
    assert "DescribeInstances" not in html
    assert "js/pickers.js" in html and "<script>" not in html  # CSP: no inline script


@pytest.mark.django_db
@pytest.mark.aws
def test_picking_an_api_fills_an_empty_input_and_never_replaces_what_was_typed(client_for, environment):
    client = client_for("operator")
    draft = flow.start(client, environment)
    response = flow.post(client, draft, "target", flow.universal(input_text=""), go="refresh")
    assert json.loads(response.context["form"].initial["input"]) == {"InstanceIds": ["<string>"]}
    typed = '{"InstanceIds": ["i-0abc"]}'
    response = flow.post(client, draft, "target", flow.universal(input_text=typed), go="refresh")
    assert response.context["form"].initial["input"] == typed
    got = client.get(flow.step_url(draft, "target"), {"skeleton": "1", "service": "sqs", "action": "sendMessage"})
    assert got.status_code == 200
    body = got.json()
    assert body["operation"] == "SendMessage"
    assert list(json.loads(body["skeleton"])) == list(input_shape("sqs", "SendMessage").required_members)
    assert client.get(flow.step_url(draft, "target"), {"skeleton": "1", "service": "ec2",
                                                       "action": "describeInstances"}).status_code == 404
    assert client.get(flow.step_url(draft, "target"), {"skeleton": "1", "service": "nope",
                                                       "action": "x"}).status_code == 404
