"""In a real browser, on the demo rule with an SQS target: Listen to events, send a test event from a second tab,
see it arrive in the tail; closing the tail's tab removes its temporary rule and queue (a REAL worker does the
AWS side, against the moto server over HTTP)."""
import boto3
import pytest
from playwright.sync_api import expect

from rules.models import Rule
from tail.demo import demo_orders_rule_seed
from tail.models import TailSession, TailState
from tests.changes.drills import wait_for
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_send_a_test_event_and_see_it_arrive_in_the_tail(page, sign_in, users, environment, celery_worker, aws_url):
    demo_orders_rule_seed(environment)
    rule = Rule.objects.get(name="demo-orders-to-sqs")
    sign_in("operator", PASSWORD)
    page.goto(rule.get_absolute_url())
    page.get_by_test_id("listen").click()
    expect(page.get_by_test_id("tail-state")).to_have_text("Listening", timeout=60_000)  # the worker made it

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Send a test event").click()
    sender = opened.value
    sender.get_by_test_id("send-review").click()  # the Order Placed sample, which the rule matches
    expect(sender.get_by_test_id("confirm-targets")).to_contain_text("eventconsole-demo-orders")
    sender.get_by_test_id("send-confirm").click()
    event_id = sender.get_by_test_id("event-id").inner_text()
    expect(sender.get_by_test_id("open-tail")).to_be_visible()

    expect(page.get_by_test_id("tail-events")).to_contain_text(event_id)
    expect(page.get_by_test_id("tail-count")).to_have_text("1")

    session = TailSession.objects.get()
    page.close()  # the page's sendBeacon asks for the removal
    wait_for(lambda: TailSession.objects.get(pk=session.pk).state == TailState.CLOSED, why=celery_worker.log)
    events = boto3.client("events", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # straight to moto: what AWS holds
    assert events.list_rules(NamePrefix="eventconsole-tail-")["Rules"] == []
