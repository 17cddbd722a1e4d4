"""Review rules enforced on the server: nobody approves their own change, one approval counts once,
two reviewers approving at the same moment apply once, and people are told by email."""
import threading
import time

import pytest
from django.core import mail
from django.db import close_old_connections, connection
from django.urls import reverse

from accounts.roles import REVIEWERS
from accounts.services import user_create
from audit.models import AuditEvent
from changes import services
from changes.choices import ChangeState as S, ReviewDecision
from changes.models import ChangeRequest
from changes.services import NotAllowed
from changes.states import IllegalTransition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SPEC = {"Rule": {"Name": "r", "EventBusName": "default", "State": "ENABLED", "EventPattern": '{"source":["x"]}'},
        "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}], "Tags": []}


@pytest.fixture
def submitted(users, production):
    users["operator"].email = "operator@example.com"
    users["operator"].save()
    users["reviewer"].email = "reviewer@example.com"
    users["reviewer"].save()
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=SPEC)
    services.change_request_submit(change, actor=users["operator"])
    assert change.state == S.SUBMITTED
    return change


def test_reviewers_are_told_of_a_submission_and_the_author_of_the_decision(users, production,
                                                                          django_capture_on_commit_callbacks):
    for name in ("operator", "reviewer", "viewer", "admin"):
        users[name].email = f"{name}@example.com"
        users[name].save()
    second = user_create(username="reviewer2", password=PASSWORD, roles=[REVIEWERS], email="reviewer2@example.com")
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=SPEC)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request_submit(change, actor=users["operator"])
    # every user who may review (Reviewers and Admins), never the author, never a viewer
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.com", "reviewer2@example.com",
                                                    "reviewer@example.com"]
    assert all(len(m.to) == 1 and "Review requested" in m.subject for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request_approve(change, reviewer=second)
    assert [m.to for m in mail.outbox] == [["operator@example.com"]]
    assert "approved" in mail.outbox[0].subject


def test_submission_mails_every_reviewer_but_the_author(users, production, django_capture_on_commit_callbacks):
    users["reviewer"].email = "reviewer@example.com"
    users["reviewer"].save()
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=SPEC)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_request_submit(change, actor=users["operator"])
    assert [m.to for m in mail.outbox] == [["reviewer@example.com"]]
    assert "Review requested" in mail.outbox[0].subject and f"/reviews/{change.pk}/" in mail.outbox[0].body


def test_the_author_can_never_approve_their_own_change(submitted, users):
    admin = users["admin"]  # admins may review, but not their own changes
    change = services.change_request_draft_create(kind="rule", action="create", environment=submitted.environment,
                                                  author=admin, spec={**SPEC, "Rule": {**SPEC["Rule"], "Name": "r2"}})
    services.change_request_submit(change, actor=admin)
    with pytest.raises(NotAllowed, match="your own change"):
        services.change_request_approve(change, reviewer=admin)
    change.refresh_from_db()
    assert change.state == S.SUBMITTED and not change.reviews.exists()


def test_operators_and_viewers_cannot_approve(submitted, users):
    for name in ("viewer", "operator"):
        with pytest.raises(NotAllowed):
            services.change_request_approve(submitted, reviewer=users[name])
    submitted.refresh_from_db()
    assert submitted.state == S.SUBMITTED


def test_one_persons_approval_counts_once(submitted, users):
    submitted.environment.approvals_required = 2
    submitted.environment.save()
    services.change_request_approve(submitted, reviewer=users["reviewer"])
    with pytest.raises(NotAllowed, match="counts once"):
        services.change_request_approve(submitted, reviewer=users["reviewer"])
    submitted.refresh_from_db()
    assert submitted.state == S.SUBMITTED
    assert submitted.reviews.filter(decision=ReviewDecision.APPROVE).count() == 1
    services.change_request_approve(submitted, reviewer=users["admin"])
    submitted.refresh_from_db()
    assert submitted.state == S.APPROVED


def test_reject_needs_a_reason_and_removes_the_unapplied_rule(submitted, users):
    with pytest.raises(ValueError, match="why"):
        services.change_request_reject(submitted, reviewer=users["reviewer"], reason=" ")
    rule_id = submitted.rule_id
    services.change_request_reject(submitted, reviewer=users["reviewer"], reason="Wrong bucket")
    submitted.refresh_from_db()
    assert submitted.state == S.REJECTED and submitted.rule_id is None
    from rules.models import Rule

    assert not Rule.objects.filter(pk=rule_id).exists()
    with pytest.raises(IllegalTransition):
        services.change_request_approve(submitted, reviewer=users["admin"])


def test_only_the_author_withdraws(submitted, users):
    with pytest.raises(NotAllowed):
        services.change_request_withdraw(submitted, actor=users["reviewer"])
    services.change_request_withdraw(submitted, actor=users["operator"])
    assert submitted.state == S.WITHDRAWN


@pytest.mark.worker
@pytest.mark.aws
def test_two_reviewers_approving_at_the_same_moment_apply_once(users, production, celery_worker):
    """Two threads, each with its own database connection (PostgreSQL in CI: real row locks), approve at
    the same moment; a real worker applies. Exactly one approval wins, and the change is applied once."""
    second = user_create(username="reviewer2", password=PASSWORD, roles=["Reviewers"])
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=SPEC)
    services.change_request_submit(change, actor=users["operator"])
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(reviewer):
        try:
            barrier.wait()
            services.change_request_approve(ChangeRequest.objects.get(pk=change.pk), reviewer=reviewer)
            outcomes.append("approved")
        except (NotAllowed, IllegalTransition) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=approve, args=(r,)) for r in (users["reviewer"], second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["IllegalTransition", "approved"]  # the second found it already approved
    deadline = time.monotonic() + 30
    while ChangeRequest.objects.get(pk=change.pk).state != S.APPLIED:
        assert time.monotonic() < deadline, celery_worker.log()
        time.sleep(0.2)
    change.refresh_from_db()
    assert change.apply_attempts.count() == 1 and change.attempts == 1
    assert AuditEvent.objects.filter(related_id=str(change.pk), action="change.approved").count() == 1


def test_a_reviewer_rejecting_after_approving_from_a_stale_tab_is_refused(users, production, client_for):
    """Two approvals needed: the reviewer approved (1 of 2), then presses Reject in an older tab."""
    production.approvals_required = 2
    production.save()
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=SPEC)
    services.change_request_submit(change, actor=users["operator"])
    services.change_request_approve(change, reviewer=users["reviewer"])
    response = client_for("reviewer").post(reverse("changes:change_action", args=[change.pk, "reject"]),
                                           {"reason": "changed my mind"}, follow=True)
    assert response.status_code == 200
    assert "You have already reviewed this change (you approved it)" in response.content.decode()
    change.refresh_from_db()
    assert change.state == S.SUBMITTED
    assert list(change.reviews.values_list("decision", flat=True)) == [ReviewDecision.APPROVE]
    assert not AuditEvent.objects.filter(related_id=str(change.pk), action="change.rejected").exists()
