"""Each step refuses bad input with the message at the field, and nothing typed is lost."""
import json

import pytest
from django.test import Client

from changes.models import ChangeRequest
from environments import aws
from tests.conftest import PASSWORD
from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


@pytest.fixture
def draft(operator, environment, demo_resources):
    return flow.start(operator, environment)


def errors_of(response, field: str) -> list[str]:
    form = response.context["form"]
    return list(form.errors.get(field, []))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "This field is required."),
    ("name", "bad name!", "Name may contain only letters, digits, '.', '-' and '_'."),
    ("name", "x" * 65, "Name must be at most 64 characters (it has 65)."),
    ("description", "d" * 513, "Description must be at most 512 characters (it has 513)."),
    ("event_bus", "no-such-bus", "There is no event bus named no-such-bus in Sandbox."),
])
def test_rule_detail_refuses_bad_fields(operator, draft, environment, field, value, message):
    response = flow.post(operator, draft, "detail", flow.detail(environment, **{field: value}))
    assert response.status_code == 200
    assert message in errors_of(response, field)
    # What was typed is kept in the draft, even though it is not valid.
    saved = ChangeRequest.objects.get(pk=draft).wizard["detail"][f"detail-{field}"]
    assert saved == [value]


def test_a_name_that_exists_on_the_bus_in_aws_is_refused_before_anything_is_sent(operator, draft, environment):
    aws.client(environment, "events").put_rule(Name="taken", EventPattern='{"source": ["x"]}')
    response = flow.post(operator, draft, "detail", flow.detail(environment, name="taken"))
    [error] = errors_of(response, "name")
    assert error == ("A rule named taken already exists on bus default in AWS. EventConsole has not listed it yet: "
                     f'run Discover now on <a href="/environments/{environment.pk}/">the environment page</a>, '
                     "then adopt it.")


def test_a_scheduled_rule_must_use_the_default_bus(operator, draft, environment):
    aws.client(environment, "events").create_event_bus(Name="orders")
    response = flow.post(operator, draft, "detail", flow.detail(environment, event_bus="orders", rule_type="schedule"))
    assert errors_of(response, "rule_type") == ["Scheduled rules can only be created on the default event bus."]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"pattern-creation_method": "json", "pattern-pattern_json": "{oops"}, "pattern_json", "Invalid JSON"),
    ({"pattern-creation_method": "json", "pattern-pattern_json": '{"detail": {"state": [{"numeric": [">"]}]}}'},
     "pattern_json", "detail.state"),
    ({"pattern-creation_method": "json", "pattern-pattern_json": '{"source": []}'}, "pattern_json", "source"),
    ({"pattern-f_bucket_values": ""}, "f_bucket_values", "Enter at least one value"),
    ({"pattern-detail_types": []}, "detail_types", "Choose at least one event"),
    ({"pattern-sample_type": "own", "pattern-sample_event": "[1"}, "sample_event", "not valid JSON"),
])
def test_event_pattern_refuses_bad_input(operator, draft, environment, data, field, message):
    flow.post(operator, draft, "detail", flow.detail(environment))
    response = flow.post(operator, draft, "pattern", {**flow.worked_example_pattern_form(), **data})
    assert response.status_code == 200
    assert any(message.lower() in e.lower() for e in errors_of(response, field)), response.context["form"].errors


