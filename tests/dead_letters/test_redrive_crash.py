"""A redrive in real worker processes: a worker killed (SIGKILL) half-way, with the messages it received still
hidden; its successor (with beat: the recovery sweep hands the change back) waits for them to be visible again
and redrives only the messages still pending. AWS is moto behind the fault proxy, whose latency makes the kill
land half-way."""
import signal

import pytest

from changes.choices import ChangeState as S, ItemState
from changes.models import ChangeRequest
from dead_letters.depth import environment_depth_fetch
from dead_letters.models import DeadLetterQueue
from dead_letters.redrive import redrive_create
from environments import aws
from environments.models import Environment
from rules.models import Rule
from tests.changes.drills import wait_for
from tests.conftest import SUITE_RATE_LIMIT

from .conftest import make_queue, rule_spec
from .examples import RULE_ATTRIBUTES, RULE_EVENT

pytestmark = [pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

FAST_RECOVERY = {"APPLY_LEASE_SECONDS": "3", "APPLY_SWEEP_SECONDS": "1", "APPLY_REDISPATCH_SECONDS": "2",
                 "POLL_INTERVAL_SECONDS": "3600", "HEARTBEAT_INTERVAL_SECONDS": "3600",
                 "DISCOVERY_INTERVAL_SECONDS": "3600", "DEAD_LETTER_DEPTH_INTERVAL_SECONDS": "3600",
                 "DEAD_LETTER_REDRIVE_VISIBILITY_SECONDS": "15"}
KEYS = [f"incoming/order-{n}.json" for n in range(1, 7)]


def test_a_redrive_whose_worker_is_killed_is_finished_by_its_successor(users, proxy, workers):
    sandbox = Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=proxy.url,
                                         account_id="123456789012", approvals_required=0,
                                         api_rate_limit=SUITE_RATE_LIMIT)
    sqs = aws.client(sandbox, "sqs")
    dlq_url, dlq_arn = make_queue(sqs, "orders-dlq")
    target_url, target_arn = make_queue(sqs, "orders-target")
    spec = rule_spec(dlq_arn, target_arn, InputPath="$.detail.object")
    rule = Rule.objects.create(environment=sandbox, name="orders-to-lambda", event_bus_name="orders-bus",
                               desired_spec=spec, live_spec=spec, version=1, state="ENABLED", sync_status="in_sync")
    for key in KEYS:
        sqs.send_message(QueueUrl=dlq_url, MessageBody=RULE_EVENT.replace("incoming/order-1.json", key),
                         MessageAttributes=RULE_ATTRIBUTES)
    environment_depth_fetch(sandbox)
    queue = DeadLetterQueue.objects.get(rule=rule)

    # given a worker redriving six messages through a slow link
    first = workers(env=FAST_RECOVERY)
    change = redrive_create(queue, author=users["operator"])
    proxy.delay = 0.8
    items = change.items.order_by("pk")
    wait_for(lambda: items.filter(state=ItemState.APPLIED).exists(), timeout=90, why=first.log)
    second = workers(env=FAST_RECOVERY, beat=True)  # ready before the kill: it takes over within seconds
    # when the first is killed half-way, with the messages it received still hidden
    first.signal(signal.SIGKILL, group=True)
    first.process.wait(10)
    done_before = {item.pk: item.finished for item in items.filter(state=ItemState.APPLIED)}
    assert 1 <= len(done_before) < len(KEYS)
    assert ChangeRequest.objects.get(pk=change.pk).state == S.APPLYING
    hidden = [call["hidden_until"] for item in items.filter(state=ItemState.PENDING) for call in item.calls]
    assert hidden  # written when they were received
    # then its successor waits for them to be visible again and redrives the rest
    proxy.delay = 0.0
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).state == S.APPLIED, timeout=90, why=second.log)
    # Every message is redriven once its successor sees it again. The one the first worker had in hand when it was
    # killed was either not sent yet (the successor sends it), or sent and deleted without a record: gone from the
    # queue, it is skipped with the reason.
    states = list(items.values_list("state", flat=True))
    assert states.count(ItemState.APPLIED) >= len(KEYS) - 1, [(i.state, i.message) for i in items]
    for item in items.filter(state=ItemState.SKIPPED):
        assert item.message.startswith("Not found in the queue after ")
    assert {item.pk: item.finished for item in items.filter(pk__in=done_before)} == done_before
    assert ChangeRequest.objects.get(pk=change.pk).attempts == 2
    left = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    # every message reached the target (one may twice: delivery is at least once)
    bodies = set()
    while True:
        got = sqs.receive_message(QueueUrl=target_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies |= {m["Body"] for m in got}
    assert bodies == {f'{{"key":"{key}","size":512}}' for key in KEYS}
