"""Redrive through a change request, end to end: a real worker, moto over HTTP, the database.

The target is an SQS queue that holds at most 1,024-byte messages (its MaximumMessageSize, enforced by SQS
and by moto alike): the two ordinary events are delivered and deleted from the dead-letter queue; the event
too large for the target fails, stays in the queue, and its item records the error."""
import time

import pytest
from django.urls import reverse

from audit.choices import AuditAction
from audit.models import AuditEvent
from changes.choices import ChangeAction, ChangeState, ItemState
from changes.models import ChangeRequest
from dead_letters.models import DeadLetterQueue
from rules.models import Rule

from schedules.models import Schedule

from .conftest import make_queue, rule_spec, schedule_spec
from .examples import NOT_JSON_BODY, RULE_ATTRIBUTES, RULE_EVENT, SCHEDULE_ATTRIBUTES, SCHEDULE_PAYLOAD

pytestmark = [pytest.mark.aws]

SECOND_EVENT = RULE_EVENT.replace("11c5dfc8-3ba1-4f8f-8b6d-8f0bd1d0c3d2", "5f3c2a10-7d4e-4c55-9a2b-0e1f2a3b4c5d") \
    .replace("order-1.json", "order-2.json")
BIG_EVENT = RULE_EVENT.replace("11c5dfc8-3ba1-4f8f-8b6d-8f0bd1d0c3d2", "9e8d7c6b-5a49-4838-b2a1-0f9e8d7c6b5a") \
    .replace('"size":512}', '"size":512,"note":"' + "x" * 1500 + '"}')
# What the target receives for the first two events: InputPath $.detail, minified as EventBridge sends it.
DELIVERED = {'{"bucket":{"name":"orders-bucket"},"object":{"key":"incoming/order-1.json","size":512}}',
             '{"bucket":{"name":"orders-bucket"},"object":{"key":"incoming/order-2.json","size":512}}'}


def wait_for(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"Timed out waiting for {what}")


def _setup(environment, sqs):
    dlq_url, dlq_arn = make_queue(sqs, "orders-dlq")
    target_url = sqs.create_queue(QueueName="orders-small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    target_arn = sqs.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    spec = rule_spec(dlq_arn, target_arn, InputPath="$.detail")
    rule = Rule.objects.create(environment=environment, name="orders-to-lambda", event_bus_name="orders-bus",
                               desired_spec=spec, live_spec=spec, version=1, state="ENABLED", sync_status="in_sync")
    for body in (RULE_EVENT, SECOND_EVENT, BIG_EVENT):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=body, MessageAttributes=RULE_ATTRIBUTES)
    return rule, dlq_url, target_url


