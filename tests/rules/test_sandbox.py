"""Sandbox and "which rules match this event?" pages."""
import json

import pytest
from django.urls import reverse

from rules import catalog
from rules.models import Rule
from rules.sandbox import rule_index
from tests.rules.flow import WORKED_EXAMPLE_PATTERN

pytestmark = pytest.mark.django_db


def test_sandbox_matches_and_explains(client_for):
    client = client_for("viewer")
    assert client.get(reverse("rules:sandbox")).status_code == 200
    data = {"sample_key": "s3-object-created", "event": "", "pattern": json.dumps(WORKED_EXAMPLE_PATTERN)}
    page = client.post(reverse("rules:sandbox"), data)
    assert page.context["result"].matched is True
    other = {**WORKED_EXAMPLE_PATTERN, "detail": {"bucket": {"name": ["another-bucket"]}}}
    page = client.post(reverse("rules:sandbox"), {**data, "pattern": json.dumps(other)}, HTTP_HX_REQUEST="true")
    body = page.content.decode()
    assert "did not match" in body and "detail.bucket.name" in body and "another-bucket" in body


def test_sandbox_input_transformer_output(client_for):
    data = {"sample_key": "s3-object-created", "event": "", "pattern": json.dumps(WORKED_EXAMPLE_PATTERN),
            "input_paths_map": '{"bucket": "$.detail.bucket.name"}', "input_template": '"New object in <bucket>"'}
    page = client_for("viewer").post(reverse("rules:sandbox"), data)
    assert page.context["result"].output == '"New object in processing-bucket-1"'


@pytest.mark.parametrize(("field", "value", "message"), [
    ("pattern", '{"source": "aws.s3"}', "source"),
    ("pattern", "{", "invalid JSON"),
    ("event", "[1]", "The event must be a JSON object."),
    ("input_paths_map", "{oops", "The input path is not valid JSON"),
])
def test_sandbox_bad_input_is_explained_not_a_500(client_for, field, value, message):
    data = {"sample_key": "s3-object-created", "event": "", "pattern": json.dumps(WORKED_EXAMPLE_PATTERN),
            field: value}
    page = client_for("viewer").post(reverse("rules:sandbox"), data)
    assert page.status_code == 200
    assert any(message.lower() in e.lower() for e in page.context["form"].errors[field])


def _rule(environment, name, pattern, targets, bus="default", state="ENABLED"):
    spec = {"Rule": {"Name": name, "EventBusName": bus, "State": state, "EventPattern": json.dumps(pattern)},
            "Targets": targets, "Tags": []}
    return Rule.objects.create(environment=environment, name=name, event_bus_name=bus, desired_spec=spec, version=1,
                               state=state)


@pytest.fixture
def envs(db):
    from environments.models import Environment

    return (Environment.objects.create(name="Sandbox", region="us-east-1", account_id="123456789012"),
            Environment.objects.create(name="Production", region="eu-west-1", account_id="123456789012"))


def test_which_rules_match_across_environments_and_buses_with_target_payloads(client_for, envs):
    sandbox, production = envs
    lam = "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing"
    _rule(sandbox, "process-s3-objects-with-lambda", WORKED_EXAMPLE_PATTERN, [
        {"Id": "Target1", "Arn": lam},
        {"Id": "Target2", "Arn": "arn:aws:sns:us-east-1:123456789012:Topic1",
         "InputTransformer": {"InputPathsMap": {"key": "$.detail.object.key"}, "InputTemplate": '"got <key>"'}}])
    _rule(production, "all-s3", {"source": ["aws.s3"]}, [{"Id": "q", "Arn": "arn:aws:sqs:eu-west-1:1:q",
                                                          "InputPath": "$.detail.bucket"}], bus="audit")
    _rule(sandbox, "ec2-only", {"source": ["aws.ec2"]}, [{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:1:q"}])
    page = client_for("viewer").post(reverse("rules:event_match"), {"sample_key": "s3-object-created", "event": ""})
    matches = {m.rule.name: m for m in page.context["matches"]}
    assert set(matches) == {"process-s3-objects-with-lambda", "all-s3"}
    deliveries = matches["process-s3-objects-with-lambda"].deliveries
    event = catalog.sample("s3-object-created")
    assert json.loads(deliveries[0].payload) == event
    assert deliveries[1].payload == f'"got {event["detail"]["object"]["key"]}"'
    assert json.loads(matches["all-s3"].deliveries[0].payload) == {"name": "processing-bucket-1"}


def test_the_index_is_rebuilt_when_rules_change(envs):
    sandbox, _ = envs
    first = rule_index()
    assert rule_index() is first
    _rule(sandbox, "new", {"source": ["x"]}, [])
    assert rule_index() is not first and rule_index().index.match({"source": "x"})
