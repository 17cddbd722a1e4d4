"""The difference a reviewer approves, part by part (issue 13): the worked example rule created and edited,
a target changed field by field, tags key by key, a schedule's expression moved an hour, deletes and
enable/disable, and drafts whose spec cannot be read. Expected values are written out by hand from the
issue's examples (pretty JSON lines, sentences, calendar dates), never computed by the code under test."""
import html
import json
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.urls import reverse

from changes import services
from changes.choices import ChangeState
from changes.review_difference import Line, review_difference
from rules.models import Rule
from schedules.models import Schedule
from tests.rules.flow import WORKED_EXAMPLE_PATTERN

pytestmark = pytest.mark.django_db

NAME = "process-s3-objects-with-lambda"
LAMBDA = "arn:aws:lambda:eu-west-1:123456789012:function:Do_nothing"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:Topic1"
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def rule_spec(pattern=None, targets=None, tags=None, **rule) -> dict:
    body = {"Name": NAME, "EventBusName": "default", "State": "ENABLED",
            "EventPattern": json.dumps(WORKED_EXAMPLE_PATTERN if pattern is None else pattern), **rule}
    return {"Rule": body,
            "Targets": [{"Id": "Do_nothing", "Arn": LAMBDA}, {"Id": "Topic1", "Arn": TOPIC}] if targets is None
            else targets,
            "Tags": tags or []}


def existing_rule(environment, spec: dict) -> Rule:
    """The rule as EventConsole manages it after its first apply (version 1, that spec desired)."""
    return Rule.objects.create(environment=environment, name=NAME, event_bus_name="default", desired_spec=spec,
                               version=1, state="ENABLED")


def edit(users, environment, obj, spec: dict, kind="rule", action="update"):
    return services.change_request_draft_create(kind=kind, action=action, environment=environment,
                                                author=users["operator"], spec=spec, target=obj)


def page_text(client, change) -> str:
    response = client.get(reverse("changes:change_detail", args=[change.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def section(text: str) -> str:
    """The difference on the page (the Proposed spec at the bottom holds the API's own escaped text)."""
    return text.split('data-testid="diff"')[1].split("</section>")[0]


# ---------------------------------------------------------------------------------------------
# The worked example rule, created
# ---------------------------------------------------------------------------------------------
def test_a_new_rule_shows_its_pattern_as_json_in_words_its_samples_and_each_target(users, production,
                                                                                   client_for):
    change = services.change_request_draft_create(
        kind="rule", action="create", environment=production, author=users["operator"],
        spec=rule_spec(tags=[{"Key": "team", "Value": "data"}]))
    services.change_request_submit(change, actor=users["operator"])
    assert change.state == ChangeState.SUBMITTED

    shown = section(page_text(client_for("reviewer"), change))
    assert "a new rule: all of it is added" in shown
    # Structured, pretty JSON: the pattern's own lines, never an escaped string inside JSON.
    for line in ('"detail": {', '"bucket": {', '"name": [', '"processing-bucket-1"', '"detail-type": [',
                 '"Object Created"', '"source": [', '"aws.s3"'):
        assert line in shown
    assert '\\"' not in shown and "…" not in shown
    for sentence in ('source is "aws.s3"', 'detail-type is "Object Created"',
                     'detail.bucket.name is "processing-bucket-1"'):
        assert sentence in shown
    samples = shown.split('data-testid="pattern-samples"')[1].split("</table>")[0]
    assert "S3 Object Created" in samples and "S3 Object Deleted" not in samples
    targets = shown.split('data-testid="targets-difference"')[1]
    assert targets.count('data-testid="target-row" data-status="added"') == 2
    assert LAMBDA in targets and TOPIC in targets and "The matched event" in targets
    tags = shown.split('data-testid="tags-difference"')[1]
    assert "team" in tags and "data" in tags


def test_the_worked_example_parts_are_read_as_the_issue_lists_them(users, environment):
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=users["operator"], spec=rule_spec())
    difference = review_difference(change, now=NOW)
    assert difference.mode == "create"
    assert difference.after.pattern == WORKED_EXAMPLE_PATTERN
    assert difference.after.pattern_words == [['source is "aws.s3"', 'detail-type is "Object Created"',
                                               'detail.bucket.name is "processing-bucket-1"']]
    assert difference.after.samples == ["S3 Object Created"]
    assert [(t.id, t.status) for t in difference.targets] == [("Do_nothing", "added"), ("Topic1", "added")]
    assert {row.label: row.after for row in difference.targets[0].fields} == {
        "ARN": LAMBDA, "Input": "The matched event", "Role": "None",
        "Retry policy": "Not set: AWS retries for up to 24 hours, at most 185 times", "Dead-letter queue": "None"}
    assert {row.label: row.after for row in difference.settings} == {
        "Name": NAME, "EventBusName": "default", "State": "ENABLED"}


# ---------------------------------------------------------------------------------------------
# The worked example rule, edited: another bucket, one target fewer
# ---------------------------------------------------------------------------------------------
BUCKET_2 = {"source": ["aws.s3"], "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": ["processing-bucket-2"]}}}


