"""Hostile input gets a clear error at the field, never a 500 (the cases reported in issue 9).

Each test posts what the report posted and asserts the message the person sees.
"""
from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from audit.services import audit_verify_chain
from changes import services
from changes.choices import ChangeState
from changes.models import ChangeRequest, Comment, Review
from schedules.models import Schedule
from rules.models import Rule
from tests.rules import flow as rule_flow
from tests.schedules import flow as schedule_flow

pytestmark = pytest.mark.django_db

DEEP = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
MID = "[" * 1000 + "]" * 1000  # 1,000 levels in 2,000 characters: inside every size limit
MID_OBJECT = '{"a":' * 300 + "1" + "}" * 300
DEPTH_MESSAGE = "nested more than 100 levels deep"
SURROGATE_PATTERN = '{"source": ["\\ud800"]}'
NUL_PATTERN = '{"source": ["aws.s3\\u0000"]}'
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:Do_nothing"


def client_for_user(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def errors_of(response, field: str, form: str = "form") -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.context[form].errors.get(field, []))


# ---------------------------------------------------------------------------------------------
# JSON nested 10,000 levels deep (RecursionError)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["pattern", "event", "input_paths_map"])
@pytest.mark.parametrize("deep", [DEEP, MID, MID_OBJECT])
def test_deep_json_in_the_sandbox_is_a_field_error(users, field, deep):
    data = {"sample_key": "s3-object-created", "event": "", "pattern": '{"source": ["aws.s3"]}',
            "input_paths_map": "", "input_template": "", field: deep}
    response = client_for_user(users["viewer"]).post(reverse("rules:sandbox"), data)
    message = errors_of(response, field)
    if deep in (MID, MID_OBJECT) or field == "event":
        assert DEPTH_MESSAGE in message
    else:  # longer than the field's AWS limit: that is said first
        assert (f"The pattern is {len(deep):,} characters; EventBridge accepts at most 4,096." in message
                or "it must have length less than or equal to 8,192 (AWS's limit for target input)" in message)


def test_deep_json_in_the_sandbox_template_is_explained(users):
    data = {"sample_key": "s3-object-created", "event": "", "pattern": '{"source": ["aws.s3"]}',
            "input_paths_map": "", "input_template": "[" * 8000 + "]" * 192}
    response = client_for_user(users["viewer"]).post(reverse("rules:sandbox"), data)
    assert response.status_code == 200
    assert DEPTH_MESSAGE in response.context["result"].transform_error


@pytest.mark.parametrize("deep", [DEEP, DEEP_OBJECT])
def test_deep_json_in_event_match_is_a_field_error(users, deep):
    response = client_for_user(users["viewer"]).post(reverse("rules:event_match"), {"event": deep})
    assert "The event is not accepted: it is " + DEPTH_MESSAGE in errors_of(response, "event")


@pytest.fixture
def rule_draft(users, environment):
    return services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                author=users["operator"], spec={})


def own_sample(pattern_json: str, sample: str) -> dict:
    return {"pattern-event_source": "other", "pattern-creation_method": "json", "pattern-pattern_json": pattern_json,
            "pattern-sample_type": "own", "pattern-sample_event": sample}


@pytest.mark.aws
def test_deep_json_in_pattern_test_and_preview(users, rule_draft):
    client = client_for_user(users["operator"])
    good = '{"source": ["aws.s3"]}'
    for name in ("rules:pattern_test", "rules:pattern_preview"):
        response = client.post(reverse(name, args=[rule_draft.pk]), own_sample(MID, '{"source": "aws.s3"}'))
        assert response.status_code == 200 and b"nested more than 100 levels deep" in response.content
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, "pattern"]),
                           {**own_sample(good, DEEP), "_go": "next"})
    assert "The sample event is not accepted: it is " + DEPTH_MESSAGE in errors_of(response, "sample_event")