def _count(sqs, url: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


@pytest.mark.worker
def test_redrive_end_to_end_with_a_worker(celery_worker, environment, sqs, client_for):
    rule, dlq_url, target_url = _setup(environment, sqs)
    sqs.send_message(QueueUrl=dlq_url, MessageBody=NOT_JSON_BODY, MessageAttributes=RULE_ATTRIBUTES)
    operator = client_for("operator")
    # On demand: the worker reads the depth and stores it.
    operator.post(reverse("dead_letters:refresh", args=["rule", rule.pk]))
    queue = wait_for(lambda: DeadLetterQueue.objects.filter(rule=rule, fetched__isnull=False).first(), "the depth")
    assert queue.visible == 4

    response = operator.post(reverse("dead_letters:redrive", args=[queue.pk]))
    change = ChangeRequest.objects.get(action=ChangeAction.REDRIVE)
    assert response.status_code == 302 and response["Location"] == change.get_absolute_url()
    assert change.items.count() == 4
    change = wait_for(lambda: ChangeRequest.objects.filter(pk=change.pk, state=ChangeState.APPLIED).first(),
                      "the redrive to be applied")

    items = {item.spec["MessageId"]: item for item in change.items.all()}
    states = sorted(item.state for item in items.values())
    assert states == [ItemState.APPLIED, ItemState.APPLIED, ItemState.FAILED, ItemState.FAILED]
    not_json = next(item for item in items.values() if item.spec["Body"] == NOT_JSON_BODY)
    assert not_json.state == ItemState.FAILED
    assert not_json.message.startswith("Not sent: the event does not go through the target's input settings (")
    assert not_json.message.endswith("The message stays in the queue.")
    failed = next(item for item in items.values() if item.state == ItemState.FAILED and item is not not_json)
    assert "9e8d7c6b-5a49-4838-b2a1-0f9e8d7c6b5a" in failed.spec["Body"]
    assert failed.message.startswith("Redelivery failed (sqs:SendMessage): ")
    assert "Message must be shorter than 1024 bytes" in failed.message
    assert failed.message.endswith("The message stays in the queue.")

    # Delivered ones are gone from the dead-letter queue; the failed one stays, visible again at once.
    left = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert sorted(m["Body"] for m in left) == sorted([BIG_EVENT, NOT_JSON_BODY])
    got = sqs.receive_message(QueueUrl=target_url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert {m["Body"] for m in got} == DELIVERED

    events = AuditEvent.objects.filter(related_type="change", related_id=str(change.pk))
    assert events.filter(action=AuditAction.APPLIED, object_id=str(rule.pk)).count() == 2
    assert events.filter(action=AuditAction.APPLY_FAILED, object_id=str(rule.pk)).count() == 2
    assert events.filter(action=AuditAction.BATCH_APPLIED).count() == 1

    page = operator.get(change.get_absolute_url()).content.decode()
    assert "dead-letter messages to redrive" in page and "Message must be shorter than 1024 bytes" in page

    # A schedule's queue: the body is the target's input already; it goes to the target as it is.
    schedule_dlq_url, schedule_dlq = make_queue(sqs, "batch-server-dlq")
    schedule_target_url, schedule_target = make_queue(sqs, "batch-server-commands")
    sspec = schedule_spec(schedule_dlq, schedule_target)
    schedule = Schedule.objects.create(environment=environment, name="Start_batch_server_11PM", group_name="default",
                                       desired_spec=sspec, live_spec=sspec, version=1, state="ENABLED",
                                       expression="cron(0 23 * * ? *)", timezone="UTC", sync_status="in_sync")
    sqs.send_message(QueueUrl=schedule_dlq_url, MessageBody=SCHEDULE_PAYLOAD, MessageAttributes=SCHEDULE_ATTRIBUTES)
    from dead_letters.depth import environment_depth_fetch

    environment_depth_fetch(environment)
    operator.post(reverse("dead_letters:redrive", args=[DeadLetterQueue.objects.get(schedule=schedule).pk]))
    second = ChangeRequest.objects.filter(action=ChangeAction.REDRIVE).exclude(pk=change.pk).get()
    assert second.kind == "schedule"
    wait_for(lambda: ChangeRequest.objects.filter(pk=second.pk, state=ChangeState.APPLIED).exists(),
             "the schedule's redrive to be applied")
    assert second.items.get().message == "Redelivered through sqs:SendMessage and deleted from the queue."
    got = sqs.receive_message(QueueUrl=schedule_target_url, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in got] == [SCHEDULE_PAYLOAD]
    assert _count(sqs, schedule_dlq_url) == 0


@pytest.mark.django_db
def test_redrive_waits_for_approval_where_the_environment_asks_for_it(environment, sqs, client_for):
    environment.approvals_required = 1
    environment.save()
    rule, dlq_url, _ = _setup(environment, sqs)
    from dead_letters.depth import environment_depth_fetch

    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(rule=rule)
    client_for("operator").post(reverse("dead_letters:redrive", args=[queue.pk]))
    change = ChangeRequest.objects.get(action=ChangeAction.REDRIVE)
    assert change.state == ChangeState.SUBMITTED
    assert change.items.filter(state=ItemState.PENDING).count() == 3
    assert _count(sqs, dlq_url) == 3  # nothing sent, nothing deleted before approval
    again = client_for("operator").post(reverse("dead_letters:redrive", args=[queue.pk]), follow=True)
    assert (f"Redrive #{change.pk} of this queue is not finished yet (submitted): wait for it, or withdraw it "
            "first.") in again.content.decode()
    assert ChangeRequest.objects.filter(action=ChangeAction.REDRIVE).count() == 1
    plan = change.items.order_by("pk").first().plan
    assert [call["operation"] for call in plan] == ["sqs:SendMessage", "sqs:DeleteMessage"]
    assert plan[0]["summary"] == "send the event through the target's input settings"
    page = client_for("reviewer").get(change.get_absolute_url()).content.decode()
    assert "Sends each message again to target <strong>Lambda1</strong>" in page
    assert "only once its redelivery succeeded" in page
    assert "NO_PERMISSIONS: EventBridge could not invoke the target" in page  # each message with its error
    panel = client_for("viewer").get(reverse("dead_letters:panel", args=["rule", rule.pk])).content.decode()
    assert f"Redrive #{change.pk} (submitted)" in panel


@pytest.mark.django_db
def test_an_empty_queue_has_nothing_to_redrive(environment, sqs, dlqs, client_for):
    from dead_letters.depth import environment_depth_fetch

    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    response = client_for("operator").post(reverse("dead_letters:redrive", args=[queue.pk]), follow=True)
    assert response.status_code == 200
    assert "The queue returned no message: nothing to redrive." in response.content.decode()
    assert not ChangeRequest.objects.filter(action=ChangeAction.REDRIVE).exists()