def test_an_edit_shows_the_pattern_line_by_line_in_words_the_samples_and_the_removed_target(
        users, production, client_for):
    rule = existing_rule(production, rule_spec())
    change = edit(users, production, rule, rule_spec(pattern=BUCKET_2, targets=[{"Id": "Do_nothing", "Arn": LAMBDA}]))
    services.change_request_submit(change, actor=users["operator"])

    difference = review_difference(change, now=NOW)
    assert difference.mode == "edit" and difference.pattern_changed
    # The pattern as pretty JSON (keys sorted, two spaces), written out by hand: one line out, one in.
    assert difference.pattern_lines == [
        Line(" ", "{"), Line(" ", '  "detail": {'), Line(" ", '    "bucket": {'), Line(" ", '      "name": ['),
        Line("-", '        "processing-bucket-1"'), Line("+", '        "processing-bucket-2"'),
        Line(" ", "      ]"), Line(" ", "    }"), Line(" ", "  },"), Line(" ", '  "detail-type": ['),
        Line(" ", '    "Object Created"'), Line(" ", "  ],"), Line(" ", '  "source": ['), Line(" ", '    "aws.s3"'),
        Line(" ", "  ]"), Line(" ", "}")]
    assert difference.before.pattern_words[0][2] == 'detail.bucket.name is "processing-bucket-1"'
    assert difference.after.pattern_words[0][2] == 'detail.bucket.name is "processing-bucket-2"'
    assert [(s.label, s.before, s.after, s.words) for s in difference.samples] == [
        ("S3 Object Created", True, False, "no longer matches")]
    assert [(t.id, t.status) for t in difference.targets] == [("Do_nothing", "unchanged"), ("Topic1", "removed")]
    assert [row.status for row in difference.settings] == ["", "", ""]

    shown = section(page_text(client_for("reviewer"), change))
    assert "version 1 → this change" in shown
    table = shown.split('data-testid="pattern-json"')[1].split("</table>")[0]
    # Signs and words, not colour only.
    assert '<td class="review-sign">-</td><td class="review-word small">removed</td>' in table
    assert '<td class="review-sign">+</td><td class="review-word small">added</td>' in table
    assert '"processing-bucket-1"' in table and '"processing-bucket-2"' in table
    assert 'detail.bucket.name is "processing-bucket-1" <strong class="review-mark">(removed)</strong>' in shown
    assert 'detail.bucket.name is "processing-bucket-2" <strong class="review-mark">(added)</strong>' in shown
    assert 'source is "aws.s3"</li>' in shown  # the same on both sides: no mark
    assert "no longer matches" in shown
    assert 'data-status="removed"' in shown and TOPIC in shown


def test_a_changed_target_is_compared_field_by_field(users, environment):
    queue = "arn:aws:sqs:us-east-1:123456789012:dead-letters"
    role = "arn:aws:iam::123456789012:role/events-to-lambda"
    before = rule_spec(targets=[{"Id": "Do_nothing", "Arn": LAMBDA,
                                 "RetryPolicy": {"MaximumRetryAttempts": 100, "MaximumEventAgeInSeconds": 7200}}])
    after = rule_spec(targets=[{"Id": "Do_nothing", "Arn": LAMBDA, "RoleArn": role,
                                "Input": '{"mode":"test","retries":2}',
                                "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
                                "DeadLetterConfig": {"Arn": queue}}])
    change = edit(users, environment, existing_rule(environment, before), after)
    (target,) = review_difference(change, now=NOW).targets
    assert target.status == "changed"
    assert [(row.label, row.before, row.after, row.status) for row in target.fields] == [
        ("ARN", LAMBDA, LAMBDA, ""),
        ("Input", "The matched event", '{\n  "mode": "test",\n  "retries": 2\n}', "changed"),
        ("Role", "None", role, "changed"),
        ("Retry policy", "at most 100 retries, for up to 2 hours (7200 s)",
         "at most 10 retries, for up to 1 hour (3600 s)", "changed"),
        ("Dead-letter queue", "None", queue, "changed")]


