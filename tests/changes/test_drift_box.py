"""The drift box on an object's page (issue 13): when AWS differs from the desired spec, it offers the fixing
change request in one click ("Re-apply desired", after a confirmation), says plainly that re-applying enables
an object AWS has disabled, and the change goes through review like any change.

AWS is a moto server over HTTP; the rule is seeded with boto3, adopted, then disabled in AWS behind
EventConsole's back and polled, as the worked example's drift is."""
import json

import boto3
import pytest
from django.urls import reverse

from changes import kinds, polling
from changes.apply import change_request_apply
from changes.batch import batch_create
from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.models import ChangeItem, ChangeRequest
from rules import aws_reader
from rules.models import Rule

pytestmark = [pytest.mark.aws, pytest.mark.django_db(transaction=True)]

PATTERN = {"source": ["aws.s3"]}


def managed_rule(environment, operator, aws_url, name="orders") -> tuple[Rule, object]:
    """A rule in AWS, adopted (so EventConsole manages it, desired = what AWS had: enabled)."""
    events = boto3.client("events", region_name=environment.region, endpoint_url=aws_url,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    events.put_rule(Name=name, EventPattern=json.dumps(PATTERN), State="ENABLED")
    handler = kinds.handler_for("rule")
    live, extra = handler.split_live(aws_reader.read_rule(environment, name=name, bus="default"))
    rule = Rule(environment=environment, event_bus_name="default", name=name, sync_status=SyncStatus.UNMANAGED,
                live_spec=live, **extra)
    handler.denormalise(rule, live)
    rule.save()
    change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=operator,
                          objects=[rule])
    if change.state == ChangeState.SUBMITTED:
        return rule, events
    change_request_apply(change.pk)
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.IN_SYNC
    return rule, events


def test_a_rule_disabled_in_aws_is_enabled_again_from_the_drift_box(users, environment, aws_url, client_for):
    rule, events = managed_rule(environment, users["operator"], aws_url)
    events.disable_rule(Name="orders")
    polling.objects_poll(environment, "rule")
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.DRIFTED

    client = client_for("operator")
    html = client.get(rule.get_absolute_url()).content.decode()
    assert "AWS has this rule disabled</strong>; the desired spec has it enabled. Re-applying the desired spec " \
           "enables it again." in html
    assert "Re-apply desired (enable)" in html
    action = reverse("rules:rule_action", args=[rule.pk, "reapply"])
    assert f'action="{action}"' in html and "data-confirm=\"Create a change request that applies the desired " \
                                             "spec of orders again (this enables it in AWS)?" in html

    response = client.post(action)
    change = ChangeRequest.objects.get(action=ChangeAction.REAPPLY)
    # Sandbox needs no approval: the operator stays on the rule's page, which follows the apply
    assert response.status_code == 302 and response["Location"] == f"{rule.get_absolute_url()}?change={change.pk}"
    assert [item.object_id for item in change.items.all()] == [rule.pk]
    assert change.state == ChangeState.APPROVED
    page = client.get(response["Location"]).content.decode()
    assert "waits for a worker to apply it" in page and f"change #{change.pk}</a> (re-apply desired)" in page
    assert "Open change: " in page and f"#{change.pk} re-apply desired (approved, operator)" in page
    change_request_apply(change.pk)
    assert events.describe_rule(Name="orders")["State"] == "ENABLED"
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.IN_SYNC
    page = client.get(response["Location"]).content.decode()
    assert f"<strong>Applied</strong>: <a href=\"{change.get_absolute_url()}\">change #{change.pk}</a> " \
           "(re-apply desired) is in AWS" in page


def test_in_production_the_fix_waits_for_a_reviewer_and_viewers_are_not_offered_it(users, production, aws_url,
                                                                                   client_for):
    rule, events = managed_rule(production, users["operator"], aws_url, name="prod-orders")
    # adopting in Production waits for review too: let the reviewer approve it, then apply
    adoption = ChangeRequest.objects.get(action=ChangeAction.ADOPT)
    from changes.services import change_request_approve

    change_request_approve(adoption, reviewer=users["reviewer"])
    change_request_apply(adoption.pk)
    events.put_rule(Name="prod-orders", EventPattern=json.dumps({"source": ["other"]}), State="ENABLED")
    polling.objects_poll(production, "rule")
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.DRIFTED

    viewer_page = client_for("viewer").get(rule.get_absolute_url()).content.decode()
    assert 'data-testid="drift"' in viewer_page and 'data-testid="reapply"' not in viewer_page

    client = client_for("operator")
    page = client.get(rule.get_absolute_url()).content.decode()
    assert ">Re-apply desired</button>" in page and "A reviewer in Production approves it first." in page
    assert 'data-testid="disabled-in-aws"' not in page  # only the pattern drifted
    response = client.post(reverse("rules:rule_action", args=[rule.pk, "reapply"]))
    change = ChangeRequest.objects.get(action=ChangeAction.REAPPLY)
    assert change.state == ChangeState.SUBMITTED
    assert response["Location"] == change.get_absolute_url()  # the reviewer's decision comes first
    assert json.loads(events.describe_rule(Name="prod-orders")["EventPattern"]) == {"source": ["other"]}

    # a second click while that change is open creates nothing more, and says why
    response = client.post(reverse("rules:rule_action", args=[rule.pk, "reapply"]), follow=True)
    assert ChangeRequest.objects.filter(action=ChangeAction.REAPPLY).count() == 1
    assert "Nothing to re-apply desired: 1 rule: another change to it is open." in response.content.decode()


def test_an_object_in_sync_offers_no_fix(users, environment, aws_url, client_for):
    rule, _ = managed_rule(environment, users["operator"], aws_url, name="calm")
    page = client_for("operator").get(rule.get_absolute_url()).content.decode()
    assert 'data-testid="reapply"' not in page
    response = client_for("operator").post(reverse("rules:rule_action", args=[rule.pk, "reapply"]), follow=True)
    assert not ChangeRequest.objects.filter(action=ChangeAction.REAPPLY).exists()
    assert "Nothing to re-apply desired: 1 rule: neither drifted nor missing." in response.content.decode()


def test_a_redrives_messages_are_not_objects_on_the_rule_page(users, environment, aws_url, client_for):
    # a redrive's items are dead-letter messages numbered 1, 2, …: never open changes of the rules with those ids
    rule, _ = managed_rule(environment, users["operator"], aws_url, name="calm")
    redrive = ChangeRequest.objects.create(kind="rule", action=ChangeAction.REDRIVE, environment=environment,
                                           author=users["operator"], state=ChangeState.SUBMITTED,
                                           object_name="dead letters of calm")
    ChangeItem.objects.create(change=redrive, object_id=rule.pk, object_name="message 1")
    page = client_for("operator").get(f"{rule.get_absolute_url()}?change={redrive.pk}").content.decode()
    assert "Open change" not in page and f"#{redrive.pk} " not in page
