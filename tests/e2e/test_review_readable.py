"""Issue 13, "the difference a reviewer approves is unreadable", in a real browser: the operator's edit of worked
example 1 moves the rule to another bucket and drops the SNS target; the reviewer opens it from Reviews, reads
the pattern's difference in words and as structured JSON line by line, sees the sample event it no longer
matches and the target that goes, and approves."""
import json
import re

import pytest
from playwright.sync_api import expect

from changes import services
from rules.models import Rule
from tests.conftest import PASSWORD
from tests.e2e.rule_steps import NAME
from tests.rules.flow import WORKED_EXAMPLE_PATTERN

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]

LAMBDA = "arn:aws:lambda:eu-west-1:123456789012:function:Do_nothing"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:Topic1"


def spec(bucket: str, targets: list[dict]) -> dict:
    pattern = {**WORKED_EXAMPLE_PATTERN, "detail": {"bucket": {"name": [bucket]}}}
    return {"Rule": {"Name": NAME, "EventBusName": "default", "State": "ENABLED", "EventPattern": json.dumps(pattern)},
            "Targets": targets, "Tags": []}


def test_the_reviewer_reads_the_pattern_difference_in_words_and_as_json_then_approves(page, sign_in, users,
                                                                                     production):
    lambda_target, topic_target = {"Id": "Do_nothing", "Arn": LAMBDA}, {"Id": "Topic1", "Arn": TOPIC}
    rule = Rule.objects.create(environment=production, name=NAME, desired_spec=spec("processing-bucket-1", [
        lambda_target, topic_target]), version=1, state="ENABLED")
    change = services.change_request_draft_create(kind="rule", action="update", environment=production,
                                                  author=users["operator"], target=rule,
                                                  spec=spec("processing-bucket-2", [lambda_target]))
    services.change_request_submit(change, actor=users["operator"])

    sign_in("reviewer", PASSWORD)
    page.get_by_role("link", name="Reviews").click()
    page.get_by_role("checkbox", name="Waiting for me").check()
    page.get_by_role("row").filter(has_text=NAME).get_by_role("link").first.click()

    # In words, before and after.
    pattern = page.get_by_test_id("pattern-difference")
    expect(pattern.get_by_role("heading", name="What it matches, in words")).to_be_visible()
    expect(pattern.get_by_test_id("pattern-words-1")).to_contain_text("Before")
    expect(pattern.get_by_test_id("pattern-words-1")).to_contain_text(
        'detail.bucket.name is "processing-bucket-1" (removed)')
    expect(pattern.get_by_test_id("pattern-words-2")).to_contain_text("After")
    expect(pattern.get_by_test_id("pattern-words-2")).to_contain_text(
        'detail.bucket.name is "processing-bucket-2" (added)')
    expect(pattern.get_by_test_id("pattern-words-2")).to_contain_text('source is "aws.s3"')

    # As structured JSON, line by line: the one line that goes and the one that comes, said in words.
    lines = pattern.get_by_test_id("pattern-json")
    expect(lines).to_contain_text('"detail-type": [')  # pretty JSON, not an escaped string
    expect(lines).not_to_contain_text('\\"')
    expect(lines.get_by_role("row").filter(has_text="removed")).to_have_count(1)
    expect(lines.get_by_role("row", name='- removed "processing-bucket-1"')).to_be_visible()
    expect(lines.get_by_role("row").filter(has_text="added")).to_have_count(1)
    expect(lines.get_by_role("row", name='+ added "processing-bucket-2"')).to_be_visible()

    # What it catches from the catalog, and what happens to the targets.
    expect(page.get_by_role("row", name=re.compile("S3 Object Created"))).to_contain_text("no longer matches")
    targets = page.get_by_test_id("targets-difference")
    expect(targets.get_by_test_id("target-row").filter(has_text="Topic1")).to_contain_text("removed")
    expect(targets.get_by_test_id("target-row").filter(has_text="Topic1")).to_contain_text(TOPIC)
    expect(targets.get_by_test_id("target-row").filter(has_text="Do_nothing")).to_contain_text("unchanged")
    expect(page.get_by_test_id("plan")).to_contain_text("PutRule")  # the plan stays beside it

    page.get_by_role("textbox", name="Reason").fill("Moved to bucket 2, SNS dropped: as asked")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1 [data-state]")).not_to_have_attribute("data-state", "submitted")
    expect(page.get_by_text("reviewer approved")).to_be_visible()
