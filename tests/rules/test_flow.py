"""The create-rule flow through the form views (Django test client), against a moto server over HTTP."""
import json

import pytest

from changes.choices import ChangeState, SyncStatus
from changes.models import ChangeRequest
from environments import aws
from rules.models import Rule
from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def test_worked_example_one_through_the_forms(client_for, environment, demo_resources, apply_inline):
    client = client_for("operator")
    draft = flow.start(client, environment)
    assert flow.post(client, draft, "detail", flow.detail(environment)).status_code == 302
    response = flow.post(client, draft, "pattern", flow.worked_example_pattern_form())
    assert response.status_code == 302 and response["Location"].endswith("/targets/")
    response = flow.post(client, draft, "targets", flow.targets(
        flow.target(0, demo_resources["lambda"]), flow.target(1, demo_resources["topic"], kind="sns")))
    assert response.status_code == 302 and response["Location"].endswith("/tags/"), response.content[:2000]
    assert flow.post(client, draft, "tags", flow.tags()).status_code == 302

    review = client.get(flow.step_url(draft, "review"))
    assert review.status_code == 200
    plan = [c.operation for c in review.context["plan"]]
    # Then what lets Do_nothing and Topic1 receive the rule's events.
    assert plan == ["PutRule", "PutTargets", "AddPermission", "SetTopicAttributes"]

    response = client.post(flow.step_url(draft, "review"), {"_go": "submit"})
    assert response.status_code == 302
    change = ChangeRequest.objects.get(pk=draft)
    assert change.state == ChangeState.APPLIED, change.last_error

    events = aws.client(environment, "events")
    rule = events.describe_rule(Name="process-s3-objects-with-lambda", EventBusName="default")
    assert json.loads(rule["EventPattern"]) == flow.WORKED_EXAMPLE_PATTERN
    arns = sorted(t["Arn"] for t in events.list_targets_by_rule(Rule="process-s3-objects-with-lambda")["Targets"])
    assert arns == sorted([demo_resources["lambda"], demo_resources["topic"]])
    managed = Rule.objects.get(name="process-s3-objects-with-lambda")
    assert managed.sync_status == SyncStatus.IN_SYNC and managed.version == 1 and managed.targets_count == 2
