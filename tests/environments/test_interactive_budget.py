"""A hung AWS endpoint costs a form page its interactive budget, not minutes, and the ARN can be typed.

The environment points at our fault proxy, which holds every request for 30 s before passing it to
moto. Before the interactive budget, each listing of the targets step waited 5 attempts x 30 s.
"""
import pytest
from django.core.cache import cache

from environments import aws
from environments.models import Environment
from tests.rules import flow as rule_flow
from tests.schedules import flow as schedule_flow
from tests.support.faultproxy import FaultProxy

pytestmark = [pytest.mark.django_db, pytest.mark.aws, pytest.mark.timeout(120)]

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing"


def warm_clients(environment) -> None:
    """The clients exist before the page is asked for (as after a worker's first page): loading a
    service's model takes part of a second on a busy machine, and would be counted in the 1 s budget."""
    for service in ("events", "scheduler", "lambda", "sns", "sqs", "iam", "kinesis", "codebuild", "firehose",
                    "codepipeline", "sagemaker", "inspector", "logs", "ssm", "batch", "redshift", "appsync"):
        aws.client(environment, service, interactive=True)


def answering(proxy, settings, answers: bool, environment) -> None:
    """The endpoint answers at once (and a cold emulator gets time), or hangs (and the budget is 1 s)."""
    proxy.delay = 0 if answers else 30
    settings.AWS_INTERACTIVE_BUDGET_SECONDS = 20 if answers else 1
    aws.clear_cache()  # the interactive clients' timeouts follow the budget
    warm_clients(environment)
    if not answers:
        cache.clear()  # as when the listings' 30 s cache has run out


@pytest.fixture
def hung(aws_url, settings):
    settings.AWS_INTERACTIVE_BUDGET_SECONDS = 1
    proxy = FaultProxy(aws_url).start()
    proxy.delay = 30
    environment = Environment.objects.create(name="Hung", region="us-east-1", endpoint_url=proxy.url,
                                             account_id="123456789012")
    warm_clients(environment)
    yield environment, proxy
    proxy.stop()


def test_rule_targets_step_says_what_could_not_be_listed_and_takes_a_typed_arn(client_for, hung, settings):
    environment, proxy = hung
    client = client_for("operator")
    draft = rule_flow.start(client, environment)
    page = rule_flow.post(client, draft, "detail", rule_flow.detail(environment))
    assert page.status_code == 200  # the name could not be checked in AWS: the step says so and stays
    assert page.context["form"].non_field_errors() == [
        "Could not check the name in AWS: AWS did not answer within 1 s (this page's time budget for AWS calls). "
        "Try again."]
    assert "Event buses could not be listed: AWS did not answer within 1 s" in page.content.decode()
    assert proxy.requests == 1  # ListEventBuses, then the budget was spent: DescribeRule was not even sent

    answering(proxy, settings, True, environment)  # the endpoint answers again while the name is checked and the pattern built ...
    assert rule_flow.post(client, draft, "detail", rule_flow.detail(environment)).status_code == 302
    response = rule_flow.post(client, draft, "pattern", rule_flow.worked_example_pattern_form())
    assert response.status_code == 302 and response["Location"].endswith("/targets/")

    answering(proxy, settings, False, environment)  # ... and hangs again on the targets step
    before = proxy.requests
    page = client.get(rule_flow.step_url(draft, "targets"))
    assert page.status_code == 200
    body = page.content.decode()
    assert ("Lambda functions could not be listed: AWS did not answer within 1 s (this page&#x27;s time budget "
            "for AWS calls); type the ARN instead.") in body
    assert proxy.requests - before == 1  # one listing tried; the others were not even started

    response = rule_flow.post(client, draft, "targets", rule_flow.targets(rule_flow.target(0, "", arn=LAMBDA)))
    assert response.status_code == 302 and response["Location"].endswith("/tags/"), response.content[:3000]


def test_schedule_target_step_falls_back_to_the_typed_arn(client_for, hung, settings):
    environment, proxy = hung
    client = client_for("operator")
    draft = schedule_flow.start(client, environment)
    answering(proxy, settings, True, environment)
    response = schedule_flow.post(client, draft, "detail", schedule_flow.detail(environment))
    assert response.status_code == 302 and response["Location"].endswith("/target/"), response.context["form"].errors
    answering(proxy, settings, False, environment)
    page = client.get(schedule_flow.step_url(draft, "target"))
    assert page.status_code == 200
    assert "could not be listed: AWS did not answer within 1 s" in page.content.decode()
    data = schedule_flow.templated("lambda", "")
    data["target-resource_arn"] = LAMBDA
    response = schedule_flow.post(client, draft, "target", data)
    assert response.status_code == 302 and response["Location"].endswith("/settings/"), response.content[:3000]



def test_an_interactive_client_timing_out_is_the_budget_spent_in_the_same_words(settings):
    """The interactive clients' connect and read timeouts equal the budget, so on a busy machine botocore's
    own timeout may fire before the page stops waiting. The person reads the same words either way."""
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    settings.AWS_INTERACTIVE_BUDGET_SECONDS = 1
    for error in (ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), ConnectTimeoutError(endpoint_url="http://127.0.0.1:9")):
        def call(error=error):
            raise error
        with pytest.raises(aws.BudgetSpent, match=r"AWS did not answer within 1 s \(this page's time budget"):
            aws.within_budget(call)