def test_json_that_the_pattern_form_cannot_show_stays_in_the_editor_with_a_warning(operator, draft, environment):
    flow.post(operator, draft, "detail", flow.detail(environment))
    data = {**flow.worked_example_pattern_form(), "pattern-creation_method": "json",
            "pattern-pattern_json": json.dumps({"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "in/"}]}}})}
    response = flow.post(operator, draft, "pattern", data, go="switch:form")
    assert response.status_code == 200
    assert "can't be shown in the pattern form" in response.context["switch_warning"]
    assert response.context["form"]["creation_method"].value() == "json"
    # A pattern the form can show switches over, with its fields filled in.
    data["pattern-pattern_json"] = json.dumps(flow.WORKED_EXAMPLE_PATTERN)
    response = flow.post(operator, draft, "pattern", data, go="switch:form")
    form = response.context["form"]
    assert form["creation_method"].value() == "form" and form["f_bucket_values"].value() == "processing-bucket-1"


def _to_targets(operator, draft, environment):
    flow.post(operator, draft, "detail", flow.detail(environment))
    flow.post(operator, draft, "pattern", flow.worked_example_pattern_form())


def test_a_sixth_target_is_refused(operator, draft, environment, demo_resources):
    _to_targets(operator, draft, environment)
    six = [flow.target(i, demo_resources["lambda"], target_id=f"T{i}") for i in range(6)]
    response = flow.post(operator, draft, "targets", flow.targets(*six))
    assert response.status_code == 200
    assert response.context["form"].non_form_errors() == [
        "A rule can have at most 5 targets (an AWS quota that cannot be raised)."]


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"resource": ""}, "resource", "Choose a target, or enter its ARN."),
    ({"resource": "", "arn": "not-an-arn"}, "arn", "Enter an ARN"),
    ({"max_age": "25:00"}, "max_age", "between 00:01 and 24:00"),
    ({"max_age": "00:00"}, "max_age", "between 00:01 and 24:00"),
    ({"retry_attempts": "186"}, "retry_attempts", "Retry attempts must be between 0 and 185."),
    ({"input_mode": "constant", "input_constant": "{not json"}, "input_constant", "valid JSON"),
    ({"input_mode": "part", "input_path": ""}, "input_path", "JSONPath"),
    ({"input_mode": "transformer", "input_paths_map": '{"b": "$.detail.bucket.name"}',
      "input_template": '{"x": <missing>}'}, "input_template", "missing"),
    ({"dlq_mode": "this", "dlq_queue": ""}, "dlq_queue", "Choose the queue"),
    ({"target_id": "bad id!"}, "target_id", "Target ID may contain only"),
])
def test_target_fields_are_checked(operator, draft, environment, demo_resources, extra, field, message):
    _to_targets(operator, draft, environment)
    response = flow.post(operator, draft, "targets", flow.targets(flow.target(0, demo_resources["lambda"], **extra)))
    assert response.status_code == 200
    target_errors = response.context["form"].forms[0].errors.get(field, [])
    assert any(message in e for e in target_errors), response.context["form"].forms[0].errors


def test_a_step_function_target_needs_a_role_and_a_dlq_must_be_standard(operator, draft, environment):
    """Both are refused at the target step, where they are typed (they used to wait for Review)."""
    _to_targets(operator, draft, environment)
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    fifo = "arn:aws:sqs:us-east-1:123456789012:q.fifo"
    response = flow.post(operator, draft, "targets", flow.targets(flow.target(
        0, "", kind="states", arn=machine, dlq_mode="other", dlq_arn=fifo)))
    assert response.status_code == 200
    errors = response.context["form"].forms[0].errors
    assert errors["role"] == ["A Step Functions state machine target needs an execution role."]
    assert errors["dlq_arn"] == ["The dead-letter queue must be a standard queue, not FIFO."]


def test_tags_are_checked(operator, draft, environment, demo_resources):
    response = flow.post(operator, draft, "tags", {**flow.tags(**{"aws:owner": "x"})})
    assert "Tag keys starting with aws: are reserved for AWS." in response.context["form"].forms[0].errors["key"]


def test_schedule_rule_with_cron_errors_at_the_field_and_next_dates(operator, draft, environment, apply_inline):
    flow.post(operator, draft, "detail", flow.detail(environment, name="nightly", rule_type="schedule"))
    cron = {"schedule-schedule_kind": "cron", "schedule-minutes": "0", "schedule-hours": "24",
            "schedule-day_of_month": "*", "schedule-month": "*", "schedule-day_of_week": "?", "schedule-year": "*"}
    response = flow.post(operator, draft, "schedule", cron)
    assert any("Hours" in e for e in errors_of(response, "hours"))
    cron["schedule-hours"] = "23"
    cron["schedule-day_of_week"] = "*"
    response = flow.post(operator, draft, "schedule", cron)
    assert any('"?"' in e for e in errors_of(response, "day_of_week"))
    cron["schedule-day_of_week"] = "?"
    preview = operator.post(f"/rules/drafts/{draft}/schedule-preview/", cron)
    assert preview.content.count(b"<li>") == 10 and b"23:00 UTC" in preview.content
    assert flow.post(operator, draft, "schedule", cron).status_code == 302
    flow.post(operator, draft, "targets", flow.targets(flow.target(0, "", kind="other",
                                                                   arn="arn:aws:sqs:us-east-1:123456789012:eventconsole-dlq")))
    flow.post(operator, draft, "tags", flow.tags())
    operator.post(flow.step_url(draft, "review"), {"_go": "submit"})
    rule = aws.client(environment, "events").describe_rule(Name="nightly")
    assert rule["ScheduleExpression"] == "cron(0 23 * * ? *)" and "EventPattern" not in rule