@pytest.mark.aws
@pytest.mark.parametrize(("mode", "field", "extra"), [
    ("constant", "input_constant", {}),
    ("transformer", "input_paths_map", {"input_template": '"x"'}),
    ("transformer", "input_template", {"input_paths_map": ""}),
])
def test_deep_json_in_target_input_is_a_field_error(users, rule_draft, mode, field, extra):
    client = client_for_user(users["operator"])
    value = "[" * 8000 + "]" * 192 if field == "input_template" else MID
    data = rule_flow.targets(rule_flow.target(0, LAMBDA, input_mode=mode, **{field: value}, **extra))
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, "targets"]), {**data, "_go": "next"})
    assert response.status_code == 200
    assert DEPTH_MESSAGE in " ".join(response.context["form"].forms[0].errors.get(field, []))
    preview = client.post(reverse("rules:target_preview", args=[rule_draft.pk, 0]), data)
    assert preview.status_code == 200


@pytest.fixture
def schedule_draft(users, environment):
    return services.change_request_draft_create(kind="schedule", action="create", environment=environment,
                                                author=users["operator"], spec={})


@pytest.mark.aws
@pytest.mark.parametrize("target", [
    schedule_flow.universal(input_text=DEEP),
    schedule_flow.templated("lambda", LAMBDA, input_text=DEEP),
])
def test_deep_json_in_schedule_input_is_a_field_error(users, schedule_draft, target):
    response = client_for_user(users["operator"]).post(
        reverse("schedules:draft_step", args=[schedule_draft.pk, "target"]), {**target, "_go": "next"})
    assert DEPTH_MESSAGE in errors_of(response, "input")


# ---------------------------------------------------------------------------------------------
# A lone surrogate and an escaped NUL inside JSON text
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    (SURROGATE_PATTERN, "unpaired surrogate (\\ud800)"),
    (NUL_PATTERN, "NUL character (\\u0000)"),
    ('{"source": ["a"], "\\u0000": ["b"]}', "NUL character (\\u0000)"),
])
def test_surrogates_and_nul_in_sandbox_json_are_field_errors(users, text, message):
    client = client_for_user(users["viewer"])
    response = client.post(reverse("rules:sandbox"), {"sample_key": "s3-object-created", "pattern": text})
    assert message in errors_of(response, "pattern")
    response = client.post(reverse("rules:event_match"), {"event": text.replace('["', '"').replace('"]', '"')})
    assert message in errors_of(response, "event")


@pytest.mark.aws
@pytest.mark.parametrize(("text", "message"), [(SURROGATE_PATTERN, "unpaired surrogate"),
                                               (NUL_PATTERN, "NUL character")])
def test_surrogates_and_nul_in_the_rule_flow_are_field_errors_and_the_chain_holds(users, rule_draft, text, message):
    client = client_for_user(users["operator"])
    for name in ("rules:pattern_test", "rules:pattern_preview"):
        response = client.post(reverse(name, args=[rule_draft.pk]), own_sample(text, '{"source": "x"}'))
        assert response.status_code == 200 and message.encode() in response.content
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, "pattern"]),
                           {**own_sample(text, '{"source": "x"}'), "_go": "next"})
    assert message in errors_of(response, "pattern_json")
    data = rule_flow.targets(rule_flow.target(0, LAMBDA, input_mode="constant",
                                              input_constant=text.replace("source", "s")))
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, "targets"]), {**data, "_go": "next"})
    assert message in " ".join(response.context["form"].forms[0].errors.get("input_constant", []))
    assert audit_verify_chain() is None


@pytest.mark.aws
def test_invalid_utf8_in_a_description_is_stored_as_replacement_characters(users, rule_draft):
    client = client_for_user(users["operator"])
    body = "&".join(f"{k}={v}" for k, v in rule_flow.detail(rule_draft.environment).items()
                    if k != "detail-description")
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, "detail"]),
                           body + "&detail-description=%ED%A0%80%FF&_go=save",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    rule_draft.refresh_from_db()
    assert rule_draft.wizard["detail"]["detail-description"] == ["\ufffd" * 4]
    assert audit_verify_chain() is None


