"""The pages of batch changes: the lists' bulk actions and their confirmation page, a batch change's
page (counts, per-object list, progress), the Reviews list, Adopt / Release on an object's page, and
"Adopt it instead" in the create flow."""
import json
import re

import boto3
import pytest
from django.urls import reverse

from changes.batch import batch_create
from changes.choices import ChangeAction, ChangeState as S, ItemState, SyncStatus
from changes.models import ChangeRequest
from environments.models import Environment
from rules.models import Rule
from schedules.models import Schedule
from tests.changes.test_batch import discovered, expected_spec
from tests.rules import flow

pytestmark = [pytest.mark.aws, pytest.mark.django_db]


@pytest.fixture
def moto_events(aws_url):
    return boto3.client("events", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.fixture
def found(environment, moto_events):
    """Four rules discovery found: two plain, one an AWS service's, one a CloudFormation stack's."""
    for name in ("alpha", "beta", "svc", "stacked"):
        moto_events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.s3"]}))
    return {"alpha": discovered(environment, "alpha"), "beta": discovered(environment, "beta"),
            "svc": discovered(environment, "svc", owner_service="events.amazonaws.com"),
            "stacked": discovered(environment, "stacked", stack_name="orders-stack")}


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_list_offers_the_bulk_actions_on_the_checked_rows_or_all_matching(client_for, found):
    response = client_for("operator").get(reverse("rules:rule_list"), {"q": "a"})
    html = response.content.decode()
    assert '<form id="batch-form" method="get" action="/rules/batch/adopt/"' in html
    for label in ("Adopt", "Release", "Re-apply desired", "Accept what AWS has"):
        assert f">{label}</button>" in html
    assert '<input type="hidden" name="q" value="a">' in html  # the filter goes along
    assert "or all 3 matching the filter" in text(response)  # alpha, beta, stacked
    assert 'id="batch-form"' not in client_for("viewer").get(reverse("rules:rule_list")).content.decode()


def test_adopt_everything_a_filter_shows_with_the_cloudformation_confirmation(client_for, users, environment, found):
    operator = client_for("operator")
    url = reverse("rules:rule_batch", args=["adopt"])
    page = operator.get(url, {"scope": "all", "environment": environment.pk})
    assert page.status_code == 200
    words = text(page)
    assert "Adopt rules" in words and "No AWS call is made" in words
    assert "2 + 1 once you confirm the CloudFormation drift" in words
    assert "1 rule: owned by an AWS service (read-only)" in words
    assert "Edits here will drift the stack orders-stack" in words

    response = operator.post(url, {"scope": "all", "environment": environment.pk, "confirm_stacks": "1"})
    change = ChangeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == change.get_absolute_url()
    assert change.action == ChangeAction.ADOPT and change.object_name == "3 rules"
    assert sorted(change.items.values_list("object_name", flat=True)) == [
        "default/alpha", "default/beta", "default/stacked"]
    assert change.state == S.APPROVED  # the Sandbox needs no approval

    detail = operator.get(change.get_absolute_url())
    words = text(detail)
    assert "Adopt 3 rules" in words
    assert "3 rules to adopt" in words and "Left out when it was submitted: 1 owned by an AWS service" in words
    assert "the author confirmed that edits here will drift the stack" in words
    assert detail.content.decode().count('<details class="list-group-item" data-item-state="pending">') == 3
    assert reverse("changes:change_progress", args=[change.pk]) in detail.content.decode()
    progress = operator.get(reverse("changes:change_progress", args=[change.pk]), HTTP_HX_REQUEST="true")
    assert "0 of 3 done (0%)" in text(progress) and "HX-Refresh" not in progress.headers

    reviews = text(operator.get(reverse("changes:review_list")))
    assert f"Adopt (in bulk) #{change.pk} 3 rules Sandbox" in reviews

    # a viewer may not use the bulk actions
    assert client_for("viewer").get(url, {"pk": found["alpha"].pk}).status_code == 403


def test_nothing_eligible_is_said_and_nothing_is_created(client_for, found):
    operator = client_for("operator")
    url = reverse("rules:rule_batch", args=["adopt"])
    words = text(operator.get(url, {"pk": found["svc"].pk}))
    assert "Nothing in this selection can be taken." in words
    response = operator.post(url, {"pk": found["svc"].pk}, follow=True)
    assert "Nothing to adopt: 1 rule: owned by an AWS service (read-only)." in text(response)
    assert not ChangeRequest.objects.exists()
    assert "Nothing selected" in text(operator.get(url))
    assert operator.get(reverse("rules:rule_batch", args=["explode"])).status_code == 404


def test_a_finished_batch_shows_results_and_its_progress_asks_for_a_reload(client_for, users, environment, found):
    from changes.apply import change_request_apply

    change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=users["operator"],
                          objects=[found["alpha"], found["beta"]])
    change_request_apply(change.pk)
    operator = client_for("operator")
    words = text(operator.get(change.get_absolute_url()))
    assert "2 applied, 0 failed, 0 skipped" in words and "Adopted as version 1" in words
    failed_only = operator.get(change.get_absolute_url(), {"items": ItemState.FAILED})
    assert "No object in this state." in text(failed_only)
    progress = operator.get(reverse("changes:change_progress", args=[change.pk]), HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true" and "2 of 2 done (100%)" in text(progress)


def test_the_items_are_listed_100_a_page(client_for, users, environment):
    Schedule.objects.bulk_create([Schedule(environment=environment, name=f"s{i:03}", sync_status=SyncStatus.UNMANAGED,
                                           live_spec={"Name": f"s{i:03}", "GroupName": "default",
                                                      "ScheduleExpression": "rate(1 hour)",
                                                      "FlexibleTimeWindow": {"Mode": "OFF"},
                                                      "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                                                                 "RoleArn": "arn:aws:iam::123456789012:role/r"}})
                                  for i in range(201)])
    change = batch_create(kind="schedule", action=ChangeAction.ADOPT, environment=environment,
                          author=users["operator"], objects=Schedule.objects.all())
    assert change.object_name == "201 schedules"
    operator = client_for("operator")
    first, last = operator.get(change.get_absolute_url()), operator.get(change.get_absolute_url(), {"page": 3})
    assert first.content.decode().count('data-item-state="pending"') == 100
    assert "Page 1 of 3" in text(first)
    assert last.content.decode().count('data-item-state="pending"') == 1 and "default/s200" in text(last)


def test_adopt_it_instead_is_offered_when_the_name_exists_unmanaged(client_for, environment, found):
    operator = client_for("operator")
    draft = flow.start(operator, environment)
    response = flow.post(operator, draft, "detail", flow.detail(environment, name="alpha"))
    [error] = list(response.context["form"].errors["name"])
    link = reverse("rules:rule_batch", args=["adopt"]) + f"?pk={found['alpha'].pk}"
    assert error == ("A rule named alpha already exists on bus default in AWS (not managed here). "
                     f'<a href="{link}" data-testid="adopt-instead">Adopt it instead</a>.')
    assert f'<a href="{link}" data-testid="adopt-instead">Adopt it instead</a>' in response.content.decode()
    # following it: the confirmation page for that one rule
    assert "Adopt rules" in text(operator.get(link)) and "1" in text(operator.get(link))
    # once managed, the name is taken "here"
    Rule.objects.filter(pk=found["alpha"].pk).update(sync_status=SyncStatus.IN_SYNC,
                                                     desired_spec=expected_spec("alpha"), version=1)
    response = flow.post(operator, draft, "detail", flow.detail(environment, name="alpha"))
    assert list(response.context["form"].errors["name"]) == [
        "A rule named alpha already exists on bus default (managed here)."]


def test_selection_spanning_environments_makes_one_change_per_environment(client_for, users, environment, aws_url):
    other = Environment.objects.create(name="Zeta", region="us-east-1", endpoint_url=aws_url,
                                       account_id="123456789012", approvals_required=1)
    spec = {"Rule": {"Name": "x", "EventBusName": "default", "EventPattern": '{"source":["a"]}', "State": "ENABLED"},
            "Targets": [], "Tags": []}
    for env in (environment, other):
        Rule.objects.create(environment=env, name="x", sync_status=SyncStatus.UNMANAGED, live_spec=spec)
    operator = client_for("operator")
    url = reverse("rules:rule_batch", args=["adopt"])
    response = operator.post(url, {"scope": "all"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("changes:review_list"))
    states = dict(ChangeRequest.objects.values_list("environment__name", "state"))
    assert states == {"Sandbox": S.APPROVED, "Zeta": S.SUBMITTED}


def test_the_object_page_offers_adopt_or_release(found):
    from django.template.loader import render_to_string

    from rules.views import RulePages

    urls = RulePages().url_names()

    def actions(obj, can_submit=True):
        html = render_to_string("changes/_adoption_actions.html", {"object": obj, "urls": urls,
                                                                    "can_submit": can_submit})
        return re.sub(r"\s+", " ", html).strip()

    adopt = reverse("rules:rule_batch", args=["adopt"])
    assert actions(found["alpha"]) == f'<a class="btn btn-primary" href="{adopt}?pk={found["alpha"].pk}" data-testid="adopt">Adopt</a>'
    assert f'{adopt}?pk={found["stacked"].pk}" data-testid="adopt">Adopt…</a>' in actions(found["stacked"])
    assert actions(found["svc"]) == ""  # an AWS service's rule: read-only, never adopted
    assert actions(found["alpha"], can_submit=False) == ""
    Rule.objects.filter(pk=found["beta"].pk).update(sync_status=SyncStatus.IN_SYNC, desired_spec=expected_spec("beta"))
    found["beta"].refresh_from_db()
    release = reverse("rules:rule_batch", args=["release"])
    assert actions(found["beta"]) == (f'<a class="btn btn-outline-secondary" href="{release}?pk={found["beta"].pk}" '
                                      'data-testid="release">Release</a>')
