"""Send a test event, against the moto server over HTTP and the demo rule with an SQS target: the prediction, the
confirmations (Production twice), AWS's answer, the emulator's HTTP 500 in words, the audit, and refusals at the field.
"""
import json

import pytest
from django.urls import reverse

from audit.choices import AuditAction
from audit.models import AuditEvent
from changes.choices import SyncStatus
from environments.demo import demo_extras_seed
from tail.demo import demo_orders_rule_seed
from rules.models import Rule

pytestmark = [pytest.mark.aws, pytest.mark.django_db]

QUEUE_ARN = "arn:aws:sqs:{region}:123456789012:eventconsole-demo-orders"
ORDER = {"source": "com.example.orders", "detail-type": "Order Placed", "detail": {"orderId": "o-7", "amount": 3}}


@pytest.fixture
def demo_rule(environment):
    demo_orders_rule_seed(environment)  # the demo's rule with an SQS target (what demo_extras_seed adds)
    return Rule.objects.get(environment=environment, name="demo-orders-to-sqs")


def post(client, data):
    return client.post(reverse("tail:send_test_event"), data)


def queue_bodies(moto, region="us-east-1"):
    sqs = moto("sqs", region)
    url = sqs.get_queue_url(QueueName="eventconsole-demo-orders")["QueueUrl"]
    return [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                               WaitTimeSeconds=1).get("Messages", [])]


def test_the_demo_rule_is_managed_in_sync_and_its_page_offers_to_send_and_listen(operator, environment):
    report = demo_extras_seed(environment)  # what seed_demo_aws adds to the worked examples' resources
    assert report == {"sqs queue eventconsole-demo-orders": "created", "rule demo-orders-to-sqs": "created",
                      "managed rule demo-orders-to-sqs": "created"}
    assert set(demo_extras_seed(environment).values()) == {"exists"}  # idempotent
    demo_rule = Rule.objects.get(environment=environment, name="demo-orders-to-sqs")
    assert demo_rule.sync_status == SyncStatus.IN_SYNC and demo_rule.is_managed
    page = operator.get(demo_rule.get_absolute_url()).content.decode()
    assert f"{reverse('tail:send_test_event')}?rule={demo_rule.pk}" in page and "Listen to events" in page
    form = operator.get(f"{reverse('tail:send_test_event')}?rule={demo_rule.pk}")
    assert form.context["form"].initial["sample_key"] == "orders-order-placed"  # a sample its pattern matches


def test_review_predicts_and_names_the_targets_and_sends_nothing(operator, demo_rule, moto):
    response = post(operator, {"rule": demo_rule.pk, "bus": "default", "event": json.dumps(ORDER), "stage": "review"})
    assert response.context["stage"] == "confirm"
    (match,) = response.context["prediction"].matches
    assert match.rule == demo_rule
    (delivery,) = match.deliveries
    assert delivery.arn == QUEUE_ARN.format(region="us-east-1")
    delivered = json.loads(delivery.payload)  # no transformer: the whole event, as the bus delivers it
    assert (delivered["source"], delivered["detail"], delivered["account"]) == (
        "com.example.orders", {"orderId": "o-7", "amount": 3}, "123456789012")
    page = response.content.decode()
    assert "These targets will be invoked:" in page and QUEUE_ARN.format(region="us-east-1") in page
    assert queue_bodies(moto) == [] and not AuditEvent.objects.filter(action=AuditAction.TEST_EVENT_SENT).exists()


def test_confirming_sends_it_shows_the_event_id_and_audits_the_event(operator, demo_rule, moto):
    response = post(operator, {"rule": demo_rule.pk, "bus": "default", "event": json.dumps(ORDER), "stage": "confirm"})
    result = response.context["result"]
    assert response.context["stage"] == "sent" and result.ok
    (arrived,) = queue_bodies(moto)
    assert arrived["id"] == result.event_id and arrived["detail"] == ORDER["detail"]
    assert result.event_id in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.TEST_EVENT_SENT)
    assert (event.object_type, event.object_id, event.actor_name) == ("rule", str(demo_rule.pk), "operator")
    assert event.data["entry"] == {"Source": "com.example.orders", "DetailType": "Order Placed",
                                   "Detail": json.dumps(ORDER["detail"]), "Resources": []}
    assert event.data["event_id"] == result.event_id and event.data["predicted_rules"] == ["demo-orders-to-sqs"]
    # No tail of mine is open on the bus: the page offers one
    assert "Listen to events matching demo-orders-to-sqs" in response.content.decode()


