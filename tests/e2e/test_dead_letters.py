"""A dead-letter queue peek in a real browser: the rule's Monitoring tab loads the panel, the peek page shows
the error AWS recorded in words (the message sent to a moto queue as EventBridge would write it)."""
import pytest
from playwright.sync_api import expect

from dead_letters.depth import environment_depth_fetch
from environments import aws
from tests.conftest import PASSWORD
from tests.dead_letters.conftest import make_dlqs
from tests.dead_letters.examples import RULE_ATTRIBUTES, RULE_EVENT
from tests.e2e.test_accessibility import axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


def test_a_peek_shows_the_error_in_words(page, sign_in, users, environment):
    sqs = aws.client(environment, "sqs")
    dlqs = make_dlqs(environment, sqs)
    sqs.send_message(QueueUrl=dlqs["rule_url"], MessageBody=RULE_EVENT, MessageAttributes=RULE_ATTRIBUTES)
    environment_depth_fetch(environment)
    sign_in("viewer", PASSWORD)
    page.goto(f"/rules/{dlqs['rule'].pk}/?tab=monitoring")
    panel = page.get_by_test_id("dead-letters-panel")
    expect(panel.get_by_test_id("dlq-visible")).to_have_text("1")
    assert axe_violations(page) == []
    panel.get_by_test_id("dlq-peek").click()
    message = page.get_by_test_id("dead-letter-message")
    expect(message.get_by_test_id("dlq-headline")).to_have_text(
        "NO_PERMISSIONS: EventBridge could not invoke the target: the target's policy or role does not allow it")
    expect(message.get_by_test_id("dlq-retries")).to_have_text("After 185 retries, the maximum event age ran out")
    expect(message.get_by_role("link", name="orders-bus/orders-to-lambda")).to_be_visible()
    expect(message.get_by_test_id("dlq-body")).to_contain_text('"key": "incoming/order-1.json"')
    assert axe_violations(page) == []
