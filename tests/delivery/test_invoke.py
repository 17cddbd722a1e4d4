"""The target invoker against a moto server over HTTP: each target type moto can receive, the role
assumed, Scheduler's context attributes filled in, and AWS's errors in words."""
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from delivery.invoke import InvokeResult, target_invoke
from environments import aws

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Scheduler_Invoke_Role"
SCHEDULE_ARN = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/Nightly"
CONTEXT = {"schedule_arn": SCHEDULE_ARN, "scheduled_time": datetime(2026, 3, 1, 23, 0, tzinfo=UTC),
           "execution_id": "5c6b0a55-0d4e-4a49-9d3a-1e2b3c4d5e6f", "attempt_number": 1}
WITH_CONTEXT = ('{"schedule": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", '
                '"execution": "<aws.scheduler.execution-id>", "attempt": <aws.scheduler.attempt-number>}')
# What Scheduler puts in for the attributes above, for CONTEXT.
FILLED = {"schedule": SCHEDULE_ARN, "at": "2026-03-01T23:00:00Z", "execution": "5c6b0a55-0d4e-4a49-9d3a-1e2b3c4d5e6f",
          "attempt": 1}


def client(environment, service):
    return aws.client(environment, service)


def queue(environment, name="Inbox", **attributes):
    sqs = client(environment, "sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def received(environment, url):
    messages = client(environment, "sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                           AttributeNames=["All"]).get("Messages", [])
    return messages


def test_sqs_send_message_with_the_context_attributes_filled_in(environment):
    url, arn = queue(environment)
    result = target_invoke(environment, {"Arn": arn, "RoleArn": ROLE, "Input": WITH_CONTEXT}, None, context=CONTEXT)
    assert isinstance(result, InvokeResult)
    assert result.ok and result.api == "sqs:SendMessage" and result.error_words == ""
    assert "MessageId" in result.response
    [message] = received(environment, url)
    assert json.loads(message["Body"]) == FILLED
    json.dumps(result.as_dict())  # JSON-safe, to be stored


def test_fifo_queue_gets_the_targets_message_group(environment):
    url, arn = queue(environment, "Orders.fifo", FifoQueue="true")
    target = {"Arn": arn, "RoleArn": ROLE, "Input": "hello", "SqsParameters": {"MessageGroupId": "nightly"}}
    result = target_invoke(environment, target, None, context=CONTEXT)
    assert result.ok, result.error_words
    [message] = received(environment, url)
    assert message["Body"] == "hello" and message["Attributes"]["MessageGroupId"] == "nightly"


def test_payload_replaces_the_targets_input(environment):
    url, arn = queue(environment)
    result = target_invoke(environment, {"Arn": arn, "RoleArn": ROLE, "Input": "old"}, "new", context=CONTEXT)
    assert result.ok
    assert [m["Body"] for m in received(environment, url)] == ["new"]


def test_the_targets_role_is_assumed_for_the_call(environment):
    """The call is signed with the temporary credentials AssumeRole gave (moto's start with ASIA), not the
    environment's own keys ("testing")."""
    url, arn = queue(environment)
    keys = []

    def hook(new, env, service):
        if service == "sqs":
            new.meta.events.register("before-send", lambda request, **kw: keys.append(
                request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0]))

    aws.add_client_hook(hook)
    try:
        with_role = target_invoke(environment, {"Arn": arn, "RoleArn": ROLE, "Input": "a"}, None)
        signed_with_role = list(keys)
        keys.clear()
        without = target_invoke(environment, {"Arn": arn, "Input": "b"}, None)
    finally:
        aws.remove_client_hook(hook)
    assert with_role.ok and without.ok
    assert signed_with_role and all(key.startswith("ASIA") for key in signed_with_role)
    assert keys and all(key == "testing" for key in keys)
    assert with_role.request["role"] == ROLE


def test_sns_publish_reaches_a_subscribed_queue(environment):
    url, queue_arn = queue(environment)
    sns = client(environment, "sns")
    topic = sns.create_topic(Name="Topic1")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    result = target_invoke(environment, {"Arn": topic, "RoleArn": ROLE, "Input": "The batch ran"}, None)
    assert result.ok and result.api == "sns:Publish"
    assert [m["Body"] for m in received(environment, url)] == ["The batch ran"]


def test_event_bus_put_events_with_the_detail_type_and_source(environment):
    url, queue_arn = queue(environment)
    events = client(environment, "events")
    bus = events.create_event_bus(Name="orders")["EventBusArn"]
    events.put_rule(Name="all", EventBusName="orders", EventPattern='{"source": ["scheduler.nightly"]}')
    events.put_targets(Rule="all", EventBusName="orders", Targets=[{"Id": "q", "Arn": queue_arn}])
    target = {"Arn": bus, "RoleArn": ROLE, "Input": '{"run": "<aws.scheduler.execution-id>"}',
              "EventBridgeParameters": {"DetailType": "Nightly run", "Source": "scheduler.nightly"}}
    result = target_invoke(environment, target, None, context=CONTEXT)
    assert result.ok and result.api == "events:PutEvents", result.error_words
    assert result.response["FailedEntryCount"] == 0
    [message] = received(environment, url)
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "scheduler.nightly", "Nightly run", {"run": CONTEXT["execution_id"]})


def test_step_functions_start_execution(environment):
    sfn = client(environment, "stepfunctions")
    machine = sfn.create_state_machine(
        name="Nightly", roleArn=ROLE,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
    result = target_invoke(environment, {"Arn": machine, "RoleArn": ROLE, "Input": '{"day": 1}'}, None)
    assert result.ok and result.api == "states:StartExecution", result.error_words
    [execution] = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["executionArn"] == result.response["executionArn"]
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]) == {"day": 1}


