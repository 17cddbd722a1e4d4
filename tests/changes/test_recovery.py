"""Exactly-once apply, drilled with real processes: a worker killed with SIGKILL mid-apply, a warm
shutdown (SIGTERM) mid-apply, and a Redis broker killed and restarted empty.

AWS is a moto server reached over HTTP through the fault proxy, whose latency makes the kill land
while the apply is half-way. What AWS holds is read back with boto3 straight from moto.
"""
import json
import signal

import boto3
import pytest
from django.urls import reverse

from audit.choices import AuditAction
from audit.models import AuditEvent
from changes import services, worker
from changes.choices import AttemptStatus, ChangeState as S, SyncStatus
from changes.models import ChangeRequest
from rules.models import Rule
from tests.changes.drills import RedisServer, celery_broker, wait_for
from tests.support.services import CeleryWorker

pytestmark = [pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

# Short enough for a drill; the defaults (60 s lease, 20 s sweep, 120 s re-send) are for production.
FAST_RECOVERY = {"APPLY_LEASE_SECONDS": "3", "APPLY_SWEEP_SECONDS": "1", "APPLY_REDISPATCH_SECONDS": "2",
                 "POLL_INTERVAL_SECONDS": "3600", "HEARTBEAT_INTERVAL_SECONDS": "3600"}
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:{}"


def rule_spec(name, **rule):
    return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": json.dumps({"source": ["aws.s3"]}), **rule},
            "Targets": [{"Id": "Target1", "Arn": QUEUE_ARN.format("first")},
                        {"Id": "Target2", "Arn": QUEUE_ARN.format("second")}],
            "Tags": []}


@pytest.fixture
def moto_events(aws_url):
    """An EventBridge client straight to moto (no proxy, not our factory): the independent view of AWS."""
    return boto3.client("events", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")



def submit(user, environment, spec) -> ChangeRequest:
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=user, spec=spec)
    services.change_request_submit(change, actor=user)  # no approvals needed: Approved, sent on commit
    return change


def history(change) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(related_id=str(change.pk)).exclude(action=AuditAction.DRAFT_SAVED)
                .order_by("id").values_list("action", "message"))


def targets_in_aws(moto_events, name):
    return sorted((t["Id"], t["Arn"]) for t in moto_events.list_targets_by_rule(Rule=name)["Targets"])


def test_a_worker_killed_mid_apply_is_recovered_and_the_change_finished(users, sandbox, proxy, moto_events, workers):
    # given a worker applying a new rule through a slow link (each AWS call takes a second)
    proxy.delay = 1.5
    first = workers(env=FAST_RECOVERY)
    before = proxy.requests
    # (planned with one DescribeRule and one GetQueueAttributes per target queue: their policies)
    change = submit(users["operator"], sandbox, rule_spec("half-applied"))
    # The worker's calls: DescribeRule, which finds nothing, the two queues' policies (the queues do not
    # exist in moto: no policy call follows), then PutRule, then PutTargets.
    wait_for(lambda: proxy.requests >= before + 7, why=first.log)  # PutRule is on its way to AWS
    proxy.drop(1)  # PutTargets will never reach AWS (the worker is dead before it would retry)
    wait_for(lambda: AuditEvent.objects.filter(related_id=str(change.pk), action=AuditAction.API_CALL,
                                               data__operation="PutRule").exists(), why=first.log)
    # when the worker is killed (SIGKILL, pool processes too) between PutRule and PutTargets
    first.signal(signal.SIGKILL, group=True)
    first.process.wait(10)
    # then the change is left Applying and AWS half-applied: the rule enabled with no target, not recorded
    change.refresh_from_db()
    assert change.state == S.APPLYING and change.lease_owner
    assert moto_events.describe_rule(Name="half-applied")["State"] == "ENABLED"
    assert targets_in_aws(moto_events, "half-applied") == []
    rule = Rule.objects.get(pk=change.rule_id)
    assert rule.version == 0 and rule.desired_spec is None
    # when a fresh worker (with beat: the recovery sweep) comes up
    proxy.delay = 0.1
    second = workers(env=FAST_RECOVERY, beat=True)
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).state == S.APPLIED, why=second.log)
    # then AWS holds exactly the desired rule and targets, and the console knows it
    change.refresh_from_db()
    assert change.lease_owner == "" and change.lease_expires is None and change.attempts == 2
    assert targets_in_aws(moto_events, "half-applied") == [("Target1", QUEUE_ARN.format("first")),
                                                           ("Target2", QUEUE_ARN.format("second"))]
    assert [r["Name"] for r in moto_events.list_rules()["Rules"]] == ["half-applied"]
    rule.refresh_from_db()
    assert rule.version == 1 and rule.sync_status == SyncStatus.IN_SYNC
    # and each step is in the history: the lost worker, the hand-back, the re-planned attempt
    lost, again = change.apply_attempts.order_by("number")
    assert (lost.status, lost.error_code) == (AttemptStatus.FAILED, "WorkerLost")
    assert again.status == AttemptStatus.SUCCEEDED
    # re-planned against live AWS: PutRule was done, only PutTargets was still needed
    assert [c["operation"] for c in again.calls] == ["PutTargets"]
    steps = history(change)
    actions = [action for action, _ in steps]
    assert actions[:4] == [AuditAction.SUBMITTED, AuditAction.APPROVED, AuditAction.APPLY_STARTED,
                           AuditAction.API_CALL]
    handed_back = actions.index(AuditAction.APPLY_FAILED)
    assert "was lost: its lease expired" in steps[handed_back][1]
    assert "re-planned against live AWS" in steps[handed_back][1]
    assert actions[handed_back + 1] == AuditAction.APPLY_STARTED and actions[-1] == AuditAction.APPLIED
    assert "changes.tasks.changes_recover" in second.log()


