"""A change whose targets reach into another managed environment (same account and Region) needs that
environment's approvals too, from people who review there. In the fixtures Sandbox is us-east-1 and
Production eu-west-1, both in account 123456789012, with 0 and 1 approvals required."""
import pytest
from django.urls import reverse

from accounts.services import user_create, user_set_environment_roles
from audit.models import AuditEvent
from changes import services
from changes.approvals import reached_environments
from changes.choices import ChangeState as S
from changes.models import ChangeRequest
from changes.services import NotAllowed
from environments.models import Environment

pytestmark = pytest.mark.django_db

PRODUCTION_BUS = "arn:aws:events:eu-west-1:123456789012:event-bus/default"
ROLE = "arn:aws:iam::123456789012:role/EventBridge_Invoke_Targets_Role"


def forward_everything(name="to-production", target=PRODUCTION_BUS):
    """The issue's example: a Sandbox rule sending every event to the Production bus."""
    return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": '{"source":[{"prefix":""}]}'},
            "Targets": [{"Id": "T1", "Arn": target, "RoleArn": ROLE}], "Tags": []}


@pytest.fixture
def people(users, environment, production):
    def scoped(name, role, env):
        user = user_create(username=name, password="x-1-long-enough", roles=[])
        return user_set_environment_roles(user=user, environment=env, roles=[role])

    return {"sandbox_reviewer": scoped("sandbox_reviewer", "Reviewers", environment),
            "production_reviewer": scoped("production_reviewer", "Reviewers", production),
            "sandbox_operator": scoped("sandbox_operator", "Operators", environment)}


def submit(author, environment, spec):
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=author, spec=spec)
    services.change_request_submit(change, actor=author)
    return change


def test_a_sandbox_rule_forwarding_to_the_production_bus_waits_for_a_production_reviewer(
        people, environment, django_capture_on_commit_callbacks):
    from django.core import mail

    for name in ("sandbox_reviewer", "production_reviewer"):
        people[name].email = f"{name}@example.com"
        people[name].save()
    with django_capture_on_commit_callbacks(execute=True):
        change = submit(people["sandbox_operator"], environment, forward_everything())
    # Production's reviewers are asked; Sandbox's part needs nobody.
    assert [m.to for m in mail.outbox] == [["production_reviewer@example.com"]]
    # Sandbox alone applies without review; reaching Production it must wait.
    assert change.state == S.SUBMITTED
    submitted = AuditEvent.objects.filter(action="change.submitted", related_id=str(change.pk)).get()
    assert "targets reach Production (eu-west-1, 123456789012)" in submitted.message

    with pytest.raises(NotAllowed, match="Only a reviewer in Production"):
        services.change_request_approve(change, reviewer=people["sandbox_reviewer"])
    change.refresh_from_db()
    assert change.state == S.SUBMITTED and not change.reviews.exists()

    services.change_request_approve(change, reviewer=people["production_reviewer"])
    assert change.state == S.APPROVED


def test_a_sandbox_reviewers_approval_does_not_count_for_productions_part(people, environment):
    environment.approvals_required = 1
    environment.save()
    change = submit(people["sandbox_operator"], environment, forward_everything())
    services.change_request_approve(change, reviewer=people["sandbox_reviewer"])
    assert change.state == S.SUBMITTED, "Sandbox's part is done; Production's is not"
    recorded = AuditEvent.objects.filter(action="change.approved", related_id=str(change.pk)).get()
    assert "Sandbox 1 of 1" in recorded.message and "Production 0 of 1" in recorded.message
    services.change_request_approve(change, reviewer=people["production_reviewer"])
    assert change.state == S.APPROVED


def test_a_global_reviewer_counts_for_every_environment(users, people, environment):
    environment.approvals_required = 1
    environment.save()
    change = submit(people["sandbox_operator"], environment, forward_everything())
    services.change_request_approve(change, reviewer=users["reviewer"])  # Reviewers in every environment
    assert change.state == S.APPROVED


def test_the_author_still_cannot_approve_a_change_that_reaches_production(users, environment, production):
    admin = users["admin"]  # reviews everywhere, but not their own change
    change = submit(admin, environment, forward_everything())
    assert change.state == S.SUBMITTED
    with pytest.raises(NotAllowed, match="your own change"):
        services.change_request_approve(change, reviewer=admin)
    change.refresh_from_db()
    assert change.state == S.SUBMITTED


