"""Every sandbox / "which rules match" request is bounded: input sizes at AWS's limits, and a time budget."""
import json

import pytest
from django.urls import reverse

from rules.models import Rule
from tests.rules.flow import WORKED_EXAMPLE_PATTERN

pytestmark = pytest.mark.django_db

LIMIT = 256 * 1024  # PutEvents: an event entry is at most 256 KB


def _event(size: int) -> str:
    """A JSON object of exactly ``size`` bytes (UTF-8)."""
    head = '{"source": "x", "detail": {"pad": "'
    tail = '"}}'
    return head + "a" * (size - len(head) - len(tail)) + tail


def _sandbox(client, **fields):
    data = {"sample_key": "", "event": "", "pattern": json.dumps(WORKED_EXAMPLE_PATTERN), **fields}
    return client.post(reverse("rules:sandbox"), data)


def test_an_event_at_the_limit_is_accepted_one_byte_more_is_refused(client_for):
    client = client_for("viewer")
    page = _sandbox(client, event=_event(LIMIT))
    assert page.status_code == 200 and page.context["result"].matched is False
    page = _sandbox(client, event=_event(LIMIT + 1))
    assert page.status_code == 200 and page.context["result"] is None
    assert page.context["form"].errors["event"] == [
        "The event is 262,145 bytes; EventBridge events are at most 262,144 bytes (256 KB)."]
    page = client.post(reverse("rules:event_match"), {"sample_key": "", "event": _event(LIMIT + 1)})
    assert page.status_code == 200 and "262,145 bytes" in page.content.decode()


def test_multibyte_characters_count_as_bytes(client_for):
    event = _event(LIMIT - 3000)[:-3] + "é" * 1600 + '"}}'  # 1,600 more characters but 3,200 more bytes
    page = _sandbox(client_for("viewer"), event=event)
    assert "EventBridge events are at most" in page.context["form"].errors["event"][0]


def test_pattern_template_and_paths_limits(client_for):
    client = client_for("viewer")
    # Up to PutRule's 4,096 characters is accepted (the 2,048 quota is adjustable) ...
    long_ok = json.dumps({"source": ["x" * 4000]})
    assert _sandbox(client, pattern=long_ok, event='{"source": "x"}').context["result"].matched is False
    # ... beyond it is refused at the field.
    page = _sandbox(client, pattern=json.dumps({"source": ["x" * 5000]}), event='{"source": "x"}')
    assert page.context["form"].errors["pattern"] == ["The pattern is 5,016 characters; EventBridge accepts at most 4,096."]
    page = _sandbox(client, event='{"source": "x"}', input_template="x" * 8193)
    assert page.context["form"].errors["input_template"] == [
        "The template is 8,193 characters; EventBridge accepts at most 8,192."]
    paths = json.dumps({f"v{i}": "$.source" for i in range(101)})
    page = _sandbox(client, event='{"source": "x"}', input_paths_map=paths, input_template='"<v1>"')
    assert page.context["form"].errors["input_paths_map"] == [
        "The input path has 101 entries; EventBridge allows at most 100."]


def test_the_time_budget_ends_with_a_message_not_a_busy_worker(client_for, settings):
    settings.SANDBOX_TIME_BUDGET_SECONDS = 0  # every check of the deadline finds it passed
    client = client_for("viewer")
    page = _sandbox(client, event='{"source": "aws.ec2"}')  # does not match: the explanation checks the budget
    assert page.status_code == 200
    assert page.context["result"].matched is None
    body = page.content.decode()
    assert "Matching stopped after 0 s, its time budget" in body and 'data-testid="sandbox-budget"' in body


def test_which_rules_match_stops_at_the_budget(client_for, settings):
    from environments.models import Environment

    environment = Environment.objects.create(name="Sandbox", region="us-east-1", account_id="123456789012")
    spec = {"Rule": {"Name": "all-s3", "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": json.dumps({"source": ["aws.s3"]})}, "Targets": [], "Tags": []}
    Rule.objects.create(environment=environment, name="all-s3", desired_spec=spec, version=1)
    client = client_for("viewer")
    page = client.post(reverse("rules:event_match"), {"sample_key": "s3-object-created", "event": ""})
    assert [m.rule.name for m in page.context["matches"]] == ["all-s3"]  # within the default budget
    settings.SANDBOX_TIME_BUDGET_SECONDS = 0
    page = client.post(reverse("rules:event_match"), {"sample_key": "s3-object-created", "event": ""})
    assert page.status_code == 200 and "matches" not in page.context
    assert "Matching stopped after 0 s, its time budget" in page.content.decode()


def test_test_pattern_in_the_flow_stops_at_the_budget(client_for, environment, settings):
    from tests.rules import flow

    client = client_for("operator")
    draft = flow.start(client, environment)
    data = {**flow.worked_example_pattern_form(), "pattern-f_bucket_values": "another-bucket"}
    url = reverse("rules:pattern_test", args=[draft])
    page = client.post(url, data)
    assert 'data-testid="pattern-why"' in page.content.decode()  # within the default budget: why not
    settings.SANDBOX_TIME_BUDGET_SECONDS = 0
    page = client.post(url, data)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Matching stopped after 0 s, its time budget" in body and "pattern-why" not in body
