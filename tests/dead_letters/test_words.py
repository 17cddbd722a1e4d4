"""The attributes AWS adds to dead-letter messages, in words (fixed examples; expected words from the issue)."""
from dead_letters import words

from .examples import MALFORMED_ATTRIBUTES, RULE_ATTRIBUTES, RULE_EVENT, SCHEDULE_ATTRIBUTES, SCHEDULE_PAYLOAD


def test_a_rule_message_in_words():
    described = words.describe("rule", RULE_ATTRIBUTES, RULE_EVENT)
    assert described.headline == ("NO_PERMISSIONS: EventBridge could not invoke the target: the target's policy "
                                  "or role does not allow it")
    assert described.retries == "after 185 retries, the maximum event age ran out"
    assert described.rule == {"region": "us-east-1", "account": "123456789012", "bus": "orders-bus",
                              "name": "orders-to-lambda"}
    assert described.body_is_json and described.body_json["detail"]["object"]["key"] == "incoming/order-1.json"
    assert [line.name for line in described.lines] == list(RULE_ATTRIBUTES)
    assert not described.unknown
    assert {line.name: line.words for line in described.lines}["TARGET_ARN"] == "Lambda function Do_nothing"


def test_a_schedule_message_in_words():
    described = words.describe("schedule", SCHEDULE_ATTRIBUTES, SCHEDULE_PAYLOAD)
    assert described.headline == ("AWS.SimpleQueueService.NonExistentQueue: the target's service (Amazon SQS) "
                                  "answered NonExistentQueue: the queue does not exist")
    assert described.retries == "after 3 retries, the maximum retry attempts ran out"
    assert described.schedule["group"] == "default" and described.schedule["name"] == "Start_batch_server_11PM"
    by_name = {line.name: line for line in described.lines}
    assert by_name["IS_PAYLOAD_TRUNCATED"].words == "no: the payload is complete"
    assert by_name["SCHEDULED_TIME"].words == "2026-11-29 23:00:00 UTC"
    assert by_name["TARGET_ARN"].words == "the sqs API action sendMessage (universal target)"
    assert described.body_words == "The body is the payload (the target's input), as JSON."


def test_not_retried_and_the_default_bus():
    described = words.describe("rule", {"ERROR_CODE": {"DataType": "String", "StringValue": "NO_RESOURCE"},
                                        "RETRY_ATTEMPTS": {"DataType": "String", "StringValue": "0"},
                                        "RULE_ARN": {"DataType": "String", "StringValue":
                                                     "arn:aws:events:us-east-1:123456789012:rule/nightly"}}, "{}")
    assert described.retries == "not retried, the error is not one that is retried"
    assert described.rule["bus"] == "default" and described.rule["name"] == "nightly"
    assert described.headline.startswith("NO_RESOURCE: EventBridge could not invoke the target: it does not exist")


def test_malformed_and_unknown_attributes_and_bodies_never_raise():
    described = words.describe("rule", MALFORMED_ATTRIBUTES, "not json {")
    assert described.headline == "SOMETHING_NEW: an error code EventConsole has no words for"
    by_name = {line.name: line for line in described.lines}
    assert by_name["RETRY_ATTEMPTS"].problem and by_name["RULE_ARN"].problem and described.rule is None
    assert {line.name for line in described.unknown} == {"RAW", "X_CUSTOM"}
    assert not described.body_is_json and described.body_pretty == "not json {"
    assert described.body_words == "The body is not JSON: the failed event is shown as text."
    for odd in (None, "x", 5, {"ERROR_CODE": "bare"}, {"ERROR_CODE": {"DataType": "Number", "StringValue": "1"}}):
        assert words.describe("schedule", odd, None).headline
    assert words.describe("rule", {}, "").headline == "No attributes: this message was not written by EventBridge"