# ---------------------------------------------------------------------------------------------
# Sign-in names longer than the database column
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [151, 256, 5000])
def test_a_very_long_sign_in_name_gets_the_forms_error(users, length):
    client = Client(raise_request_exception=False)
    response = client.post(reverse("login"), {"username": "u" * length, "password": "x"})
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in " ".join(response.context["form"].errors["username"])
    response = client.post(reverse("login"), {"username": "é" * length, "password": ""})
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Objects in odd states: pending create, deleted, never applied
# ---------------------------------------------------------------------------------------------
SCHEDULE_SPEC = {"Name": "nightly", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
                 "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
                 "Target": {"Arn": LAMBDA.replace("us-east-1", "eu-west-1"),
                            "RoleArn": "arn:aws:iam::123456789012:role/any"}}
RULE_SPEC = {"Rule": {"Name": "pending-rule", "EventBusName": "default", "State": "ENABLED",
                      "EventPattern": '{"source":["x"]}'},
             "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}], "Tags": []}


@pytest.mark.aws
@pytest.mark.parametrize(("kind", "spec", "model", "app"), [
    ("schedule", SCHEDULE_SPEC, Schedule, "schedules"), ("rule", RULE_SPEC, Rule, "rules")])
def test_cloning_an_object_whose_create_is_pending_opens_a_copy(users, production, kind, spec, model, app):
    change = services.change_request_draft_create(kind=kind, action="create", environment=production,
                                                  author=users["operator"], spec=spec)
    services.change_request_submit(change, actor=users["operator"])
    assert change.state == ChangeState.SUBMITTED
    target = model.objects.get()
    assert target.desired_spec is None  # not in AWS yet
    client = client_for_user(users["operator"])
    response = client.post(reverse(f"{app}:{kind}_action", args=[target.pk, "clone"]))
    assert response.status_code == 302
    clone = ChangeRequest.objects.exclude(pk=change.pk).get()
    assert response["Location"] == reverse(f"{app}:draft_step", args=[clone.pk, "detail"])
    page = client.get(response["Location"])
    assert page.status_code == 200
    name = page.context["form"]["name"].value()
    assert name.endswith("-copy")
    for action in ("edit", "enable", "disable", "delete"):
        response = client.post(reverse(f"{app}:{kind}_action", args=[target.pk, action]))
        assert response.status_code == 302
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any("its first change is still pending" in m for m in messages), messages


# ---------------------------------------------------------------------------------------------
# Comments and review reasons are bounded
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def submitted(users, production):
    change = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                  author=users["operator"], spec=RULE_SPEC)
    services.change_request_submit(change, actor=users["operator"])
    return change


@pytest.mark.aws
def test_a_megabyte_comment_is_refused_with_the_limit(users, submitted):
    client = client_for_user(users["reviewer"])
    url = reverse("changes:change_action", args=[submitted.pk, "comment"])
    response = client.post(url, {"body": "x" * 1_000_000}, follow=True)
    assert response.status_code == 200
    assert "A comment can be at most 4,000 characters (this one has 1,000,000)." in response.content.decode()
    assert not Comment.objects.exists()
    client.post(url, {"body": "y" * 4000})
    assert Comment.objects.get().body == "y" * 4000
    with pytest.raises(ValueError, match="at most 4,000 characters"):
        services.change_request_comment(submitted, author=users["reviewer"], body="z" * 4001)


@pytest.mark.aws
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_megabyte_review_reason_is_refused_with_the_limit(users, submitted, action):
    client = client_for_user(users["reviewer"])
    response = client.post(reverse("changes:change_action", args=[submitted.pk, action]),
                           {"reason": "r" * 1_000_000}, follow=True)
    assert response.status_code == 200
    assert "A reason can be at most 2,000 characters (this one has 1,000,000)." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == ChangeState.SUBMITTED and not Review.objects.exists()
    with pytest.raises(ValueError, match="at most 2,000 characters"):
        getattr(services, f"change_request_{action}")(submitted, reviewer=users["reviewer"], reason="r" * 2001)


