"""Depth (stored by the worker's task), the Monitoring panel and the peek page, against moto over HTTP."""
import pytest
from django.urls import reverse

from accounts.roles import OPERATORS
from accounts.services import role_grant, user_create
from dead_letters.depth import environment_depth_fetch
from dead_letters.models import DeadLetterQueue
from environments.models import Environment

from .examples import (MALFORMED_ATTRIBUTES, NOT_JSON_BODY, RULE_ATTRIBUTES, RULE_EVENT, SCHEDULE_ATTRIBUTES,
                       SCHEDULE_PAYLOAD)

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def test_depth_is_read_and_stored_for_each_target_and_schedule(environment, sqs, dlqs):
    for _ in range(3):
        sqs.send_message(QueueUrl=dlqs["rule_url"], MessageBody=RULE_EVENT, MessageAttributes=RULE_ATTRIBUTES)
    sqs.send_message(QueueUrl=dlqs["schedule_url"], MessageBody=SCHEDULE_PAYLOAD, MessageAttributes=SCHEDULE_ATTRIBUTES)
    received = sqs.receive_message(QueueUrl=dlqs["schedule_url"], VisibilityTimeout=300)["Messages"]
    assert len(received) == 1  # now in flight

    assert environment_depth_fetch(environment) == {"queues": 2, "read": 2, "failed": 0}
    rule_queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    assert (rule_queue.target_id, rule_queue.queue_arn) == ("Lambda1", dlqs["rule_dlq"])
    assert (rule_queue.visible, rule_queue.in_flight, rule_queue.delayed) == (3, 0, 0)
    schedule_queue = DeadLetterQueue.objects.get(schedule=dlqs["schedule"])
    assert (schedule_queue.visible, schedule_queue.in_flight) == (0, 1)
    assert rule_queue.fetched is not None and rule_queue.error == ""


def test_a_queue_gone_from_aws_keeps_an_error_in_words(environment, sqs, dlqs):
    sqs.delete_queue(QueueUrl=dlqs["rule_url"])
    assert environment_depth_fetch(environment)["failed"] == 1
    rule_queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    assert rule_queue.visible is None
    assert rule_queue.error.startswith("The depth of orders-dlq could not be read: ")


def test_a_target_without_its_queue_any_more_loses_its_row(environment, dlqs):
    environment_depth_fetch(environment)
    rule = dlqs["rule"]
    spec = {**rule.live_spec, "Targets": [t for t in rule.live_spec["Targets"] if t["Id"] == "NoDlq"]}
    rule.live_spec = rule.desired_spec = spec
    rule.save()
    environment_depth_fetch(environment)
    assert not DeadLetterQueue.objects.filter(rule=rule).exists()
    assert DeadLetterQueue.objects.filter(schedule=dlqs["schedule"]).exists()


def test_the_monitoring_panel_shows_the_stored_depth(environment, sqs, dlqs, client_for):
    sqs.send_message(QueueUrl=dlqs["rule_url"], MessageBody=RULE_EVENT, MessageAttributes=RULE_ATTRIBUTES)
    environment_depth_fetch(environment)
    detail = client_for("viewer").get(reverse("rules:rule_detail", args=[dlqs["rule"].pk]) + "?tab=monitoring")
    assert reverse("dead_letters:panel", args=["rule", dlqs["rule"].pk]) in detail.content.decode()
    panel = client_for("viewer").get(reverse("dead_letters:panel", args=["rule", dlqs["rule"].pk]))
    text = panel.content.decode()
    assert panel.status_code == 200 and "orders-dlq" in text and "Lambda1" in text
    assert 'data-testid="dlq-visible">1<' in text
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    assert reverse("dead_letters:peek", args=[queue.pk]) in text
    schedule_panel = client_for("viewer").get(reverse("dead_letters:panel", args=["schedule", dlqs["schedule"].pk]))
    assert "batch-server-dlq" in schedule_panel.content.decode()