def test_production_asks_twice(client_for, production, moto):
    demo_orders_rule_seed(production)
    rule = Rule.objects.get(environment=production, name="demo-orders-to-sqs")
    operator = client_for("operator")
    data = {"rule": rule.pk, "bus": "default", "event": json.dumps(ORDER)}
    first = post(operator, {**data, "stage": "confirm"})
    assert first.context["stage"] == "confirm-production"
    assert "Production is production. Send it for real?" in first.content.decode()
    assert queue_bodies(moto, "eu-west-1") == []
    second = post(operator, {**data, "stage": "confirm-production"})
    assert second.context["result"].ok
    assert len(queue_bodies(moto, "eu-west-1")) == 1
    assert AuditEvent.objects.get(action=AuditAction.TEST_EVENT_SENT).data["production_confirmed_twice"] is True


def test_the_emulators_500_on_a_lambda_target_is_said_in_words_with_the_prediction(operator, environment,
                                                                                    demo_resources, moto):
    pattern = json.dumps({"source": ["com.example.billing"]})
    targets = [{"Id": "fn", "Arn": demo_resources["lambda"]}]
    moto("events").put_rule(Name="billing-to-lambda", EventPattern=pattern)
    moto("events").put_targets(Rule="billing-to-lambda", Targets=targets)
    Rule.objects.create(environment=environment, name="billing-to-lambda", version=1, sync_status=SyncStatus.IN_SYNC,
                        desired_spec={"Rule": {"Name": "billing-to-lambda", "EventPattern": pattern},
                                      "Targets": targets, "Tags": []})
    event = {"source": "com.example.billing", "detail-type": "Invoice", "detail": {}}
    confirm = post(operator, {"environment": environment.pk, "bus": "default", "event": json.dumps(event),
                              "stage": "review"})
    assert "The local emulator cannot deliver to Lambda or SNS targets" in confirm.content.decode()
    response = post(operator, {"environment": environment.pk, "bus": "default", "event": json.dumps(event),
                               "stage": "confirm"})
    result = response.context["result"]
    assert not result.ok and result.emulator_failed
    page = response.content.decode()
    assert "The local emulator failed with an internal error (HTTP 500): it cannot deliver to Lambda or SNS" in page
    assert [m.rule.name for m in response.context["prediction"].matches] == ["billing-to-lambda"]
    audited = AuditEvent.objects.get(action=AuditAction.TEST_EVENT_SENT)
    assert audited.object_type == "environment" and audited.data["event_id"] == ""
    assert audited.data["error"].startswith("The local emulator failed")


@pytest.mark.parametrize(("event", "words"), [
    ('{"source": "aws.s3", "detail-type": "Object Created", "detail": {}}',
     "AWS refuses test events whose source starts with &quot;aws.&quot; (NotAuthorizedForSourceException)"),
    ('{"source": "com.example", "detail-type": "X", "detail": {', "The event is not valid JSON"),
    ('["not", "an", "object"]', "The event must be a JSON object."),
    ('{"source": "com.example", "detail": {}}', "The event needs a &quot;detail-type&quot;"),
    ('{"source": "com.example", "detail-type": "X", "detail": "text"}',
     "The event&#x27;s &quot;detail&quot; must be a JSON object."),
    ('{"detail-type": "X", "detail": {}}', "The event needs a &quot;source&quot;"),
])
def test_refused_at_the_field_nothing_sent(operator, demo_rule, moto, event, words):
    response = post(operator, {"rule": demo_rule.pk, "bus": "default", "event": event, "stage": "confirm"})
    assert response.status_code == 200 and response.context.get("stage") is None
    assert words in response.content.decode()
    assert response.context["form"].errors["event"]
    assert queue_bodies(moto) == [] and not AuditEvent.objects.filter(action=AuditAction.TEST_EVENT_SENT).exists()


@pytest.mark.parametrize("data", [{"rule": "x"}, {"rule": "99999999999"}, {"environment": "x", "event": "{}"},
                                  {"stage": "confirm-production", "event": json.dumps(ORDER)}])
def test_bad_input_is_never_a_500(operator, environment, data):
    response = post(operator, data)
    assert response.status_code in (200, 403)


def test_a_viewer_may_not_send(client_for, demo_rule, moto):
    response = post(client_for("viewer"), {"rule": demo_rule.pk, "bus": "default", "event": json.dumps(ORDER),
                                           "stage": "confirm"})
    assert response.status_code == 403 and queue_bodies(moto) == []


def test_from_the_sandbox_the_environment_and_bus_are_chosen(operator, environment, demo_rule, moto):
    response = post(operator, {"environment": environment.pk, "bus": "default", "event": json.dumps(ORDER),
                               "stage": "confirm"})
    assert response.context["result"].ok and len(queue_bodies(moto)) == 1
    assert AuditEvent.objects.get(action=AuditAction.TEST_EVENT_SENT).object_type == "environment"
