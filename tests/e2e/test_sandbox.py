"""In a real browser: the sandbox shows a match for the S3 Object Created sample against the worked-example
pattern, and a clear "why not" for a different bucket."""
import json

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sandbox_match_and_why_not(page, sign_in, users):
    sign_in("viewer", PASSWORD)
    page.get_by_role("link", name="Rules").click()
    page.get_by_role("link", name="Sandbox").click()
    page.get_by_role("combobox", name="Sample event").select_option(label="S3 Object Created")
    expect(page.get_by_role("textbox", name="Event (JSON)")).to_have_value(
        __import__("re").compile(r'"name": "processing-bucket-1"'))
    pattern = page.get_by_role("textbox", name="Event pattern")
    pattern.fill(json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                             "detail": {"bucket": {"name": ["processing-bucket-1"]}}}))
    page.get_by_role("button", name="Test pattern").click()
    expect(page.get_by_test_id("sandbox-result")).to_contain_text("Sample event matched the event pattern")

    pattern.fill(json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                             "detail": {"bucket": {"name": ["another-bucket"]}}}))
    page.get_by_role("button", name="Test pattern").click()
    why = page.get_by_test_id("sandbox-why")
    expect(page.get_by_test_id("sandbox-result")).to_contain_text("did not match")
    expect(why).to_contain_text("detail.bucket.name")
    expect(why).to_contain_text("another-bucket")
    expect(why).to_contain_text("processing-bucket-1")
