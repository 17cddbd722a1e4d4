"""Demo environments and demo AWS resources for local mode (the two worked examples need them).

Everything here is idempotent: each resource is looked up first and created only when missing,
and the report says which. It only ever runs against an emulator endpoint.
"""
from __future__ import annotations

import io
import json
import zipfile

from botocore.exceptions import ClientError
from django.conf import settings

from . import aws
from .models import Environment

CREATED, EXISTS = "created", "exists"

# Apps above this one add demo pieces of their own (e.g. the tail app's rule with an SQS target): each is a
# callable(environment) -> {resource: CREATED | EXISTS}, idempotent too, run by demo_extras_seed.
_extra_seeds: list = []


def seed_register(seed) -> None:
    if seed not in _extra_seeds:
        _extra_seeds.append(seed)

DEMO_ENVIRONMENTS = [
    {"name": "Sandbox", "region": "us-east-1", "is_production": False, "approvals_required": 0,
     "description": "Local emulator, us-east-1. Changes apply at once."},
    {"name": "Production", "region": "eu-west-1", "is_production": True, "approvals_required": 1,
     "description": "Local emulator, eu-west-1, treated as production: every change needs one approval."},
]
EMULATOR_ACCOUNT = "123456789012"  # moto's default account

LAMBDA_NAME = "Do_nothing"
TOPIC_NAME = "Topic1"
BUCKET_NAME = "processing-bucket-1"
DLQ_NAME = "eventconsole-dlq"
SUBSCRIBER_QUEUE_NAME = "Topic1-subscriber"
INSTANCE_NAME = "batch-server"
LINUX_IMAGE_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
SCHEDULER_ROLE = "EventBridge_EC2_Startinstance_Role"
EVENTS_ROLE = "EventBridge_Invoke_Targets_Role"
LAMBDA_ROLE = "Do_nothing_execution_role"

LAMBDA_SOURCE = '''def handler(event, context):
    """Does nothing: the target of the worked-example rule."""
    return {"ok": True}
'''


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def demo_environments_seed(*, endpoint_url: str | None = None) -> dict[str, str]:
    """Create the Sandbox and Production environments on the local emulator (if missing)."""
    endpoint_url = endpoint_url or settings.LOCAL_AWS_ENDPOINT_URL
    report = {}
    for spec in DEMO_ENVIRONMENTS:
        _, created = Environment.objects.get_or_create(
            name=spec["name"], defaults={**spec, "endpoint_url": endpoint_url, "account_id": EMULATOR_ACCOUNT})
        report[f"environment {spec['name']}"] = CREATED if created else EXISTS
    return report


def lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lambda_function.py", LAMBDA_SOURCE)
    return buffer.getvalue()


def _role(iam, name: str, service: str, actions: list[str]) -> tuple[str, str]:
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"], EXISTS
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(service),
                          Description="Created by EventConsole's demo seed")["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    return arn, CREATED


def queue_seed(sqs, name: str) -> tuple[str, str, str]:
    """The SQS queue `name`, created when missing: (URL, ARN, created or already there)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        state = EXISTS
    except ClientError as exc:
        if "NonExistentQueue" not in exc.response["Error"]["Code"]:
            raise
        url, state = sqs.create_queue(QueueName=name)["QueueUrl"], CREATED
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, state


def demo_resources_seed(environment: Environment) -> dict[str, str]:
    """Create the worked examples' resources in `environment` (an emulator) when missing."""
    if not environment.is_emulated:
        raise ValueError(f"{environment} is real AWS: demo resources are only created on an emulator.")
    client = lambda service: aws.client(environment, service)  # noqa: E731
    iam, lam, sns, sqs, s3, ec2 = (client(s) for s in ("iam", "lambda", "sns", "sqs", "s3", "ec2"))
    report: dict[str, str] = {}

    _, report[f"iam role {SCHEDULER_ROLE}"] = _role(
        iam, SCHEDULER_ROLE, "scheduler.amazonaws.com", ["ec2:StartInstances", "ec2:StopInstances"])
    _, report[f"iam role {EVENTS_ROLE}"] = _role(
        iam, EVENTS_ROLE, "events.amazonaws.com", ["lambda:InvokeFunction", "sns:Publish", "sqs:SendMessage"])
    lambda_role, report[f"iam role {LAMBDA_ROLE}"] = _role(iam, LAMBDA_ROLE, "lambda.amazonaws.com", ["logs:*"])

    try:
        lam.get_function(FunctionName=LAMBDA_NAME)
        report[f"lambda {LAMBDA_NAME}"] = EXISTS
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        lam.create_function(FunctionName=LAMBDA_NAME, Runtime="python3.12", Role=lambda_role,
                            Handler="lambda_function.handler", Code={"ZipFile": lambda_zip()},
                            Description="Does nothing (EventConsole demo)")
        report[f"lambda {LAMBDA_NAME}"] = CREATED

    topics = {t["TopicArn"].rsplit(":", 1)[-1]: t["TopicArn"] for t in sns.list_topics().get("Topics", [])}
    report[f"sns topic {TOPIC_NAME}"] = EXISTS if TOPIC_NAME in topics else CREATED
    topic_arn = topics.get(TOPIC_NAME) or sns.create_topic(Name=TOPIC_NAME)["TopicArn"]

    _, _, report[f"sqs queue {DLQ_NAME}"] = queue_seed(sqs, DLQ_NAME)
    _, subscriber_arn, report[f"sqs queue {SUBSCRIBER_QUEUE_NAME}"] = queue_seed(sqs, SUBSCRIBER_QUEUE_NAME)
    subscribed = any(s["Endpoint"] == subscriber_arn for s in
                     sns.list_subscriptions_by_topic(TopicArn=topic_arn).get("Subscriptions", []))
    if not subscribed:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=subscriber_arn)
    report[f"subscription {TOPIC_NAME} -> {SUBSCRIBER_QUEUE_NAME}"] = EXISTS if subscribed else CREATED

    # S3 bucket names are global: the bucket lives in the first Region that creates it.
    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if BUCKET_NAME in buckets:
        report[f"s3 bucket {BUCKET_NAME}"] = EXISTS
    else:
        kwargs = {} if environment.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": environment.region}}
        s3.create_bucket(Bucket=BUCKET_NAME, **kwargs)
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET_NAME, NotificationConfiguration={"EventBridgeConfiguration": {}})
        report[f"s3 bucket {BUCKET_NAME}"] = CREATED

    instances = ec2.describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [INSTANCE_NAME]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    if any(r["Instances"] for r in instances["Reservations"]):
        report[f"ec2 instance {INSTANCE_NAME}"] = EXISTS
    else:
        # The latest Amazon Linux image, as AWS publishes it for everyone (an SSM public parameter): one quick
        # lookup, where DescribeImages would sift every public image (seconds on the emulator).
        image = client("ssm").get_parameter(Name=LINUX_IMAGE_PARAMETER)["Parameter"]["Value"]
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": INSTANCE_NAME}]}])
        report[f"ec2 instance {INSTANCE_NAME}"] = CREATED
    return report


def demo_extras_seed(environment: Environment) -> dict[str, str]:
    """The demo pieces apps above this one registered (seed_register), in `environment` (an emulator).

    Kept apart from demo_resources_seed, which the tests use for the worked examples' resources alone."""
    if not environment.is_emulated:
        raise ValueError(f"{environment} is real AWS: demo resources are only created on an emulator.")
    report: dict[str, str] = {}
    for seed in list(_extra_seeds):
        report.update(seed(environment))
    return report
