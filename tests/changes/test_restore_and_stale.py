"""Restore an applied version; a stale change shows the three-way difference and rebases into a new draft."""
import json

import pytest
from django.urls import reverse

from changes import apply, services
from changes.choices import ChangeAction, ChangeState as S
from changes.models import ChangeRequest
from changes.polling import objects_poll
from changes.states import IllegalTransition
from environments import aws
from rules.models import Rule
from tests.rules import flow
from tests.rules.test_apply import submit_and_apply, worked_example_spec

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def test_restore_this_version_opens_a_change_with_that_spec(client_for, users, environment, demo_resources,
                                                            apply_inline):
    first = submit_and_apply(users["operator"], environment, worked_example_spec(demo_resources))
    rule = Rule.objects.get(pk=first.rule_id)
    changed = worked_example_spec(demo_resources, Description="second version")
    submit_and_apply(users["operator"], environment, changed, action=ChangeAction.UPDATE, target=rule)
    operator = client_for("operator")
    page = operator.get(rule.get_absolute_url())
    assert page.content.decode().count("Restore this version") == 1  # only the older version
    response = operator.post(reverse("changes:change_action", args=[first.pk, "restore"]))
    draft = ChangeRequest.objects.get(action=ChangeAction.RESTORE)
    assert response["Location"] == flow.step_url(draft.pk, "review")
    assert draft.spec == first.spec and draft.base_version == 2
    review = operator.get(flow.step_url(draft.pk, "review"))
    assert [c.operation for c in review.context["plan"]] == ["PutRule"]
    operator.post(flow.step_url(draft.pk, "review"), {"_go": "submit"})
    assert "Description" not in aws.client(environment, "events").describe_rule(Name=rule.name)
    rule.refresh_from_db()
    assert rule.version == 3


def test_a_stale_change_shows_three_ways_and_rebases(client_for, users, production, db):
    events = aws.client(production, "events")
    spec = {"Rule": {"Name": "r", "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": json.dumps({"source": ["a"]})},
            "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}], "Tags": []}
    create = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=spec)
    services.change_request_submit(create, actor=users["operator"])
    services.change_request_approve(create, reviewer=users["reviewer"])
    apply.change_request_apply(create.pk)
    rule = Rule.objects.get(pk=create.rule_id)
    proposal = {**spec, "Rule": {**spec["Rule"], "Description": "proposed"}}
    update = services.change_request_draft_create(kind="rule", action="update", environment=production,
                                                  author=users["operator"], spec=proposal, target=rule)
    services.change_request_submit(update, actor=users["operator"])
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["changed-in-console"]}))  # behind our back
    objects_poll(production, "rule")
    update.refresh_from_db()
    assert update.state == S.STALE
    page = client_for("operator").get(update.get_absolute_url())
    three_way = page.context["three_way"]
    assert [d["path"] for d in three_way["since"]] == ["Rule.EventPattern.source"]
    assert [d["path"] for d in three_way["proposed"]] == ["Rule.Description"]
    response = client_for("operator").post(reverse("changes:change_action", args=[update.pk, "redraft"]))
    draft = ChangeRequest.objects.get(state=S.DRAFT)
    assert response.status_code == 302 and draft.rebased_from_id == update.pk
    assert draft.spec == proposal and draft.base_version == rule.version
    # A reviewer cannot approve the stale change any more.
    with pytest.raises(IllegalTransition, match="is stale; it cannot become approved"):
        services.change_request_approve(update, reviewer=users["reviewer"])
