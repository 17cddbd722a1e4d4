"""Exactly-once apply through the real services, a real database and moto over HTTP: applies to one
rule are serialised, a change planned on an older version becomes Stale instead of overwriting,
versions only grow, a stuck change is resolved by hand, and a lost worker's change no longer hides
its rule from polling."""
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from audit.choices import AuditAction
from audit.models import AuditEvent
from changes import apply as engine, services
from changes.choices import AttemptStatus, ChangeAction, ChangeState as S, SyncStatus
from changes.models import ChangeRequest
from changes.polling import objects_poll
from changes.states import transition
from environments import aws
from rules.models import Rule
from tests.support.crash import WorkerDied, worker_dies_after

pytestmark = [pytest.mark.aws]

SPEC = {"Rule": {"Name": "contended", "EventBusName": "default", "State": "ENABLED",
                 "EventPattern": json.dumps({"source": ["aws.s3"]})},
        "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}], "Tags": []}


def described(description):
    return {**SPEC, "Rule": {**SPEC["Rule"], "Description": description}}


@pytest.fixture
def own_queue():
    """Apply tasks sent by these tests go to a queue of their own, emptied afterwards (no worker runs here)."""
    from eventconsole.celery import app

    previous, queue = app.conf.task_default_queue, f"test-unconsumed-{time.monotonic_ns()}"
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = previous
    with app.connection_for_write() as conn:
        conn.default_channel.queue_declare(queue=queue, passive=False)
        conn.default_channel.queue_purge(queue)


def submit(user, environment, spec, *, action=ChangeAction.CREATE, target=None) -> ChangeRequest:
    change = services.change_request_draft_create(kind="rule", action=action, environment=environment,
                                                  author=user, spec=spec, target=target)
    services.change_request_submit(change, actor=user)
    assert change.state == S.APPROVED
    return change


def applied_rule(user, environment) -> Rule:
    create = submit(user, environment, SPEC)
    engine.change_request_apply(create.pk)
    create.refresh_from_db()
    assert create.state == S.APPLIED, create.last_error
    return Rule.objects.get(pk=create.rule_id)


def description_in_aws(environment):
    return aws.client(environment, "events").describe_rule(Name="contended").get("Description")


@pytest.mark.django_db(transaction=True)
def test_two_applies_racing_on_one_rule_apply_one_and_make_the_other_stale(users, sandbox, proxy, own_queue):
    # given a rule at version 1 and two approved edits of it, both planned on version 1
    rule = applied_rule(users["operator"], sandbox)
    edits = {name: submit(users["operator"], sandbox, described(name), action=ChangeAction.UPDATE, target=rule)
             for name in ("first edit", "second edit")}
    assert {c.base_version for c in edits.values()} == {1}
    # when two workers apply them at the same moment, through a slow link (so the applies overlap)
    proxy.delay = 0.3
    barrier, outcomes = threading.Barrier(2), {}

    def apply(name, change_id):
        try:
            barrier.wait()
            engine.change_request_apply(change_id, task_id=name)
            outcomes[name] = "ran"
        except engine.ObjectBusy:
            outcomes[name] = "busy"
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=apply, args=(name, c.pk)) for name, c in edits.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then exactly one is applied; the other is Stale, never applied over it
    states = {name: ChangeRequest.objects.get(pk=c.pk).state for name, c in edits.items()}
    assert sorted(states.values()) == [S.APPLIED, S.STALE], (states, outcomes)
    winner = next(name for name, state in states.items() if state == S.APPLIED)
    loser = next(name for name, state in states.items() if state == S.STALE)
    assert description_in_aws(sandbox) == winner
    rule.refresh_from_db()
    assert rule.version == 2 and rule.desired_spec["Rule"]["Description"] == winner
    assert not edits[loser].apply_attempts.filter(status=AttemptStatus.SUCCEEDED).exists()
    assert AuditEvent.objects.filter(related_id=str(edits[loser].pk), action=AuditAction.STALE).count() == 1