def test_kinesis_put_record_with_the_partition_key(environment):
    kinesis = client(environment, "kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]
    target = {"Arn": stream["StreamARN"], "RoleArn": ROLE, "Input": "tick",
              "KinesisParameters": {"PartitionKey": "nightly"}}
    result = target_invoke(environment, target, None)
    assert result.ok and result.api == "kinesis:PutRecord", result.error_words
    iterator = kinesis.get_shard_iterator(StreamName="clicks", ShardId=stream["Shards"][0]["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    [record] = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert (record["Data"], record["PartitionKey"]) == (b"tick", "nightly")


def _function(environment):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", "def handler(event, context):\n    return event\n")
    iam = client(environment, "iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    return client(environment, "lambda").create_function(
        FunctionName="Do_nothing", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
        Code={"ZipFile": buffer.getvalue()})["FunctionArn"]


def test_lambda_is_invoked_asynchronously_as_scheduler_does(environment):
    """Scheduler invokes a function asynchronously: Lambda answers 202 (accepted) at once."""
    function = _function(environment)
    result = target_invoke(environment, {"Arn": function, "RoleArn": ROLE, "Input": '{"a": 1}'}, None)
    assert result.ok and result.api == "lambda:Invoke", result.error_words
    assert result.response["StatusCode"] == 202
    assert result.request["params"]["InvocationType"] == "Event"


def test_universal_ec2_start_instances_with_the_input_in_the_services_own_casing(environment):
    ec2 = client(environment, "ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[instance])
    # "instanceIds": Scheduler's Input takes member names without regard to case.
    target = {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
              "Input": json.dumps({"instanceIds": [instance]})}
    result = target_invoke(environment, target, None)
    assert result.ok and result.api == "ec2:StartInstances", result.error_words
    assert result.response["StartingInstances"][0]["InstanceId"] == instance
    state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"


def test_an_aws_error_comes_back_in_words(environment):
    target = {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "RoleArn": ROLE,
              "Input": '{"InstanceIds": ["i-0000000000000dead"]}'}
    result = target_invoke(environment, target, None)
    assert not result.ok and result.api == "ec2:StartInstances"
    assert result.error_code == "InvalidInstanceID.NotFound"
    assert "i-0000000000000dead" in result.error_words and "StartInstances" in result.error_words


def test_a_queue_that_does_not_exist(environment):
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:Gone"
    result = target_invoke(environment, {"Arn": arn, "RoleArn": ROLE, "Input": "x"}, None)
    assert not result.ok and result.error_code == "AWS.SimpleQueueService.NonExistentQueue"
    assert result.error_words.startswith("AWS returned an error for GetQueueUrl")


@pytest.mark.parametrize("target, code, words", [
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "Input": "{oops"}, "InvalidInput", "The input"),
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "Input": "[1]"}, "InvalidInput", "JSON object"),
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "Input": '{"InstanceIds": 5}'},
     "ParamValidationError", "not valid before it was sent"),
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:fooBar", "Input": "{}"}, "InvalidTarget", "no API ec2:fooBar"),
    ({"Arn": "not-an-arn"}, "InvalidTarget", "cannot invoke"),
    ({}, "InvalidTarget", "no ARN"),
])
def test_bad_targets_and_inputs_are_refused_in_words_without_an_exception(environment, target, code, words):
    result = target_invoke(environment, target, None)
    assert not result.ok and result.error_code == code
    assert words in result.error_words


def test_a_rule_target_on_another_bus_forwards_the_events_source_and_detail_type(environment):
    """An EventBridge rule's target (no EventBridgeParameters): the event itself goes on, as the rule sends it."""
    url, queue_arn = queue(environment)
    events = client(environment, "events")
    bus = events.create_event_bus(Name="audit")["EventBusArn"]
    events.put_rule(Name="all", EventBusName="audit", EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(Rule="all", EventBusName="audit", Targets=[{"Id": "q", "Arn": queue_arn}])
    event = {"source": "shop.orders", "detail-type": "Order Placed", "detail": {"orderId": "o-1"}}
    result = target_invoke(environment, {"Id": "bus", "Arn": bus, "RoleArn": ROLE}, json.dumps(event))
    assert result.ok, result.error_words
    [message] = received(environment, url)
    forwarded = json.loads(message["Body"])
    assert (forwarded["source"], forwarded["detail-type"], forwarded["detail"]) == (
        "shop.orders", "Order Placed", {"orderId": "o-1"})


@pytest.mark.parametrize("target, words", [
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances", "Input": '{"InstanceIds": ["i-0123456789abcdef0"]}'},
     "starts EC2 instance i-0123456789abcdef0"),
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:stopInstances", "Input": '{"instanceIds": ["i-1", "i-2"]}'},
     "stops EC2 instances i-1, i-2"),
    ({"Arn": "arn:aws:scheduler:::aws-sdk:rds:stopDBInstance", "Input": '{"DbInstanceIdentifier": "db1"}'},
     "calls Amazon RDS StopDBInstance"),
    ({"Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Do_nothing"},
     "invokes Lambda function Do_nothing (asynchronously)"),
    ({"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:Inbox"}, "sends a message to SQS queue Inbox"),
    ({"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/orders"}, "puts an event on event bus orders"),
    ({"Arn": "arn:aws:scheduler:::aws-sdk:ec2:fooBar"}, ""),
])
def test_what_a_target_does_in_words(target, words):
    from delivery.invoke import effect_words

    assert effect_words(target) == words
