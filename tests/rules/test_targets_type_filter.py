"""Select target(s): the Target list holds only resources of the chosen target type, also when the type is
changed after a resource was picked, and without JavaScript (Next refuses a resource of another type at the
list, in words). Resources are real ones in moto, read over HTTP."""
import pytest

from environments import aws
from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


@pytest.fixture
def function_and_topic(environment, demo_resources):
    """The worked example's Lambda function Do_nothing and SNS topic Topic1 (ARNs read back from moto)."""
    return demo_resources["lambda"], demo_resources["topic"]


def offered(response) -> set[str]:
    return {value for value, _label in response.context["form"].forms[0].fields["resource"].choices if value}


def test_changing_the_type_after_picking_a_function_lists_only_topics(operator, at_targets, function_and_topic):
    function, topic = function_and_topic
    # given: Do_nothing picked for a Lambda function target, then the type changed to SNS topic (the page
    # refreshes the step when the type changes)
    data = flow.targets(flow.target(0, function, kind="sns"))
    # when
    response = flow.post(operator, at_targets, "targets", data, go="refresh")
    # then: only the topic is offered, nothing is picked, and nothing is called an error yet
    assert response.status_code == 200
    assert offered(response) == {topic}
    form = response.context["form"].forms[0]
    assert form["resource"].value() in ("", None)
    assert form.errors == {}
    assert "Choose a target, or enter its ARN." not in response.content.decode()


def test_next_with_a_function_picked_for_a_topic_target_says_so_at_the_list(operator, at_targets,
                                                                              function_and_topic):
    function, topic = function_and_topic
    # given: without JavaScript nothing refreshes the list: the type says SNS topic, the list still had
    # Do_nothing picked
    data = flow.targets(flow.target(0, function, kind="sns"))
    # when
    response = flow.post(operator, at_targets, "targets", data)
    # then: the step is shown again with the error at the Target list, which lists only topics
    assert response.status_code == 200
    form = response.context["form"].forms[0]
    assert form.errors["resource"] == [
        "Do_nothing is a Lambda function, not an SNS topic. Choose an SNS topic (the list now shows only "
        "those), or change the target type."]
    assert offered(response) == {topic}
    assert "arn" not in form.errors  # nothing was typed in the ARN box


def test_the_same_function_for_a_lambda_target_is_accepted(operator, at_targets, function_and_topic):
    function, _topic = function_and_topic
    response = flow.post(operator, at_targets, "targets", flow.targets(flow.target(0, function, kind="lambda")))
    assert response.status_code == 302, response.context["form"].errors


def test_the_arn_form_in_the_help_text_keeps_its_placeholders(operator, at_targets, environment):
    """The help names the ARN's parts as <region> and <account>: the page shows them as text."""
    response = flow.post(operator, at_targets, "targets", flow.targets(flow.target(0, "", kind="sqs")),
                         go="refresh")
    body = response.content.decode()
    assert "ARN form: arn:aws:sqs:&lt;region&gt;:&lt;account&gt;:&lt;queue&gt;" in body


def test_a_typed_arn_of_another_type_is_still_refused_at_the_arn_box(operator, at_targets, environment):
    queue_url = aws.client(environment, "sqs").create_queue(QueueName="orders")["QueueUrl"]
    queue = aws.client(environment, "sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    response = flow.post(operator, at_targets, "targets", flow.targets(flow.target(0, "", kind="sns", arn=queue)))
    errors = response.context["form"].forms[0].errors
    assert "resource" not in errors
    assert errors["arn"][0].startswith("That is not a SNS topic ARN (it is a sqs ARN)")
