"""The Select target step of the schedule flow (issue 13): a templated target's list holds only resources of
that target, the All APIs "… needs" line arrives as soon as an API is picked, and the input's help before a
service is chosen says nothing of a Lambda function. Resources are real ones in moto, read over HTTP; the
required members come from botocore's own model, read here."""
import html

import botocore.session
import pytest

from tests.schedules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

EC2 = botocore.session.get_session().get_service_model("ec2")


@pytest.fixture
def draft(client_for, environment):
    client = client_for("operator")
    draft_id = flow.start(client, environment)
    flow.post(client, draft_id, "detail", flow.detail(environment))
    return client, draft_id


def offered(response) -> set[str]:
    return {value for value, _label in response.context["form"].fields["resource"].choices if value}


def test_changing_the_templated_target_lists_only_its_resources(draft, demo_resources):
    client, draft_id = draft
    # given: Do_nothing picked for AWS Lambda Invoke, then Amazon SNS Publish chosen (the step refreshes)
    response = flow.post(client, draft_id, "target", flow.templated("sns", demo_resources["lambda"]), go="refresh")
    # then: only the topic is listed; the function is not kept in the list
    assert offered(response) == {demo_resources["topic"]}
    assert demo_resources["lambda"] not in response.content.decode()


def test_next_with_a_function_picked_for_sns_publish_says_so_at_the_list(draft, demo_resources):
    client, draft_id = draft
    response = flow.post(client, draft_id, "target", flow.templated("sns", demo_resources["lambda"]))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["resource"] == ["Do_nothing is a Lambda function, not an SNS topic. Choose an SNS topic (the "
                                  "list now shows only those), or change the templated target."]
    assert "resource_arn" not in errors
    assert offered(response) == {demo_resources["topic"]}


def test_picking_an_api_answers_what_its_request_needs(draft):
    client, draft_id = draft
    required = list(EC2.operation_model("StartInstances").input_shape.required_members)
    assert required == ["InstanceIds"]  # the AWS reference: StartInstances requires InstanceIds
    # when: the picker asks the step for the line (htmx, with the service and the API picked)
    response = client.get(flow.step_url(draft_id, "target"),
                          {"members": "1", "target-service": "ec2", "target-action": "startInstances"})
    # then
    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert "StartInstances needs: <code>InstanceIds</code>." in text
    assert "Members of the StartInstances request" in text


def test_an_api_the_service_does_not_have_answers_nothing(draft):
    client, draft_id = draft
    response = client.get(flow.step_url(draft_id, "target"),
                          {"members": "1", "target-service": "ec2", "target-action": "noSuchThing"})
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_action_list_asks_for_the_needs_line_when_it_changes(draft):
    client, draft_id = draft
    response = flow.post(client, draft_id, "target", flow.universal(service="ec2", action=""), go="refresh")
    html = response.content.decode()
    assert f'hx-get="{flow.step_url(draft_id, "target")}?members=1"' in html
    assert 'hx-target="#api-members"' in html


def test_before_a_service_is_chosen_the_input_help_is_true_of_any_service(draft):
    client, draft_id = draft
    # given: All APIs chosen, no service yet
    response = flow.post(client, draft_id, "target", flow.universal(service="", action="", input_text=""),
                         go="refresh")
    form = response.context["form"]
    shown = [html.unescape(part) for part in form.fields["input"].help_text.split("</span>") if " hidden" not in part]
    # then: the help shown speaks of the API's request; the Lambda words are there only for Templated targets
    assert len(shown) == 2 and shown[1] == ""
    assert "The API's request, as JSON" in shown[0]
    assert "function" not in shown[0]
    assert 'data-show-when="target-target_api=templated" hidden>The JSON the function receives.' in \
        form.fields["input"].help_text