def test_peek_a_rule_queue_in_words_without_deleting(environment, sqs, dlqs, client_for):
    sqs.send_message(QueueUrl=dlqs["rule_url"], MessageBody=RULE_EVENT, MessageAttributes=RULE_ATTRIBUTES)
    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    other_bus_rule = dlqs["rule"]  # RULE_ARN names orders-bus/orders-to-lambda: this very rule
    response = client_for("viewer").get(reverse("dead_letters:peek", args=[queue.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert ("NO_PERMISSIONS: EventBridge could not invoke the target: the target&#x27;s policy or role does not "
            "allow it") in text
    assert "After 185 retries, the maximum event age ran out" in text
    assert f'href="{other_bus_rule.get_absolute_url()}">orders-bus/orders-to-lambda</a>' in text
    assert "&quot;key&quot;: &quot;incoming/order-1.json&quot;" in text  # pretty JSON, one member a line
    assert "A standard queue has no strict order" in text and "Peeking counts as a receive" in text
    assert 'data-testid="redrive"' not in text  # a viewer may not redrive
    # Still there: a peek deletes nothing and leaves the message visible.
    attributes = sqs.get_queue_attributes(QueueUrl=dlqs["rule_url"], AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_peek_a_schedule_queue_in_words(environment, sqs, dlqs, client_for):
    sqs.send_message(QueueUrl=dlqs["schedule_url"], MessageBody=SCHEDULE_PAYLOAD, MessageAttributes=SCHEDULE_ATTRIBUTES)
    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(schedule=dlqs["schedule"])
    text = client_for("operator").get(reverse("dead_letters:peek", args=[queue.pk])).content.decode()
    assert ("AWS.SimpleQueueService.NonExistentQueue: the target&#x27;s service (Amazon SQS) answered "
            "NonExistentQueue: the queue does not exist") in text
    assert "After 3 retries, the maximum retry attempts ran out" in text
    assert "2026-11-29 23:00:00 UTC" in text and "no: the payload is complete" in text
    assert f'href="{dlqs["schedule"].get_absolute_url()}">default/Start_batch_server_11PM</a>' in text
    assert 'data-testid="redrive"' in text  # an operator may
    assert "(once per message, it sends a message to SQS queue orders-target)" in text


def test_peek_malformed_attributes_and_a_body_that_is_not_json(environment, sqs, dlqs, client_for):
    sqs.send_message(QueueUrl=dlqs["rule_url"], MessageBody=NOT_JSON_BODY, MessageAttributes=MALFORMED_ATTRIBUTES)
    sqs.send_message(QueueUrl=dlqs["rule_url"], MessageBody="{}")
    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    response = client_for("viewer").get(reverse("dead_letters:peek", args=[queue.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "SOMETHING_NEW: an error code EventConsole has no words for" in text
    assert "The body is not JSON: the failed event is shown as text." in text
    assert "this is &lt;b&gt;not&lt;/b&gt; JSON {" in text  # escaped, never markup
    assert "X_CUSTOM" in text and "not an attribute AWS documents for a rule&#x27;s dead-letter queue" in text
    assert "No attributes: this message was not written by EventBridge" in text


def test_peek_a_queue_that_is_gone_says_so(environment, sqs, dlqs, client_for):
    environment_depth_fetch(environment)
    sqs.delete_queue(QueueUrl=dlqs["rule_url"])
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    response = client_for("viewer").get(reverse("dead_letters:peek", args=[queue.pk]))
    assert response.status_code == 200 and 'data-testid="peek-error"' in response.content.decode()


def test_permissions_follow_the_environment(environment, dlqs, client_for, users):
    from django.test import Client

    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    elsewhere = Environment.objects.create(name="Elsewhere", region="us-east-1", endpoint_url=environment.endpoint_url)
    outsider = user_create(username="outsider", password="correct-horse-battery-9", roles=[])
    role_grant(user=outsider, role=OPERATORS, environment=elsewhere)
    client = Client()
    client.force_login(outsider)
    assert client.get(reverse("dead_letters:peek", args=[queue.pk])).status_code == 403
    assert client.get(reverse("dead_letters:panel", args=["rule", dlqs["rule"].pk])).status_code == 403
    assert client.post(reverse("dead_letters:refresh", args=["rule", dlqs["rule"].pk])).status_code == 403
    assert client.post(reverse("dead_letters:redrive", args=[queue.pk])).status_code == 403
    assert client_for("viewer").post(reverse("dead_letters:redrive", args=[queue.pk])).status_code == 403
    assert client_for("viewer").get(reverse("dead_letters:panel", args=["nothing", 1])).status_code == 404
    assert client_for("viewer").get(reverse("dead_letters:peek", args=[999999])).status_code == 404


def test_peek_stays_within_the_page_budget(environment, sqs, dlqs, client_for, proxy, settings):
    environment_depth_fetch(environment)
    queue = DeadLetterQueue.objects.get(rule=dlqs["rule"])
    environment.endpoint_url = proxy.url
    environment.save()
    settings.AWS_INTERACTIVE_BUDGET_SECONDS = 1
    proxy.delay = 3
    response = client_for("viewer").get(reverse("dead_letters:peek", args=[queue.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "AWS did not answer within 1 s (this page&#x27;s time budget for AWS calls)." in text


def test_beat_reads_the_depth_with_a_registered_task(settings):
    from eventconsole.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["dead-letters-depth"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks and entry["schedule"] == settings.DEAD_LETTER_DEPTH_INTERVAL_SECONDS