def test_input_transformer_retry_policy_and_dlq_reach_aws(operator, draft, environment, demo_resources, apply_inline):
    _to_targets(operator, draft, environment)
    dlq = "arn:aws:sqs:us-east-1:123456789012:eventconsole-dlq"
    target = flow.target(0, demo_resources["lambda"], input_mode="transformer",
                         input_paths_map='{"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"}',
                         input_template='{"message": "New object <key> in <bucket>"}', max_age="01:30",
                         retry_attempts="3", dlq_mode="this", dlq_queue=dlq)
    assert flow.post(operator, draft, "targets", flow.targets(target)).status_code == 302
    preview = operator.post(f"/rules/drafts/{draft}/targets/0/preview/", flow.targets(target))
    assert b"New object" in preview.content and b"processing-bucket-1" in preview.content
    flow.post(operator, draft, "tags", flow.tags(team="ops"))
    operator.post(flow.step_url(draft, "review"), {"_go": "submit"})
    sent = aws.client(environment, "events").list_targets_by_rule(Rule="process-s3-objects-with-lambda")["Targets"][0]
    assert sent["InputTransformer"] == {"InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
                                        "InputTemplate": '{"message": "New object <key> in <bucket>"}'}
    assert sent["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 5400}
    assert sent["DeadLetterConfig"] == {"Arn": dlq}


def test_a_draft_is_resumed_after_signing_out(environment, demo_resources, users):
    browser = Client()
    assert browser.post("/accounts/login/", {"username": "operator", "password": PASSWORD}).status_code == 302
    draft = flow.start(browser, environment)
    flow.post(browser, draft, "detail", flow.detail(environment, name="half-done"))
    flow.post(browser, draft, "pattern", {**flow.worked_example_pattern_form(), "pattern-f_bucket_values": ""},
              go="save")  # not valid yet, saved anyway
    browser.post("/accounts/logout/")

    again = Client()
    again.post("/accounts/login/", {"username": "operator", "password": PASSWORD})
    listing = again.get("/rules/")
    assert b"half-done" in listing.content  # "Your drafts"
    step = again.get(flow.step_url(draft, "pattern"))
    assert step.context["form"]["service"].value() == "s3"
    assert step.context["form"]["f_bucket_mode"].value() == "specific"
    # Another user cannot open it.
    other = Client()
    other.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert other.get(flow.step_url(draft, "pattern")).status_code == 403


def test_test_pattern_on_real_aws_shows_aws_answer_beside_ours(client_for, users, monkeypatch, db):
    """On a real-AWS environment, Test pattern also asks TestEventPattern (answered here at the client
    factory, so nothing leaves the machine) and shows a disagreement instead of hiding it."""
    from environments.models import Environment

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    real = Environment.objects.create(name="Real", region="us-east-1", account_id="123456789012")
    asked = []

    def answer(client, environment, service):
        def reply(model, params, **kwargs):
            asked.append(model.name)
            if model.name == "TestEventPattern":
                return type("Http", (), {"status_code": 200, "headers": {}})(), {"Result": False}
            raise AssertionError(f"unexpected call {model.name}")
        client.meta.events.register("before-call", reply)

    aws.add_client_hook(answer)
    try:
        operator = client_for("operator")
        draft = flow.start(operator, real)
        data = {f"pattern-{k}": v for k, v in {
            "event_source": "aws", "sample_type": "aws", "sample_key": "s3-object-created",
            "creation_method": "json", "pattern_json": json.dumps(flow.WORKED_EXAMPLE_PATTERN)}.items()}
        result = operator.post(f"/rules/drafts/{draft}/pattern-test/", data)
    finally:
        aws.remove_client_hook(answer)
    body = result.content.decode()
    assert "Sample event matched the event pattern" in body
    assert "disagrees: AWS says no match" in body and asked == ["TestEventPattern"]