# ---------------------------------------------------------------------------------------------
# A 403 logs one line, a 500 still logs its traceback
# ---------------------------------------------------------------------------------------------
def test_permission_denied_logs_one_line_without_a_traceback(users, caplog):
    client = client_for_user(users["viewer"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(reverse("rules:rule_add"), {})
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.exc_info is None and record.exc_text is None
    assert record.getMessage() == "Forbidden: POST /rules/new/ (user viewer)"
    assert "Traceback" not in caplog.text


def test_a_server_error_still_logs_its_traceback(users, caplog, settings):
    from django.core.handlers.exception import response_for_exception
    from django.test import RequestFactory

    request = RequestFactory().get("/boom/")
    request.user = users["viewer"]
    with caplog.at_level(logging.ERROR, logger="django.request"):
        try:
            raise ZeroDivisionError("boom")
        except ZeroDivisionError as exc:
            response = response_for_exception(request, exc)
    assert response.status_code == 500
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


# ---------------------------------------------------------------------------------------------
# The audit chain is the last line of defence: what it cannot hash or store is replaced, not a 500
# ---------------------------------------------------------------------------------------------
def test_the_audit_chain_replaces_what_it_cannot_hash(users):
    from audit.models import AuditEvent
    from audit.services import audit_record

    audit_record(action="commented", object_type="rule", object_id=1, object_repr="r\ud800",
                 actor=users["operator"], message="bad \ud800 and \x00 here",
                 before={"Description": "a\udfffb"}, after={"Description": "ok", "k\x00": ["\\u0000 stays text"]})
    event = AuditEvent.objects.latest("id")
    assert event.message == "bad \ufffd and \ufffd here" and event.object_repr == "r\ufffd"
    assert event.before == {"Description": "a\ufffdb"}
    assert event.after == {"Description": "ok", "k\ufffd": ["\\u0000 stays text"]}
    assert {"path": "Description", "old": "a\ufffdb", "new": "ok"} in event.diff
    assert audit_verify_chain() is None


# ---------------------------------------------------------------------------------------------
# Drafts: forged buttons, junk-sized boxes
# ---------------------------------------------------------------------------------------------
@pytest.mark.aws
@pytest.mark.parametrize("step", ["detail", "review"])
@pytest.mark.parametrize("go", ["step:a/b", "step:\u202e"])
def test_a_forged_step_button_stays_on_the_step(users, rule_draft, step, go):
    client = client_for_user(users["operator"])
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, step]), {"_go": go})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] == reverse("rules:draft_step", args=[rule_draft.pk, step]) or step == "review"


@pytest.mark.aws
def test_a_junk_sized_box_is_refused_and_the_draft_keeps_what_it_had(users, rule_draft):
    client = client_for_user(users["operator"])
    saved = rule_flow.detail(rule_draft.environment, name="keep-me")
    client.post(reverse("rules:draft_step", args=[rule_draft.pk, "detail"]), {**saved, "_go": "save"})
    rule_draft.refresh_from_db()
    before = rule_draft.wizard
    response = client.post(reverse("rules:draft_step", args=[rule_draft.pk, "detail"]),
                           {**saved, "detail-description": "d" * 300_001, "_go": "save"})
    assert response.status_code == 200
    assert "description: at most 300,000 characters can be typed in one box; nothing was saved." in [
        str(m) for m in response.context["messages"]]
    rule_draft.refresh_from_db()
    assert rule_draft.wizard == before and before["detail"]["detail-name"] == ["keep-me"]


def test_http_delete_never_bypasses_the_delete_service(users, environment):
    from environments.models import Environment

    services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                         author=users["operator"], spec={})  # the environment is in use
    response = client_for_user(users["admin"]).delete(reverse("environments:environment_delete",
                                                              args=[environment.pk]))
    assert response.status_code == 405
    assert Environment.objects.filter(pk=environment.pk).exists()
