"""The rule's page says whether each target can receive its events, and offers the fix (Operators only).

moto stores the policies but does not deliver events; what the page says comes from the policies
read back from moto over HTTP.
"""
import json

import pytest
from django.urls import reverse

from changes import apply, services
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

    # The one click opens a change request re-applying the desired spec; its plan puts the statement back.
    current = applied.changes.filter(state=ChangeState.APPLIED).latest("applied_at")
    response = client_for("operator").post(reverse("changes:change_action", args=[current.pk, "restore"]))
    assert response.status_code == 302
    draft = ChangeRequest.objects.filter(rule=applied, state=ChangeState.DRAFT).get()
    assert draft.action == ChangeAction.RESTORE
    assert canonical_rule_spec(draft.spec) == applied.desired_spec
    review = client_for("operator").get(response["Location"]).content.decode()
    assert "SetTopicAttributes" in review and "Topic1" in review
    services.change_request_submit(draft, actor=users["operator"])
    apply.change_request_apply(draft.pk)
    draft.refresh_from_db()
    assert draft.state == ChangeState.APPLIED
    assert [c["operation"] for c in draft.plan] == ["SetTopicAttributes"]
    page = client_for("viewer").get(applied.get_absolute_url()).content.decode()
    assert PROBLEM not in page and "Topic1 can receive events from this rule." in page


def test_the_change_page_lists_the_permission_calls(users, environment, demo_resources, client_for):
    change = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    page = client_for("reviewer").get(change.get_absolute_url()).content.decode()
    assert "AddPermission" in page and "Allow rule process-s3-objects-with-lambda to invoke Lambda function Do_nothing" in page
    assert "SetTopicAttributes" in page and "Topic1" in page