@pytest.mark.django_db
def test_a_change_planned_on_an_older_version_becomes_stale_instead_of_overwriting(users, sandbox, proxy, settings):
    # given a rule at version 1, and an edit whose first attempt was throttled (it waits to be retried)
    rule = applied_rule(users["operator"], sandbox)
    late = submit(users["operator"], sandbox, described("late"), action=ChangeAction.UPDATE, target=rule)
    settings.AWS_RETRY_MAX_ATTEMPTS = 2  # (fewer botocore retries: a shorter wait)
    aws.clear_cache()
    proxy.throttle(settings.AWS_RETRY_MAX_ATTEMPTS)
    with pytest.raises(engine.RetryLater):
        engine.change_request_apply(late.pk, final_attempt=False)
    late.refresh_from_db()
    assert late.state == S.APPROVED and late.attempts == 1
    # when another edit is applied meanwhile (version 2)
    other = submit(users["operator"], sandbox, described("applied meanwhile"), action=ChangeAction.UPDATE,
                   target=rule)
    engine.change_request_apply(other.pk)
    # and the first one's retry comes
    engine.change_request_apply(late.pk)
    # then it becomes Stale at its claim: AWS and the desired spec keep the edit that was applied
    late.refresh_from_db()
    assert late.state == S.STALE
    assert description_in_aws(sandbox) == "applied meanwhile"
    rule.refresh_from_db()
    assert rule.version == 2 and rule.desired_spec["Rule"]["Description"] == "applied meanwhile"
    stale = AuditEvent.objects.get(related_id=str(late.pk), action=AuditAction.STALE)
    assert "planned on version 1" in stale.message and "now at version 2" in stale.message


@pytest.mark.django_db
def test_versions_only_grow_one_per_applied_change(users, sandbox):
    rule = applied_rule(users["operator"], sandbox)
    for n in range(2):
        change = submit(users["operator"], sandbox, described(f"v{n + 2}"), action=ChangeAction.UPDATE, target=rule)
        engine.change_request_apply(change.pk)
        rule.refresh_from_db()
        assert rule.version == n + 2
    assert ChangeRequest.objects.filter(rule=rule, state=S.APPLIED).count() == 3


# ---------------------------------------------------------------------------------------------
# A stuck change, resolved by hand
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def lost_worker_change(users, sandbox, settings):
    """A change whose worker died after PutRule; its lease (1 s here) has expired."""
    settings.APPLY_LEASE_SECONDS = 1
    change = submit(users["operator"], sandbox, SPEC)
    with worker_dies_after("PutRule"), pytest.raises(WorkerDied):
        engine.change_request_apply(change.pk, task_id="dead")
    change.refresh_from_db()
    deadline = time.monotonic() + 10
    while not engine.lease_expired(change):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return change


@pytest.mark.django_db
def test_a_reviewer_marks_a_lost_workers_change_failed_with_a_reason(lost_worker_change, client_for):
    change = lost_worker_change
    url = reverse("changes:change_action", args=[change.pk, "mark-failed"])
    # the page tells everyone; only reviewers and admins get the way out
    page = client_for("reviewer").get(change.get_absolute_url()).content.decode()
    assert "The worker applying this change was lost" in page and "Retry now" in page and "Mark failed" in page
    assert "Mark failed" not in client_for("operator").get(change.get_absolute_url()).content.decode()
    assert client_for("operator").post(url, {"reason": "x"}).status_code == 403
    # a reason is required
    response = client_for("reviewer").post(url, {"reason": "  "}, follow=True)
    assert "Say why the change is marked failed." in response.content.decode()
    change.refresh_from_db()
    assert change.state == S.APPLYING
    # when a reviewer marks it failed
    client_for("reviewer").post(url, {"reason": "AWS console shows it half-done; redoing by hand"})
    # then
    change.refresh_from_db()
    assert change.state == S.FAILED and change.lease_owner == "" and change.lease_expires is None
    assert change.last_error == "Marked failed by reviewer: AWS console shows it half-done; redoing by hand"
    attempt = change.apply_attempts.get()
    assert (attempt.status, attempt.error_code) == (AttemptStatus.FAILED, "MarkedFailed")
    event = AuditEvent.objects.filter(related_id=str(change.pk), action=AuditAction.APPLY_FAILED).get()
    assert event.actor_name == "reviewer" and "redoing by hand" in event.message
    assert Rule.objects.get(pk=change.rule_id).sync_status == SyncStatus.FAILED


