"""Where a person lands after submitting (issue 13): in an environment that needs no approval, on the
object's own page showing the apply's progress; where approvals are needed, on the change's page, whose
approvals are written as a person writes them ("0 of 1 approval", never "0 of 0" or "1 approval(s)")."""
import pytest
from django.urls import reverse

from changes import kinds, services
from changes.approvals import Requirement, progress_words
from changes.choices import ChangeState
from changes.models import ChangeRequest
from environments.models import Environment

pytestmark = pytest.mark.django_db


def spec(name: str, region: str) -> dict:
    return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": '{"source":["aws.s3"]}'},
            "Targets": [{"Id": "T1", "Arn": f"arn:aws:sqs:{region}:123456789012:q"}], "Tags": []}


def draft(user, environment, name: str) -> ChangeRequest:
    rule_spec = spec(name, environment.region)
    return services.change_request_draft_create(
        kind="rule", action="create", environment=environment, author=user, spec=rule_spec,
        wizard=kinds.handler_for("rule").wizard_from_spec(rule_spec, environment=environment))


def test_create_in_sandbox_lands_on_the_rule_page_with_the_apply_under_way(users, environment, client_for):
    change = draft(users["operator"], environment, "landing")
    client = client_for("operator")
    response = client.post(reverse("rules:draft_step", args=[change.pk, "review"]), {"_go": "submit"})
    change.refresh_from_db()
    assert change.state == ChangeState.APPROVED  # no worker runs in this test: it waits for one
    assert response.status_code == 302
    assert response["Location"] == f"{change.rule.get_absolute_url()}?change={change.pk}"

    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="apply-progress"' in page and f"change #{change.pk}</a> (create) waits for a worker" in page
    assert "of 1 approval" not in page and "0 of 0" not in page

    # a change number that is not this rule's, or not a number, shows the page without it (never a 500)
    for junk in ("abc", "99999999", "9" * 40, "-1"):
        other = client.get(f"{change.rule.get_absolute_url()}?change={junk}")
        assert other.status_code == 200 and other.context["progress"].pk == change.pk  # the open one still shows

    # once applied, the same page says so, with the change it followed
    from changes.apply import change_request_apply

    change_request_apply(change.pk)
    page = client.get(response["Location"]).content.decode()
    assert f'<strong>Applied</strong>: <a href="/reviews/{change.pk}/">change #{change.pk}</a> (create) is in AWS' in page


def test_create_in_production_lands_on_the_change_waiting_for_review(users, production, client_for):
    change = draft(users["operator"], production, "landing")
    client = client_for("operator")
    response = client.post(reverse("rules:draft_step", args=[change.pk, "review"]), {"_go": "submit"})
    assert response["Location"] == change.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert '<span data-testid="approval-progress">0 of 1 approval</span>' in page
    assert "approvals needed before it is applied: 0 of 1 approval." in page


def test_a_sandbox_change_page_never_counts_approvals(users, environment, client_for):
    change = draft(users["operator"], environment, "quiet")
    services.change_request_submit(change, actor=users["operator"])
    page = client_for("reviewer").get(change.get_absolute_url()).content.decode()
    assert '<span data-testid="approval-progress">Sandbox needs no approval</span>' in page
    assert "0 of 0" not in page and "of 1 approval" not in page


def test_approvals_in_words():
    sandbox, production = Environment(name="Sandbox"), Environment(name="Production")
    assert progress_words([Requirement(sandbox, 0, "")]) == "Sandbox needs no approval"
    assert progress_words([Requirement(production, 1, "")]) == "0 of 1 approval"
    assert progress_words([Requirement(production, 2, "", approved_by=["a"])]) == "1 of 2 approvals"
    assert progress_words([Requirement(production, 1, "", approved_by=["a", "b"])]) == "1 of 1 approval"
    assert progress_words([Requirement(sandbox, 0, ""), Requirement(production, 1, "targets reach Production")]) \
        == "Production 0 of 1 approval"
    assert progress_words([Requirement(sandbox, 1, "", approved_by=["a"]),
                           Requirement(production, 2, "targets reach Production")]) \
        == "Sandbox 1 of 1 approval, Production 0 of 2 approvals"