def test_an_input_transformer_shows_its_paths_and_template_whole(users, environment):
    template = '"Bucket <bucket> got <key> " ' + "x" * 300  # longer than any cut the old page made
    after = rule_spec(targets=[{"Id": "Do_nothing", "Arn": LAMBDA, "InputTransformer": {
        "InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
        "InputTemplate": template}}])
    change = edit(users, environment, existing_rule(environment, rule_spec()), after)
    fields = {row.label: (row.before, row.after) for row in review_difference(change, now=NOW).targets[0].fields}
    assert fields["Input"] == ("The matched event", "Input transformer")
    assert fields["Input paths"] == (None, '{\n  "bucket": "$.detail.bucket.name",\n  "key": "$.detail.object.key"\n}')
    assert fields["Input template"] == (None, template)


def test_tags_are_key_value_changes(users, environment, client_for):
    before = rule_spec(tags=[{"Key": "team", "Value": "data"}, {"Key": "cost", "Value": "42"},
                             {"Key": "old", "Value": "yes"}])
    after = rule_spec(tags=[{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "42"},
                            {"Key": "owner", "Value": "ana"}])
    change = edit(users, environment, existing_rule(environment, before), after)
    rows = review_difference(change, now=NOW).tags
    assert sorted((row.label, row.before, row.after, row.status) for row in rows) == [
        ("cost", "42", "42", ""), ("old", "yes", None, "removed"), ("owner", None, "ana", "added"),
        ("team", "data", "platform", "changed")]
    tags = section(page_text(client_for("operator"), change)).split('data-testid="tags-difference"')[1]
    for word in ("added", "removed", "changed", "unchanged"):
        assert f">{word}<" in tags


# ---------------------------------------------------------------------------------------------
# A schedule edited: 23:00 → 22:00 in Europe/London
# ---------------------------------------------------------------------------------------------
def schedule_spec(expression: str) -> dict:
    return {"Name": "Start_batch_server_11PM", "GroupName": "default", "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": "Europe/London", "State": "ENABLED", "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "NONE",
            "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
                       "RoleArn": "arn:aws:iam::123456789012:role/scheduler-batch",
                       "Input": '{"InstanceIds":["i-0123456789abcdef0"]}',
                       "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 86400}}}


def schedule_edit(users, environment, before: str, after: str):
    schedule = Schedule.objects.create(environment=environment, name="Start_batch_server_11PM", group_name="default",
                                       desired_spec=schedule_spec(before), version=1, state="ENABLED")
    return edit(users, environment, schedule, schedule_spec(after), kind="schedule")


def local(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/London"))


def test_a_schedule_edit_shows_the_expression_in_words_and_the_next_runs_before_and_after(users, environment):
    change = schedule_edit(users, environment, "cron(0 23 * * ? *)", "cron(0 22 * * ? *)")
    # 2025-03-27 12:00 UTC: the clocks go forward on Sunday 30 March, so the runs from then on are BST.
    difference = review_difference(change, now=datetime(2025, 3, 27, 12, 0, tzinfo=UTC))
    assert difference.schedule_changed
    assert (difference.before.expression_words, difference.after.expression_words) == (
        "At 23:00, every day", "At 22:00, every day")
    assert difference.before.timezone == difference.after.timezone == "Europe/London"
    assert [run.astimezone(UTC) for run in difference.before.runs] == [
        datetime(2025, 3, 27, 23, 0, tzinfo=UTC), datetime(2025, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2025, 3, 29, 23, 0, tzinfo=UTC), datetime(2025, 3, 30, 22, 0, tzinfo=UTC),
        datetime(2025, 3, 31, 22, 0, tzinfo=UTC)]
    assert difference.before.runs == [local(2025, 3, d, 23, 0) for d in (27, 28, 29, 30, 31)]
    assert difference.after.runs == [local(2025, 3, d, 22, 0) for d in (27, 28, 29, 30, 31)]
    (target,) = difference.targets
    assert target.status == "unchanged" and target.id == "Target"
    fields = {row.label: row.after for row in target.fields}
    assert fields["Input"] == '{\n  "InstanceIds": [\n    "i-0123456789abcdef0"\n  ]\n}'
    assert fields["Retry policy"] == "Off (no retries)"


def test_the_schedule_page_prints_the_runs_in_the_schedules_own_zone(users, environment, client_for):
    change = schedule_edit(users, environment, "cron(0 23 * * ? *)", "cron(0 22 * * ? *)")
    summer = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=summer):  # Django's clock, not our code
        shown = section(page_text(client_for("operator"), change))
    schedule = shown.split('data-testid="schedule-difference"')[1]
    assert "At 23:00, every day" in schedule and "At 22:00, every day" in schedule
    # Summer: 23:00 and 22:00 BST (22:00 and 21:00 UTC), printed as the schedule's zone has them.
    assert "Tue, 01 Jul 2025 23:00" in schedule and "Tue, 01 Jul 2025 22:00" in schedule
    assert "BST" in schedule and "UTC</span>" not in schedule


def test_a_disabled_schedule_says_it_does_not_run(users, environment):
    change = schedule_edit(users, environment, "cron(0 23 * * ? *)", "cron(0 23 * * ? *)")
    change.spec = {**change.spec, "State": "DISABLED"}
    change.save()
    difference = review_difference(change, now=NOW)
    assert difference.after.runs == [] and difference.after.runs_note == "Disabled: it does not run."
    assert [(row.label, row.before, row.after) for row in difference.settings if row.status] == [
        ("State", "ENABLED", "DISABLED")]


def test_a_scheduled_rule_shows_its_expression_in_words_and_its_runs_in_utc(users, environment):
    def scheduled(expression):
        spec = rule_spec()
        del spec["Rule"]["EventPattern"]
        spec["Rule"]["ScheduleExpression"] = expression
        return spec

    change = edit(users, environment, existing_rule(environment, scheduled("rate(5 minutes)")),
                  scheduled("cron(0 8 * * ? *)"))
    difference = review_difference(change, now=NOW)  # Wednesday 15 January 2025, 12:00 UTC
    assert not difference.has_pattern and difference.schedule_changed
    assert (difference.before.expression_words, difference.after.expression_words) == (
        "Every 5 minutes", "At 08:00, every day")
    assert difference.before.runs == [datetime(2025, 1, 15, 12, m, tzinfo=UTC) for m in (5, 10, 15, 20, 25)]
    assert difference.after.runs == [datetime(2025, 1, d, 8, 0, tzinfo=UTC) for d in (16, 17, 18, 19, 20)]


# ---------------------------------------------------------------------------------------------
# Deletes, enable/disable, broken drafts
# ---------------------------------------------------------------------------------------------
def test_a_delete_shows_everything_removed_and_disable_shows_the_state(users, production, client_for):
    rule = existing_rule(production, rule_spec())
    client = client_for("operator")
    client.post(reverse("rules:rule_action", args=[rule.pk, "disable"]))
    disable = rule.changes.get(action="disable")
    difference = review_difference(disable, now=NOW)
    assert [(row.label, row.before, row.after) for row in difference.settings if row.status] == [
        ("State", "ENABLED", "DISABLED")]
    assert "version 1 → this change" in section(page_text(client_for("reviewer"), disable))
    services.change_request_withdraw(disable, actor=users["operator"])

    client.post(reverse("rules:rule_action", args=[rule.pk, "delete"]))
    delete = rule.changes.get(action="delete")
    difference = review_difference(delete, now=NOW)
    assert difference.mode == "delete" and difference.after is None
    assert [t.status for t in difference.targets] == ["removed", "removed"]
    shown = section(page_text(client_for("reviewer"), delete))
    assert "the rule is deleted: all of it is removed" in shown
    assert 'detail.bucket.name is "processing-bucket-1"' in shown


@pytest.mark.parametrize("pattern, problem, shown_as", [
    ('{"source": ["aws.s3"', "The pattern is not JSON", '{"source": ["aws.s3"'),
    ('{"source": "aws.s3"}', 'The pattern is not valid: source: must be an object or an array',
     '{\n  "source": "aws.s3"\n}'),
])
def test_a_draft_whose_pattern_cannot_be_read_still_shows_its_page(users, environment, client_for, pattern, problem,
                                                                   shown_as):
    spec = rule_spec()
    spec["Rule"]["EventPattern"] = pattern
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=users["operator"], spec=spec)
    shown = section(page_text(client_for("operator"), change))
    assert problem in shown and shown_as in shown and "Proposed: not checked" in shown


