"""A bulk re-apply in real worker processes: a worker killed (SIGKILL) half-way through the items;
its successor, started with beat (the recovery sweep), applies only the items still pending.

AWS is a moto server reached through the fault proxy, whose latency makes the kill land half-way."""
import json
import signal

import boto3
import pytest

from audit.choices import AuditAction
from audit.models import AuditEvent
from changes import polling
from changes.apply import change_request_apply
from changes.batch import batch_create
from changes.choices import ChangeAction, ChangeState as S, ItemState, SyncStatus
from changes.models import ChangeRequest
from rules.models import Rule
from tests.changes.drills import wait_for
from tests.changes.test_batch import discovered

pytestmark = [pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

FAST_RECOVERY = {"APPLY_LEASE_SECONDS": "3", "APPLY_SWEEP_SECONDS": "1", "APPLY_REDISPATCH_SECONDS": "2",
                 "POLL_INTERVAL_SECONDS": "3600", "HEARTBEAT_INTERVAL_SECONDS": "3600"}
NAMES = [f"bulk-{i}" for i in range(6)]



def test_a_worker_killed_mid_batch_is_succeeded_by_one_that_applies_only_the_pending_items(
        users, sandbox, proxy, aws_url, workers):
    events = boto3.client("events", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    for name in NAMES:
        events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.s3"]}), State="ENABLED")
        discovered(sandbox, name)
    operator = users["operator"]
    adopt = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=sandbox, author=operator,
                         objects=Rule.objects.all())
    change_request_apply(adopt.pk)  # here, before any worker: they are version 1, managed
    for name in NAMES:
        events.delete_rule(Name=name)  # the emulator restarted empty
    polling.objects_poll(sandbox, "rule")
    assert set(Rule.objects.values_list("sync_status", flat=True)) == {SyncStatus.MISSING}

    # given a worker re-applying the six rules through a slow link
    proxy.delay = 0.4
    first = workers(env=FAST_RECOVERY)
    change = batch_create(kind="rule", action=ChangeAction.REAPPLY, environment=sandbox, author=operator,
                          objects=Rule.objects.all())
    items = change.items.order_by("pk")
    wait_for(lambda: items.filter(state=ItemState.APPLIED).count() >= 2, why=first.log)
    # when it is killed half-way
    first.signal(signal.SIGKILL, group=True)
    first.process.wait(10)
    done_before = {item.pk: item.finished for item in items.filter(state=ItemState.APPLIED)}
    assert 2 <= len(done_before) < len(NAMES)
    change.refresh_from_db()
    assert change.state == S.APPLYING
    # then its successor (with beat: the sweep hands the change back) finishes the rest
    proxy.delay = 0.0
    second = workers(env=FAST_RECOVERY, beat=True)
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).state == S.APPLIED, timeout=90, why=second.log)
    change.refresh_from_db()
    assert change.attempts == 2
    assert sorted(r["Name"] for r in events.list_rules()["Rules"]) == sorted(NAMES)
    assert set(items.values_list("state", flat=True)) == {ItemState.APPLIED}
    # the items applied before the kill were not applied again
    assert {item.pk: item.finished for item in items.filter(pk__in=done_before)} == done_before
    for rule in Rule.objects.all():
        assert (rule.version, rule.sync_status) == (2, SyncStatus.IN_SYNC)
        assert AuditEvent.objects.filter(related_id=str(change.pk), action=AuditAction.APPLIED,
                                         object_id=str(rule.pk)).count() == 1
    summary = AuditEvent.objects.get(related_id=str(change.pk), action=AuditAction.BATCH_APPLIED)
    assert summary.message == "Re-apply desired: 6 applied, 0 failed, 0 skipped"