@pytest.mark.django_db
def test_retry_now_hands_a_lost_workers_change_back_and_the_next_apply_finishes_it(lost_worker_change, client_for,
                                                                                 sandbox):
    change = lost_worker_change
    client_for("reviewer").post(reverse("changes:change_action", args=[change.pk, "retry"]))
    change.refresh_from_db()
    assert change.state == S.APPROVED and change.lease_owner == ""
    event = AuditEvent.objects.filter(related_id=str(change.pk), action=AuditAction.APPLY_FAILED).get()
    assert event.actor_name == "reviewer" and event.message.startswith("Retry now, by reviewer")
    # the task it sent (run here) re-plans against live AWS: PutRule was done, PutTargets was not
    engine.change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == S.APPLIED
    assert [c["operation"] for c in change.apply_attempts.get(number=2).calls] == ["PutTargets"]
    assert len(aws.client(sandbox, "events").list_targets_by_rule(Rule="contended")["Targets"]) == 1


@pytest.mark.django_db
def test_a_change_with_a_live_lease_is_not_stuck(users, sandbox):
    change = submit(users["operator"], sandbox, SPEC)
    transition(change, S.APPLYING, lease_owner="host:1:t", lease_expires=timezone.now() + timedelta(minutes=1))
    with pytest.raises(services.NotAllowed, match="A worker is applying this change now"):
        services.change_request_retry_now(change, actor=users["reviewer"])
    with pytest.raises(services.NotAllowed, match="A worker is applying this change now"):
        services.change_request_mark_failed(change, actor=users["reviewer"], reason="impatient")
    change.refresh_from_db()
    assert change.state == S.APPLYING and change.lease_owner == "host:1:t"


@pytest.mark.django_db
def test_an_approved_change_no_worker_took_says_so_and_can_be_sent_again(users, sandbox, client_for,
                                                                          django_capture_on_commit_callbacks):
    # given an approved change whose send failed (dispatched_at stays empty: the on-commit send never ran)
    change = submit(users["operator"], sandbox, SPEC)
    assert change.dispatched_at is None
    page = client_for("viewer").get(change.get_absolute_url()).content.decode()
    assert "Waiting for a worker." in page and "the queue could not be reached" in page
    assert "Retry now" not in page  # viewers read only
    assert "Retry now" in client_for("reviewer").get(change.get_absolute_url()).content.decode()
    # when a reviewer presses Retry now
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for("reviewer").post(reverse("changes:change_action", args=[change.pk, "retry"]))
    # then it is sent again (after the commit) and the history says who asked
    assert len(callbacks) == 1
    event = AuditEvent.objects.filter(related_id=str(change.pk), actor_name="reviewer").get()
    assert event.message == "Retry now: sent to the workers again (no worker had taken it)"
    assert ChangeRequest.objects.get(pk=change.pk).state == S.APPROVED


# ---------------------------------------------------------------------------------------------
# Polling
# ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_lost_workers_change_no_longer_hides_its_rule_from_polling(users, sandbox):
    rule = applied_rule(users["operator"], sandbox)
    edit = submit(users["operator"], sandbox, described("edit"), action=ChangeAction.UPDATE, target=rule)
    transition(edit, S.APPLYING, lease_owner="host:1:t", lease_expires=timezone.now() + timedelta(minutes=1))
    aws.client(sandbox, "events").put_rule(Name="contended", EventPattern=json.dumps({"source": ["behind-our-back"]}))
    # while the worker's lease is live, polling leaves the rule to it
    objects_poll(sandbox, "rule")
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.IN_SYNC
    # when the lease has expired (the worker is gone), polling shows the drift
    ChangeRequest.objects.filter(pk=edit.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    objects_poll(sandbox, "rule")
    rule.refresh_from_db()
    assert rule.sync_status == SyncStatus.DRIFTED
    assert [d["path"] for d in rule.drift] == ["Rule.EventPattern.source"]
    # and the change it came from is still there to be finished (not made Stale by drift it may have caused)
    assert ChangeRequest.objects.get(pk=edit.pk).state == S.APPLYING