@pytest.mark.parametrize("kind, spec", [
    ("rule", {"Rule": {"Name": NAME, "EventPattern": 5, "ScheduleExpression": ["x"]}, "Targets": 5, "Tags": "x"}),
    ("rule", {"Rule": "x", "Targets": [{"Id": "A", "Arn": LAMBDA}, {"Id": "A", "Arn": TOPIC}, "junk"],
              "Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}),
    ("schedule", {"Name": "s", "ScheduleExpression": 5, "ScheduleExpressionTimezone": ["UTC"], "Target": "y"}),
    ("schedule", {"Name": "s", "ScheduleExpression": "cron(0 25 * * ? *)", "ScheduleExpressionTimezone": "Mars/Base",
                  "Target": {"Arn": 7, "RetryPolicy": "often", "DeadLetterConfig": "q"}}),
])
def test_a_draft_of_any_shape_shows_its_page_and_hides_no_item(users, environment, client_for, kind, spec):
    change = services.change_request_draft_create(kind=kind, action="create", environment=environment,
                                                  author=users["operator"], spec=spec)
    shown = section(page_text(client_for("operator"), change))
    if spec.get("Targets") and isinstance(spec["Targets"], list):  # two targets named A: both are shown
        assert LAMBDA in shown and TOPIC in shown and "A (again)" in shown and "k (again)" in shown