def test_targets_in_the_changes_own_environment_or_unmanaged_places_need_nothing_more(people, environment):
    own = submit(people["sandbox_operator"], environment,
                 forward_everything("own", "arn:aws:events:us-east-1:123456789012:event-bus/default"))
    elsewhere = submit(people["sandbox_operator"], environment,
                       forward_everything("elsewhere", "arn:aws:events:eu-west-1:210987654321:event-bus/default"))
    assert own.state == S.APPROVED and elsewhere.state == S.APPROVED


def test_the_review_page_says_why_and_counts_per_environment(people, environment, client):
    change = submit(people["sandbox_operator"], environment, forward_everything())
    client.force_login(people["production_reviewer"])
    # A Production reviewer finds it in the queue although it is a Sandbox change, and may open it.
    queue = client.get(reverse("changes:review_list"))
    assert change.pk in [c.pk for c in queue.context["changes"]]
    page = client.get(reverse("changes:change_detail", args=[change.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "targets reach Production (eu-west-1, 123456789012): 1 approval from a Production reviewer needed" in html
    assert page.context["can_review"] is True
    rows = {row.environment.name: (row.count, row.needed) for row, _ in page.context["requirements"]}
    assert rows == {"Sandbox": (0, 0), "Production": (0, 1)}
    response = client.post(reverse("changes:change_action", args=[change.pk, "approve"]), {"reason": "ok"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == S.APPROVED
    # Sandbox changes that do not reach Production stay out of their sight.
    plain = submit(people["sandbox_operator"], environment,
                   forward_everything("plain", "arn:aws:sqs:us-east-1:123456789012:q"))
    assert client.get(reverse("changes:change_detail", args=[plain.pk])).status_code == 403


@pytest.mark.parametrize(("arn", "reaches"), [
    (PRODUCTION_BUS, ["Production"]),
    ("arn:aws:lambda:eu-west-1:123456789012:function:Do_nothing", ["Production"]),
    ("arn:aws:sns:eu-west-1:123456789012:Topic1", ["Production"]),
    ("arn:aws:sqs:us-east-1:123456789012:q", []),  # the change's own environment
    ("arn:aws:sqs:eu-west-1:999999999999:q", []),  # an account nobody manages here
    ("arn:aws:scheduler:::aws-sdk:sqs:sendMessage", []),  # universal target: no Region, no account
    ("arn:aws:iam::123456789012:role/r", []),  # no Region: IAM is not "in" an environment
])
def test_which_arns_reach_production(environment, production, arn, reaches):
    change = ChangeRequest(kind="schedule", environment=environment,
                           spec={"Name": "s", "Target": {"Arn": arn, "RoleArn": ROLE}})
    assert [env.name for env, _ in reached_environments(change)] == reaches


def test_arns_inside_a_universal_targets_input_count_and_the_event_pattern_does_not(environment, production):
    universal = ChangeRequest(kind="schedule", environment=environment, spec={"Name": "s", "Target": {
        "Arn": "arn:aws:scheduler:::aws-sdk:sns:publish", "RoleArn": ROLE,
        "Input": '{"TopicArn": "arn:aws:sns:eu-west-1:123456789012:Topic1", "Message": "hi"}'}})
    assert [(e.name, arns) for e, arns in reached_environments(universal)] == [
        ("Production", ["arn:aws:sns:eu-west-1:123456789012:Topic1"])]
    matching_only = ChangeRequest(kind="rule", environment=environment, spec={
        "Rule": {"Name": "r", "EventPattern": '{"resources":["arn:aws:sqs:eu-west-1:123456789012:q"]}'},
        "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}]})
    assert reached_environments(matching_only) == []


def test_an_environment_without_an_account_id_is_never_reached(environment):
    Environment.objects.create(name="Unknown account", region="eu-west-1", endpoint_url=environment.endpoint_url)
    change = ChangeRequest(kind="rule", environment=environment, spec=forward_everything())
    assert reached_environments(change) == []


def test_the_flows_review_step_warns_before_submission(people, environment, production, client):
    from tests.rules import flow

    client.force_login(people["sandbox_operator"])
    draft = flow.start(client, environment)
    flow.post(client, draft, "detail", flow.detail(environment, name="to-production"))
    flow.post(client, draft, "pattern", flow.worked_example_pattern_form())
    flow.post(client, draft, "targets", flow.targets(flow.target(
        0, "", arn="arn:aws:lambda:eu-west-1:123456789012:function:Do_nothing")))
    flow.post(client, draft, "tags", flow.tags())
    review = client.get(flow.step_url(draft, "review"))
    assert review.status_code == 200, review
    html = review.content.decode()
    assert ("Targets reach Production (eu-west-1, 123456789012): 1 approval from a Production reviewer needed"
            in html)
    assert "Sandbox needs no approval itself" in html