def test_workers_told_to_stop_mid_apply_never_leave_a_change_applying(users, sandbox, proxy, moto_events, workers):
    """SIGTERM to the whole process group (what systemd or a container runtime sends): the pool process
    applying a change would die at once; it hands the change back first, and another worker finishes it.
    SIGTERM to the main process only (Celery's warm shutdown): the apply in progress completes."""
    # given a worker applying a new rule with a tag through a slow link (PutRule, PutTargets, TagResource)
    proxy.delay = 1.0
    first = workers(env=FAST_RECOVERY)
    change = submit(users["operator"], sandbox, {**rule_spec("stopped"), "Tags": [{"Key": "team", "Value": "ops"}]})
    wait_for(lambda: AuditEvent.objects.filter(related_id=str(change.pk), action=AuditAction.API_CALL,
                                               data__operation="PutRule").exists(), why=first.log)
    # when the worker and its pool processes are told to stop (while PutTargets is on its way)
    first.signal(signal.SIGTERM, group=True)
    # then the change is handed back, not left Applying: Approved again, lease released, waiting for a worker
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).state != S.APPLYING, why=first.log)
    change.refresh_from_db()
    assert change.state == S.APPROVED, first.log()
    assert change.lease_owner == "" and change.lease_expires is None
    assert change.dispatched_at is None and worker.waiting_for_worker(change)
    stopped = change.apply_attempts.get()
    assert (stopped.status, stopped.error_code) == (AttemptStatus.FAILED, "WorkerStopped")
    assert [c["operation"] for c in stopped.calls] == ["PutRule", "PutTargets"]  # the call in flight completed
    event = AuditEvent.objects.filter(related_id=str(change.pk), action=AuditAction.APPLY_FAILED).get()
    assert "was told to stop before it finished; it handed the change back" in event.message
    # when another worker (with beat: the sweep sends the change) comes up, it makes only the call still needed
    proxy.delay = 0.0
    second = workers(env=FAST_RECOVERY, beat=True)
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).state == S.APPLIED, why=second.log)
    change.refresh_from_db()
    assert [c["operation"] for c in change.apply_attempts.get(number=2).calls] == ["TagResource"]
    assert len(targets_in_aws(moto_events, "stopped")) == 2
    arn = moto_events.describe_rule(Name="stopped")["Arn"]
    assert moto_events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "ops"}]

    # given that worker applying another change through a slow link
    proxy.delay = 0.4
    warm = submit(users["operator"], sandbox, rule_spec("warm-shutdown"))
    wait_for(lambda: ChangeRequest.objects.get(pk=warm.pk).state == S.APPLYING, why=second.log)
    # when only its main process is asked to stop (a warm shutdown)
    second.signal(signal.SIGTERM)
    # then it finishes the apply it holds before it exits
    assert second.process.wait(60) == 0
    warm.refresh_from_db()
    assert warm.state == S.APPLIED and warm.lease_owner == "" and warm.attempts == 1, second.log()
    assert len(targets_in_aws(moto_events, "warm-shutdown")) == 2
    assert "Warm shutdown" in second.log()


def test_approved_changes_survive_a_redis_restart_and_submit_never_fails_while_it_is_down(
        users, sandbox, moto_events, client_for, settings):
    from eventconsole.celery import app

    broker, queue, worker = RedisServer().start(), "test-redis-drill", None
    try:
        with celery_broker(app, broker.url, queue):
            settings.CELERY_BROKER_URL = broker.url  # what the worker process is started with
            # given two approved changes sent to a broker with no worker yet
            pending = [submit(users["operator"], sandbox, rule_spec(f"queued-{n}")) for n in (1, 2)]
            assert broker.client().llen(queue) == 2
            assert all(ChangeRequest.objects.get(pk=c.pk).dispatched_at is not None for c in pending)
            # when Redis dies (its messages with it)
            broker.kill()
            # then submitting through the page still works: the change waits for a worker
            draft = services.change_request_draft_create(kind="rule", action="create", environment=sandbox,
                                                         author=users["operator"], spec=rule_spec("while-down"))
            operator = client_for("operator")
            response = operator.post(reverse("changes:change_action", args=[draft.pk, "submit"]), follow=True)
            assert response.status_code == 200
            assert "no worker could be reached yet" in response.content.decode()
            draft.refresh_from_db()
            assert draft.state == S.APPROVED and draft.dispatched_at is None
            page = operator.get(draft.get_absolute_url()).content.decode()
            assert "Waiting for a worker." in page
            # when Redis comes back empty and a worker (with beat) starts
            broker.start()
            assert broker.client().llen(queue) == 0
            worker = CeleryWorker(app, env=FAST_RECOVERY, beat=True, queue=queue).start()
            # then every approved change is applied: the database, not the broker, said they were due
            everything = [*pending, draft]
            wait_for(lambda: all(ChangeRequest.objects.get(pk=c.pk).state == S.APPLIED for c in everything),
                     why=worker.log)
            names = sorted(r["Name"] for r in moto_events.list_rules()["Rules"])
            assert names == ["queued-1", "queued-2", "while-down"]
            for change in everything:  # applied once each (a sent-again duplicate found it taken)
                assert change.apply_attempts.filter(status=AttemptStatus.SUCCEEDED).count() == 1
            worker.signal(signal.SIGKILL, group=True)
            worker.process.wait(20)
            worker.stop()  # (puts back the app's default queue it found: still inside celery_broker here)
    finally:
        if worker is not None and worker.process.poll() is None:
            worker.signal(signal.SIGKILL, group=True)
            worker.stop()
        broker.kill()
