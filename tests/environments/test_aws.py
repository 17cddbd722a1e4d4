"""The client factory and the demo seed, against a moto server process over HTTP."""
import pytest
from django.urls import reverse

from environments import aws
from environments.demo import (
    BUCKET_NAME, DLQ_NAME, EVENTS_ROLE, INSTANCE_NAME, LAMBDA_NAME, SCHEDULER_ROLE, SUBSCRIBER_QUEUE_NAME, TOPIC_NAME,
    demo_environments_seed, demo_resources_seed,
)
from environments.models import Environment
from environments.services import environment_test_connection

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def test_factory_sets_endpoint_region_and_standard_retries(environment, aws_url, settings):
    events = aws.client(environment, "events")
    assert events.meta.endpoint_url == aws_url
    assert events.meta.region_name == "us-east-1"
    assert events.meta.config.retries == {"mode": "standard", "total_max_attempts": settings.AWS_RETRY_MAX_ATTEMPTS}
    assert aws.client(environment, "events") is events  # cached: one client per environment and service
    assert events.list_event_buses()["EventBuses"][0]["Name"] == "default"


def test_factory_assumes_the_environment_role(environment):
    iam = aws.client(environment, "iam")
    role_arn = iam.create_role(RoleName="EventConsoleManager", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    environment.role_arn = role_arn
    environment.save()
    identity = aws.client(environment, "sts").get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/EventConsoleManager/EventConsole-")


def test_demo_seed_creates_the_worked_examples_resources_once(db, aws_url):
    demo_environments_seed(endpoint_url=aws_url)
    sandbox, production = Environment.objects.get(name="Sandbox"), Environment.objects.get(name="Production")
    assert (sandbox.region, sandbox.approvals_required, sandbox.is_production) == ("us-east-1", 0, False)
    assert (production.region, production.approvals_required, production.is_production) == ("eu-west-1", 1, True)

    first = {env.name: demo_resources_seed(env) for env in (sandbox, production)}
    assert set(first["Sandbox"].values()) == {"created"}
    for env in (sandbox, production):
        c = lambda service: aws.client(env, service)  # noqa: E731
        assert c("lambda").get_function(FunctionName=LAMBDA_NAME)["Configuration"]["CodeSize"] > 0
        assert any(t["TopicArn"].endswith(f":{TOPIC_NAME}") for t in c("sns").list_topics()["Topics"])
        queues = c("sqs").list_queues()["QueueUrls"]
        assert any(q.endswith(f"/{DLQ_NAME}") for q in queues) and any(q.endswith(SUBSCRIBER_QUEUE_NAME) for q in queues)
        reservations = c("ec2").describe_instances(Filters=[{"Name": "tag:Name", "Values": [INSTANCE_NAME]}])
        instances = [i for r in reservations["Reservations"] for i in r["Instances"]]
        assert len(instances) == 1 and instances[0]["State"]["Name"] == "running"
    iam = aws.client(sandbox, "iam")
    trust = iam.get_role(RoleName=SCHEDULER_ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == "scheduler.amazonaws.com"
    trust = iam.get_role(RoleName=EVENTS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == "events.amazonaws.com"
    assert BUCKET_NAME in {b["Name"] for b in aws.client(sandbox, "s3").list_buckets()["Buckets"]}

    # Seeding again creates nothing new.
    assert set(demo_environments_seed(endpoint_url=aws_url).values()) == {"exists"}
    second = {env.name: demo_resources_seed(env) for env in (sandbox, production)}
    assert {state for report in second.values() for state in report.values()} == {"exists"}
    sns = aws.client(sandbox, "sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(TOPIC_NAME))
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_demo_resources_are_never_created_on_real_aws(db):
    real = Environment.objects.create(name="Real", region="us-east-1")
    with pytest.raises(ValueError, match="real AWS"):
        demo_resources_seed(real)


def test_test_connection_shows_the_account(client_for, environment):
    response = client_for("operator").post(reverse("environments:environment_test", args=[environment.pk]),
                                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"account 123456789012" in response.content and b"connection-ok" in response.content


def test_test_connection_warns_about_another_account(environment):
    environment.account_id = "999999999999"
    result = environment_test_connection(environment)
    assert result.ok and "account 123456789012" in result.warning and "999999999999" in result.warning


def test_test_connection_reports_a_dead_endpoint_in_words(client_for, db):
    dead = Environment.objects.create(name="Dead", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    response = client_for("operator").post(reverse("environments:environment_test", args=[dead.pk]), follow=True)
    assert response.status_code == 200
    assert b"Could not connect to the AWS endpoint http://127.0.0.1:9" in response.content


def test_throttle_codes_are_the_ones_botocore_retries_as_throttling():
    """Discovery counts, and apply retries, exactly the answers botocore's standard retry mode treats as throttling."""
    from botocore.retries.standard import ThrottledRetryableChecker

    assert aws.THROTTLE_CODES == frozenset(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
