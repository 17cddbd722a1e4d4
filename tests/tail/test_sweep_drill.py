"""No leftovers: a worker killed (SIGKILL, pool processes too) after it created a live tail's rule and queue leaves
them in AWS; beat's sweep in a fresh worker removes them once the tail's time limit has passed.

AWS is the moto server behind the fault proxy, whose latency makes the kill land while the worker is half-way;
what AWS holds is read straight from moto with boto3."""
import signal

import pytest

from audit.choices import AuditAction
from audit.models import AuditEvent
from tail import services
from tail.models import TailSession, TailState
from tests.changes.drills import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

# Only the tail sweep runs often in the drill; the other beat entries wait an hour.
SWEEP_ONLY = {"TAIL_SWEEP_SECONDS": "1", "POLL_INTERVAL_SECONDS": "3600", "HEARTBEAT_INTERVAL_SECONDS": "3600",
              "APPLY_SWEEP_SECONDS": "3600", "DISCOVERY_INTERVAL_SECONDS": "3600",
              "AUDIT_CHECKPOINT_INTERVAL_SECONDS": "3600"}
PREFIX = "eventconsole-tail-"


def leftovers(moto):
    rules = [r["Name"] for r in moto("events").list_rules(NamePrefix=PREFIX)["Rules"]]
    queues = moto("sqs").list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])
    return rules, queues


def test_a_tail_left_behind_by_a_killed_worker_is_removed_by_the_sweep(users, proxied, proxy, moto, workers,
                                                                       settings):
    settings.TAIL_TIME_LIMIT_SECONDS = 3  # its expiry tag says: 3 s from now
    proxy.delay = 1.0  # each AWS call takes a second: the kill lands between the worker's calls
    first = workers()
    session = services.tail_start(user=users["operator"], environment=proxied, bus="default",
                                  pattern='{"source": [{"prefix": ""}]}')
    wait_for(lambda: all(leftovers(moto)), why=first.log)  # the rule and the queue exist in AWS
    first.signal(signal.SIGKILL, group=True)
    first.process.wait(10)
    rules, queues = leftovers(moto)
    assert rules == [session.name] and [q.rsplit("/", 1)[-1] for q in queues] == [session.name]
    assert TailSession.objects.get(pk=session.pk).state == TailState.STARTING  # nobody will finish or remove it

    proxy.delay = 0
    second = workers(env=SWEEP_ONLY, beat=True)
    # the sweep removes the rule and the queue, then records the session closed: wait for both
    wait_for(lambda: leftovers(moto) == ([], []) and TailSession.objects.get(pk=session.pk).state == TailState.CLOSED,
             why=second.log)
    session.refresh_from_db()
    assert (session.state, session.closed_reason) == (TailState.CLOSED, "time limit reached")
    removed = AuditEvent.objects.filter(action=AuditAction.TAIL_REMOVED, object_id=str(session.pk)).get()
    assert removed.data["removed"] == [f"rule {session.name} on default", f"queue {session.name}"]
