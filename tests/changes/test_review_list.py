"""The Reviews list (issue 13): the row's title is the link; the columns a reviewer scans (title, object,
environment, author, age, state); filters waiting for me, mine, by environment and by state."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from changes import services
from changes.choices import ChangeState
from changes.models import ChangeRequest

pytestmark = pytest.mark.django_db


def spec(name: str) -> dict:
    return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": '{"source":["aws.s3"]}'},
            "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}], "Tags": []}


def submitted(author, environment, name: str) -> ChangeRequest:
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=author, spec=spec(name))
    services.change_request_submit(change, actor=author)
    return change


def listed(client, **params) -> list[str]:
    response = client.get(reverse("changes:review_list"), params)
    assert response.status_code == 200
    return [c.object_name for c in response.context["changes"]]


def test_the_title_is_the_link_and_the_row_reads_as_a_reviewer_scans_it(users, production, client_for):
    change = submitted(users["operator"], production, "orders")
    ChangeRequest.objects.filter(pk=change.pk).update(submitted_at=timezone.now() - timedelta(hours=2))
    response = client_for("reviewer").get(reverse("changes:review_list"))
    html = response.content.decode()
    assert (f'<a href="/reviews/{change.pk}/" data-testid="change-title">Create rule '
            f'<span class="text-secondary">#{change.pk}</span></a>') in html
    headers = [column.header for column in response.context["table"].columns]
    assert headers == ["Change", "Object", "Environment", "Author", "Age", "Approvals", "State"]
    row = html.split('data-testid="change-title"', 1)[1]
    for cell in ("<strong>default/orders</strong>", "Production", "operator", "2\xa0hours ago", "0 of 1",
                 'data-state="submitted">Submitted'):
        assert cell in row


def test_filters_waiting_for_me_mine_environment_and_state(users, environment, production, client_for):
    submitted(users["operator"], production, "prod-waiting")
    reviewed = submitted(users["operator"], production, "prod-reviewed")
    services.change_request_approve(reviewed, reviewer=users["reviewer"])  # no worker runs here: it stays Approved
    submitted(users["admin"], production, "by-admin")
    failed = submitted(users["operator"], environment, "sandbox-failed")
    ChangeRequest.objects.filter(pk=failed.pk).update(state=ChangeState.FAILED)
    withdrawn = submitted(users["operator"], production, "withdrawn")
    services.change_request_withdraw(withdrawn, actor=users["operator"])

    reviewer, operator = client_for("reviewer"), client_for("operator")
    # open changes by default, newest first
    assert listed(reviewer) == ["default/sandbox-failed", "default/by-admin", "default/prod-reviewed",
                                "default/prod-waiting"]
    assert listed(reviewer, show="all")[0] == "default/withdrawn"
    # waiting for me: submitted, not mine, not reviewed by me yet
    assert listed(reviewer, waiting="true") == ["default/by-admin", "default/prod-waiting"]
    assert listed(client_for("admin"), waiting="true") == ["default/prod-waiting"]
    assert listed(operator, waiting="true") == []  # operators review nowhere
    # mine: what I wrote (open ones unless all)
    assert listed(operator, mine="true") == ["default/sandbox-failed", "default/prod-reviewed",
                                             "default/prod-waiting"]
    assert listed(client_for("admin"), mine="true") == ["default/by-admin"]
    # by environment and by state (a state shows every change in it, open or not)
    assert listed(reviewer, environment=environment.pk) == ["default/sandbox-failed"]
    assert listed(reviewer, state="approved") == ["default/prod-reviewed"]
    assert listed(reviewer, state="withdrawn") == ["default/withdrawn"]
    assert listed(reviewer, state="failed", environment=production.pk) == []


def test_filters_that_make_no_sense_are_said_so_never_a_500(users, production, client_for):
    client = client_for("reviewer")
    for params in ({"state": "nonsense"}, {"environment": "x" * 300}, {"environment": "99999"},
                   {"show": "sideways"}, {"waiting": "maybe"}, {"sort": "nope"}, {"page": "-1"}):
        response = client.get(reverse("changes:review_list"), params)
        assert response.status_code == 200, params
    html = client.get(reverse("changes:review_list"), {"state": "nonsense"}).content.decode()
    assert "Some filters were not understood: state (Select a valid choice. nonsense is not one of the available " \
           "choices.)" in html


def test_the_environment_filter_offers_only_what_the_person_may_read(users, environment, production, client_for):
    from accounts.services import user_create, user_set_environment_roles
    from accounts.roles import VIEWERS
    from tests.conftest import PASSWORD

    scoped = user_create(username="sandbox-viewer", password=PASSWORD, roles=[])
    user_set_environment_roles(user=scoped, environment=environment, roles=[VIEWERS])
    client = client_for("viewer")
    client.force_login(scoped)
    form = client.get(reverse("changes:review_list")).context["filter"].form
    assert [label for value, label in form.fields["environment"].choices] == ["Every environment", "Sandbox"]
