"""The rule's page says whether each target can receive its events, and offers the fix (Operators only).

moto stores the policies but does not deliver events; what the page says comes from the policies
read back from moto over HTTP.
"""
import json

import pytest
from django.urls import reverse

from changes import apply
from changes.choices import ChangeAction, ChangeState
from changes.models import ChangeRequest
from changes.polling import objects_poll
from environments import aws
from rules.models import Rule
from rules.spec import canonical_rule_spec
from tests.rules.test_apply import submit_and_apply, worked_example_spec

pytestmark = [pytest.mark.django_db, pytest.mark.aws]
PROBLEM = "Topic1 cannot receive events from this rule: its policy does not allow it"


@pytest.fixture
def applied(users, environment, demo_resources):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    return Rule.objects.get(pk=change.rule_id)


def _drop_our_topic_statement(environment, topic):
    sns = aws.client(environment, "sns")
    doc = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    doc["Statement"] = [s for s in doc["Statement"] if not s["Sid"].startswith("EventConsole_")]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(doc))


def test_the_page_shows_both_targets_able_to_receive_events(applied, client_for):
    page = client_for("viewer").get(applied.get_absolute_url()).content.decode()
    assert "Do_nothing can receive events from this rule." in page
    assert "Topic1 can receive events from this rule." in page
    assert 'data-testid="cannot-receive"' not in page


def test_a_missing_statement_is_shown_with_the_fix_for_operators_only(applied, environment, demo_resources,
                                                                       client_for, users):
    _drop_our_topic_statement(environment, demo_resources["topic"])
    objects_poll(environment, "rule")
    viewer = client_for("viewer").get(applied.get_absolute_url()).content.decode()
    assert PROBLEM in viewer and 'data-testid="fix-permissions"' not in viewer
    operator = client_for("operator").get(applied.get_absolute_url()).content.decode()
    assert PROBLEM in operator and 'data-testid="fix-permissions"' in operator
    assert "data-confirm=" in operator.split('data-testid="fix-permissions"')[0].rsplit("<form", 1)[1]

    # One POST (the click, after its confirmation) creates and submits the change re-applying the desired spec:
    # the Sandbox needs no approval, so it is approved at once; its plan puts the statement back.
    response = client_for("operator").post(reverse("rules:rule_action", args=[applied.pk, "fix-permissions"]))
    assert response.status_code == 302
    change = ChangeRequest.objects.exclude(state=ChangeState.APPLIED).get(rule=applied)
    assert response["Location"] == change.get_absolute_url()
    assert change.state == ChangeState.APPROVED and change.action == ChangeAction.RESTORE
    assert change.author == users["operator"]
    assert canonical_rule_spec(change.spec) == applied.desired_spec
    assert [c["operation"] for c in change.plan] == ["SetTopicAttributes"]
    review = client_for("operator").get(response["Location"]).content.decode()
    assert "SetTopicAttributes" in review and "Topic1" in review
    # a second click does not make a second change: it leads to the one on its way
    again = client_for("operator").post(reverse("rules:rule_action", args=[applied.pk, "fix-permissions"]))
    assert again["Location"] == change.get_absolute_url()
    assert ChangeRequest.objects.exclude(state=ChangeState.APPLIED).filter(rule=applied).count() == 1
    apply.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == ChangeState.APPLIED
    # the statement is back in the topic's policy, read from AWS
    policy = json.loads(aws.client(environment, "sns").get_topic_attributes(
        TopicArn=demo_resources["topic"])["Attributes"]["Policy"])
    assert any(s["Sid"].startswith("EventConsole_") for s in policy["Statement"])
    page = client_for("viewer").get(applied.get_absolute_url()).content.decode()
    assert PROBLEM not in page and "Topic1 can receive events from this rule." in page


def test_the_fix_is_submitted_for_review_where_approval_is_needed(applied, environment, demo_resources,
                                                                   client_for, users):
    environment.approvals_required = 1
    environment.save()
    _drop_our_topic_statement(environment, demo_resources["topic"])
    objects_poll(environment, "rule")
    response = client_for("operator").post(reverse("rules:rule_action", args=[applied.pk, "fix-permissions"]))
    assert response.status_code == 302
    change = ChangeRequest.objects.exclude(state=ChangeState.APPLIED).get(rule=applied)
    assert change.state == ChangeState.SUBMITTED
    assert [c["operation"] for c in change.plan] == ["SetTopicAttributes"]
    statement = json.loads(change.plan[0]["params"]["AttributeValue"])["Statement"]
    assert any(s["Sid"].startswith("EventConsole_") for s in statement)


def test_only_operators_may_fix(applied, environment, demo_resources, client_for):
    _drop_our_topic_statement(environment, demo_resources["topic"])
    objects_poll(environment, "rule")
    for name in ("viewer", "reviewer"):
        response = client_for(name).post(reverse("rules:rule_action", args=[applied.pk, "fix-permissions"]))
        assert response.status_code == 403, name
    assert not ChangeRequest.objects.exclude(state=ChangeState.APPLIED).filter(rule=applied).exists()


def test_the_change_page_lists_the_permission_calls(users, environment, demo_resources, client_for):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    page = client_for("reviewer").get(change.get_absolute_url()).content.decode()
    assert "AddPermission" in page and "Allow rule process-s3-objects-with-lambda to invoke Lambda function Do_nothing" in page
    assert "SetTopicAttributes" in page and "Topic1" in page
