"""Example-based tests for awslang.expressions (pure Python, no Django)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from awslang.expressions import (
    AtExpression,
    CronExpression,
    DayOfMonth,
    DayOfWeek,
    ExpressionError,
    RateExpression,
    at_from,
    cron_from_fields,
    describe,
    next_runs,
    parse,
    rate_from,
    validate,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def iso(runs: list[datetime]) -> list[str]:
    return [run.isoformat(timespec="minutes") for run in runs]


def in_utc(runs: list[datetime]) -> list[datetime]:
    # Inter-zone == is always False for a time inside a repeated hour (PEP 495), so compare in UTC.
    return [run.astimezone(UTC) for run in runs]


# --------------------------------------------------------------------------- validation

VALID = [
    # AWS documentation examples
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(15 10 ? * 6L 2019-2022)",
    "cron(1/10 * * * ? *)",
    "cron(0 10 * JAN,FEB,MAR ? *)",
    # ranges with steps, which third-party validators got wrong (docs/aws-behaviours.md, "Schedule expressions")
    "cron(0 11-23/2 * * ? *)",
    "cron(0 11-23/4 ? * 2-6 *)",
    "cron(0 0 1 1-12/3 ? *)",
    # wildcards and special forms
    "cron(0 0 L * ? *)",
    "cron(0 0 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 0 1W * ? *)",
    "cron(0 0 ? * L *)",
    "cron(0 0 ? * FRIL *)",
    "cron(0 0 ? * 6#5 *)",
    "cron(0 0 ? * MON#1 *)",
    "cron(0 0 29 2 ? *)",
    "cron(0 0 L 2 ? 2100-2199)",
    "cron(0 0 1 1 ? 1970)",
    "cron(0 0 1 1 ? 2199)",
    "cron(0 0 1 1 ? 2026,2028,2030)",
    "cron(0 0 1 1 ? 2020/5)",
    "cron(0 20-2 * * ? *)",  # ranges wrap
    "cron(0 0 ? * FRI-MON *)",
    "cron(0 0 25-5 * ? *)",
    "cron(0/15,7 * * * ? *)",  # lists may contain steps
    "cron(0 0 ? * mon-fri *)",  # names are case-insensitive
    "cron(0 0 * jan ? *)",
    "cron(00 07 01 01 ? *)",  # leading zeros
    "cron(* * * * ? *)",
    "cron(* * ? * * *)",
    "cron(0 0 31 2 ? *)",  # accepted, but never fires
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(30 days)",
    "at(2026-12-01T09:00:00)",
    "at(2028-02-29T23:59:59)",
]


@pytest.mark.parametrize("expression", VALID)
def test_valid_expressions(expression: str) -> None:
    validate(expression)
    assert describe(expression)


INVALID = [
    # 5-field unix cron and other field counts
    ("cron(0 12 * * *)", "expression"),
    ("cron(0 12 * * ? * *)", "expression"),
    ("cron(0 12 * *)", "expression"),
    ("cron()", "expression"),
    ("0 12 * * ? *", "expression"),
    ("cron(0 12 * * ? *", "expression"),
    ("CRON(0 12 * * ? *)", "expression"),
    (" cron(0 12 * * ? *)", "expression"),
    ("", "expression"),
    ("every 5 minutes", "expression"),
    ("cron(" + "0," * 125 + "1 0 * * ? *)", "expression"),  # over the 256-character API limit
    # the "?" rule
    ("cron(0 12 * * * *)", "day-of-week"),
    ("cron(0 12 ? * ? *)", "day-of-week"),
    ("cron(0 12 1 * MON *)", "day-of-week"),
    ("cron(0 12 L * 6L *)", "day-of-week"),
    # out of range
    ("cron(60 0 * * ? *)", "minutes"),
    ("cron(0 24 * * ? *)", "hours"),
    ("cron(0 0 0 * ? *)", "day-of-month"),
    ("cron(0 0 32 * ? *)", "day-of-month"),
    ("cron(0 0 * 0 ? *)", "month"),
    ("cron(0 0 * 13 ? *)", "month"),
    ("cron(0 0 ? * 0 *)", "day-of-week"),
    ("cron(0 0 ? * 8 *)", "day-of-week"),
    ("cron(0 0 * * ? 1969)", "year"),
    ("cron(0 0 * * ? 2200)", "year"),
    ("cron(0 5-60 * * ? *)", "hours"),
    # wildcards in the wrong field
    ("cron(? 0 * * ? *)", "minutes"),
    ("cron(L 0 * * ? *)", "minutes"),
    ("cron(0 L * * ? *)", "hours"),
    ("cron(0 0 * L ? *)", "month"),
    ("cron(0 0 * * ? L)", "year"),
    ("cron(0 0 * ? * *)", "month"),
    ("cron(0 0 ? * 1W *)", "day-of-week"),
    ("cron(0 0 1#2 * ? *)", "day-of-month"),
    ("cron(0 0 * * ? ?)", "year"),
    # L, W and # rules
    ("cron(0 0 W * ? *)", "day-of-month"),
    ("cron(0 0 1-5W * ? *)", "day-of-month"),
    ("cron(0 0 32W * ? *)", "day-of-month"),
    ("cron(0 0 L,15 * ? *)", "day-of-month"),
    ("cron(0 0 15W,20 * ? *)", "day-of-month"),
    ("cron(0 0 15L * ? *)", "day-of-month"),
    ("cron(0 0 L-3 * ? *)", "day-of-month"),
    ("cron(0 0 ? * 3#6 *)", "day-of-week"),
    ("cron(0 0 ? * 3#0 *)", "day-of-week"),
    ("cron(0 0 ? * 8#1 *)", "day-of-week"),
    ("cron(0 0 ? * 3#1,6#3 *)", "day-of-week"),
    ("cron(0 0 ? * 6L,1 *)", "day-of-week"),
    ("cron(0 0 ? * 8L *)", "day-of-week"),
    ("cron(0 0 ? * #2 *)", "day-of-week"),
    # syntax
    ("cron(0/0 * * * ? *)", "minutes"),
    ("cron(*/61 * * * ? *)", "minutes"),
    ("cron(1,,2 * * * ? *)", "minutes"),
    ("cron(1, * * * ? *)", "minutes"),
    ("cron(5/ * * * ? *)", "minutes"),
    ("cron(*-5 * * * ? *)", "minutes"),
    ("cron(0.5 * * * ? *)", "minutes"),
    ("cron(0 0 * JANUARY ? *)", "month"),
    ("cron(0 0 ? * WEDNESDAY *)", "day-of-week"),
    ("cron(0 0 * * ? 2030-2020)", "year"),
    ("cron(0 0 * * ? 26)", "year"),
    # rate
    ("rate(0 minutes)", "rate value"),
    ("rate(-1 minutes)", "rate value"),
    ("rate(1.5 hours)", "rate value"),
    ("rate(five minutes)", "rate value"),
    ("rate(1 minutes)", "rate unit"),
    ("rate(5 minute)", "rate unit"),
    ("rate(1 hours)", "rate unit"),
    ("rate(2 day)", "rate unit"),
    ("rate(5 seconds)", "rate unit"),
    ("rate(1 week)", "rate unit"),
    ("rate(5 Minutes)", "rate unit"),
    ("rate(5)", "expression"),
    ("rate(5 minutes now)", "expression"),
    # AWS refuses spaces inside the parentheses
    ("rate( 5 minutes)", "expression"),
    ("rate(5 minutes )", "expression"),
    ("rate(5  minutes)", "expression"),
    # AWS (Quartz) refuses a step past the field's highest value
    ("cron(0/60 * * * ? *)", "minutes"),
    ("cron(*/60 * * * ? *)", "minutes"),
    ("cron(0 0/24 * * ? *)", "hours"),
    ("cron(0 0 1/32 * ? *)", "day-of-month"),
    ("cron(0 0 1 1/13 ? *)", "month"),
    # at
    ("at(2026-12-01 09:00:00)", "at"),
    ("at(2026-12-01T09:00)", "at"),
    ("at(2026-12-01)", "at"),
    ("at(2026-13-01T09:00:00)", "at"),
    ("at(2026-02-30T09:00:00)", "at"),
    ("at(2026-12-01T24:00:00)", "at"),
    ("at(2026-12-01T09:00:00Z)", "at"),
    ("at(26-12-01T09:00:00)", "at"),
]


@pytest.mark.parametrize(("expression", "field"), INVALID)
def test_invalid_expressions_name_the_field(expression: str, field: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        validate(expression)
    assert caught.value.field == field
    assert str(caught.value)


def test_five_field_unix_cron_explains_the_year_field() -> None:
    with pytest.raises(ExpressionError) as caught:
        validate("cron(0 12 * * 1)")
    assert "6 fields" in str(caught.value)
    assert "year" in str(caught.value)


def test_question_mark_message_names_both_fields() -> None:
    with pytest.raises(ExpressionError) as caught:
        validate("cron(0 12 * * * *)")
    assert str(caught.value).startswith(
        'Day of the week: "?" must be used in exactly one of Day of month and Day of the week'
    )


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("cron(0 24 * * ? *)", "Hours: 24 is out of range; allowed values are 0-23"),
        ("cron(0 0 * * ? 1969)", "Year: 1969 is out of range; allowed values are 1970-2199"),
        ("cron(0 L * * ? *)", 'Hours: "L" is only allowed in Day of month and Day of the week'),
        ("cron(0 0 ? * 1W *)", 'Day of the week: "W" is only allowed in Day of month'),
        ("cron(0 0 1#2 * ? *)", 'Day of month: "#" is only allowed in Day of the week'),
        ("cron(0 0 * JULY ? *)", 'Month: "JULY" is not a valid name or number'),
    ],
)
def test_error_messages(expression: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match="^" + fragment.replace("?", r"\?").replace("*", r"\*")):
        validate(expression)


@pytest.mark.parametrize("expression", [
    # the largest steps AWS accepts, and the Scheduler guide's own examples
    "cron(0/59 * * * ? *)", "cron(0 0/23 * * ? *)", "cron(0 0 1/31 * ? *)", "cron(0 0 1 1/12 ? *)",
    "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 10 * * ? *)", "cron(15 10 ? * 6L 2022-2023)",
    "rate(5 minutes)", "rate(1 minute)", "rate(12 hours)",
])
def test_aws_examples_and_largest_steps_are_valid(expression: str) -> None:
    validate(expression)


def test_scheduler_guide_rate_examples_are_valid_for_scheduler_only() -> None:
    """The Scheduler guide lists the units as minutes | hours | days and writes rate(1 days); EventBridge
    rules want the singular for 1 (rate(1 day)) and refuse rate(1 days)."""
    for expression in ("rate(1 days)", "rate(1 hours)", "rate(1 minutes)", "rate(15 minutes)", "rate(5 days)"):
        validate(expression, strict_rate_units=False)
    for expression in ("rate(1 days)", "rate(1 hours)"):
        with pytest.raises(ExpressionError):
            validate(expression)
    for expression in ("rate( 5 minutes)", "rate(5 minutes )", "cron(0/60 * * * ? *)"):
        with pytest.raises(ExpressionError):
            validate(expression, strict_rate_units=False)


def test_lax_rate_units_as_accepted_by_eventbridge_scheduler() -> None:
    with pytest.raises(ExpressionError):
        validate("rate(1 days)")
    validate("rate(1 days)", strict_rate_units=False)
    validate("rate(5 hour)", strict_rate_units=False)
    assert describe("rate(1 days)") == "Every day"
    assert next_runs("rate(1 days)", "UTC", utc(2026, 1, 1), 1) == [utc(2026, 1, 2)]


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("field_text", "expected"),
    [
        ("11-23/2", (11, 13, 15, 17, 19, 21, 23)),
        ("20-2", (0, 1, 2, 20, 21, 22, 23)),
        ("20-2/3", (2, 20, 23)),
        ("*/6", (0, 6, 12, 18)),
        ("5/6", (5, 11, 17, 23)),
        ("1,3,5-7", (1, 3, 5, 6, 7)),
        ("7,7,7", (7,)),
    ],
)
def test_hour_field_expansion(field_text: str, expected: tuple[int, ...]) -> None:
    parsed = parse(f"cron(0 {field_text} * * ? *)")
    assert isinstance(parsed, CronExpression)
    assert parsed.hours == expected


def test_parse_returns_small_objects() -> None:
    cron = parse("cron(0/15 9-17 ? jan-mar mon-fri 2026-2027)")
    assert isinstance(cron, CronExpression) and cron.kind == "cron"
    assert cron.fields == ("0/15", "9-17", "?", "jan-mar", "mon-fri", "2026-2027")
    assert cron.minutes == (0, 15, 30, 45)
    assert cron.hours == tuple(range(9, 18))
    assert cron.months == (1, 2, 3)
    assert cron.day_of_month is None
    assert cron.day_of_week == DayOfWeek("days", days=(2, 3, 4, 5, 6))
    assert cron.years == (2026, 2027)

    assert parse("cron(0 0 ? * FRI-MON *)").day_of_week == DayOfWeek("days", days=(1, 2, 6, 7))
    assert parse("cron(0 0 ? * L *)").day_of_week == DayOfWeek("days", days=(7,))
    assert parse("cron(0 0 ? * 6L *)").day_of_week == DayOfWeek("last", weekday=6)
    assert parse("cron(0 0 ? * TUE#2 *)").day_of_week == DayOfWeek("nth", weekday=3, nth=2)
    assert parse("cron(0 0 L * ? *)").day_of_month == DayOfMonth("last")
    assert parse("cron(0 0 LW * ? *)").day_of_month == DayOfMonth("last-weekday")
    assert parse("cron(0 0 15W * ? *)").day_of_month == DayOfMonth("nearest-weekday", day=15)

    rate = parse("rate(5 minutes)")
    assert isinstance(rate, RateExpression) and rate.kind == "rate"
    assert (rate.value, rate.unit, rate.interval) == (5, "minutes", timedelta(minutes=5))

    at = parse("at(2026-12-01T09:00:00)")
    assert isinstance(at, AtExpression) and at.kind == "at"
    assert at.when == datetime(2026, 12, 1, 9)


# --------------------------------------------------------------------------- form builders


def test_cron_from_fields_builds_the_expression() -> None:
    assert cron_from_fields("0", "6", "?", "*", "MON-FRI", "*") == "cron(0 6 ? * MON-FRI *)"
    assert cron_from_fields(" 0 ", "23", "*", "*", "?", "*") == "cron(0 23 * * ? *)"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (("60", "0", "*", "*", "?", "*"), "minutes"),
        (("0", "", "*", "*", "?", "*"), "hours"),
        (("0", "0", "1 2", "*", "?", "*"), "day-of-month"),
        (("0", "0", "*", "13", "?", "*"), "month"),
        (("0", "0", "*", "*", "*", "*"), "day-of-week"),
        (("0", "0", "?", "*", "3#1,6#3", "*"), "day-of-week"),
        (("0", "0", "*", "*", "?", "2200"), "year"),
    ],
)
def test_cron_from_fields_reports_the_failing_input(fields: tuple[str, ...], field: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        cron_from_fields(*fields)
    assert caught.value.field == field


def test_rate_from() -> None:
    assert rate_from(1, "minutes") == "rate(1 minute)"
    assert rate_from("5", "minutes") == "rate(5 minutes)"
    assert rate_from(2, "day") == "rate(2 days)"
    assert rate_from(1, "Hours") == "rate(1 hour)"
    for value in (0, -3, "1.5", "", "x"):
        with pytest.raises(ExpressionError) as caught:
            rate_from(value, "minutes")
        assert caught.value.field == "rate value"
    with pytest.raises(ExpressionError) as caught:
        rate_from(5, "weeks")
    assert caught.value.field == "rate unit"


def test_at_from() -> None:
    assert at_from("2026/12/01", "09:00") == "at(2026-12-01T09:00:00)"
    assert at_from(date(2026, 12, 1), time(9, 30, 15)) == "at(2026-12-01T09:30:15)"
    assert at_from("2026-12-01", "23:59:59") == "at(2026-12-01T23:59:59)"
    for day, clock in (("2026/02/30", "09:00"), ("01/12/2026", "09:00"), ("2026/12/01", "9am"),
                       ("2026/12/01", "24:00")):
        with pytest.raises(ExpressionError) as caught:
            at_from(day, clock)
        assert caught.value.field == "at"


# --------------------------------------------------------------------------- describe

DESCRIPTIONS = [
    ("cron(0 23 * * ? *)", "At 23:00, every day"),
    ("cron(0 6 * * ? *)", "At 06:00, every day"),
    ("cron(0 6 ? * MON-FRI *)", "At 06:00, Monday through Friday"),
    ("cron(0 18 ? * 2-6 *)", "At 18:00, Monday through Friday"),
    ("cron(0 10 ? * SAT,SUN *)", "At 10:00, on Sunday and Saturday"),
    ("cron(0,30 8-17 L * ? *)", "At minutes 0 and 30 past hours 8-17, on the last day of the month"),
    ("cron(0/5 8-17 ? * MON-FRI *)", "Every 5 minutes during hours 8-17, Monday through Friday"),
    ("cron(0/15 * * * ? *)", "Every 15 minutes"),
    ("cron(* * * * ? *)", "Every minute"),
    ("cron(0 * * * ? *)", "At minute 0 past every hour, every day"),
    ("cron(0 */2 * * ? *)", "At minute 0 past every 2 hours, every day"),
    ("cron(0 8,17 * * ? *)", "At 08:00 and 17:00, every day"),
    ("cron(0 8 1 * ? *)", "At 08:00, on day 1 of the month"),
    ("cron(0 8 1,15 * ? *)", "At 08:00, on days 1 and 15 of the month"),
    ("cron(0 9 15W * ? *)", "At 09:00, on the weekday nearest day 15 of the month"),
    ("cron(0 9 LW * ? *)", "At 09:00, on the last weekday of the month"),
    ("cron(15 10 ? * 6L 2019-2022)", "At 10:15, on the last Friday of the month, in 2019 through 2022"),
    ("cron(0 9 ? * 2#1 *)", "At 09:00, on the first Monday of the month"),
    ("cron(0 0 ? * 6#5 *)", "At 00:00, on the fifth Friday of the month"),
    ("cron(0 0 29 2 ? *)", "At 00:00, on day 29 of February"),
    ("cron(0 0 L 2 ? 2100-2199)", "At 00:00, on the last day of February, in 2100 through 2199"),
    ("cron(0 10 * JAN,FEB,MAR ? *)", "At 10:00, every day in January through March"),
    ("cron(0 9 ? 6-8 MON *)", "At 09:00, on Monday, in June through August"),
    ("cron(0 0 1 1 ? 2026,2028)", "At 00:00, on day 1 of January, in 2026 and 2028"),
    ("rate(1 minute)", "Every minute"),
    ("rate(5 minutes)", "Every 5 minutes"),
    ("rate(1 hour)", "Every hour"),
    ("rate(2 days)", "Every 2 days"),
    ("at(2026-12-01T09:00:00)", "Once, at 2026-12-01 09:00"),
    ("at(2026-12-01T09:00:30)", "Once, at 2026-12-01 09:00:30"),
]


@pytest.mark.parametrize(("expression", "text"), DESCRIPTIONS)
def test_describe(expression: str, text: str) -> None:
    assert describe(expression) == text


def test_describe_rejects_invalid_expressions() -> None:
    with pytest.raises(ExpressionError):
        describe("cron(0 12 * * *)")


# --------------------------------------------------------------------------- next runs: DST


def test_london_spring_forward_skips_the_missing_hour() -> None:
    # 2026-03-29: 01:00 GMT -> 02:00 BST, so 01:30 does not exist that day.
    runs = next_runs("cron(30 1 * * ? *)", "Europe/London", utc(2026, 3, 27, 12), 3)
    assert iso(runs) == ["2026-03-28T01:30+00:00", "2026-03-30T01:30+01:00", "2026-03-31T01:30+01:00"]


def test_london_fall_back_runs_once_at_the_first_occurrence() -> None:
    # 2026-10-25: 02:00 BST -> 01:00 GMT, so 01:30 happens twice; run only at 01:30 BST.
    runs = next_runs("cron(30 1 * * ? *)", "Europe/London", utc(2026, 10, 24, 12), 2)
    assert iso(runs) == ["2026-10-25T01:30+01:00", "2026-10-26T01:30+00:00"]
    assert in_utc(runs)[0] == utc(2026, 10, 25, 0, 30)


def test_new_york_spring_forward_skip() -> None:
    runs = next_runs("cron(30 2 * * ? *)", "America/New_York", utc(2026, 3, 7, 12), 2)
    assert iso(runs) == ["2026-03-09T02:30-04:00", "2026-03-10T02:30-04:00"]


def test_new_york_fall_back_every_15_minutes_does_not_repeat_the_hour() -> None:
    runs = next_runs("cron(0/15 * * * ? *)", "America/New_York", utc(2026, 11, 1, 5, 20), 4)
    assert iso(runs) == [
        "2026-11-01T01:30-04:00",
        "2026-11-01T01:45-04:00",
        "2026-11-01T02:00-05:00",  # 01:00-01:45 EST would be repeats: skipped
        "2026-11-01T02:15-05:00",
    ]


def test_after_inside_the_repeated_hour() -> None:
    # after = 01:40 EST (the second 01:40): the next run is 02:00 EST, not 01:45 EDT (already past).
    after = datetime(2026, 11, 1, 1, 40, fold=1, tzinfo=ZoneInfo("America/New_York"))
    assert after.astimezone(UTC) == utc(2026, 11, 1, 6, 40)
    runs = next_runs("cron(0/15 * * * ? *)", "America/New_York", after, 1)
    assert iso(runs) == ["2026-11-01T02:00-05:00"]


def test_sydney_dst() -> None:
    # DST ends 2026-04-05 03:00 AEDT -> 02:00 AEST; starts 2026-10-04 02:00 AEST -> 03:00 AEDT.
    ends = next_runs("cron(30 2 * * ? *)", "Australia/Sydney", utc(2026, 4, 3, 12), 3)
    assert iso(ends) == ["2026-04-04T02:30+11:00", "2026-04-05T02:30+11:00", "2026-04-06T02:30+10:00"]
    starts = next_runs("cron(30 2 * * ? *)", "Australia/Sydney", utc(2026, 10, 2, 12), 2)
    assert iso(starts) == ["2026-10-03T02:30+10:00", "2026-10-05T02:30+11:00"]


def test_cron_times_are_wall_clock_across_dst() -> None:
    runs = next_runs("cron(0 9 * * ? *)", "Europe/London", utc(2026, 3, 28, 12), 2)
    assert iso(runs) == ["2026-03-29T09:00+01:00", "2026-03-30T09:00+01:00"]


def test_zones_without_dst_are_never_adjusted() -> None:
    runs = next_runs("cron(30 2 * * ? *)", "Asia/Kolkata", utc(2026, 3, 28), 2)
    assert iso(runs) == ["2026-03-29T02:30+05:30", "2026-03-30T02:30+05:30"]


def test_results_are_in_the_schedule_time_zone() -> None:
    after = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    runs = next_runs("cron(0 12 * * ? *)", "America/New_York", after, 1)
    assert runs[0].tzinfo == ZoneInfo("America/New_York")
    assert iso(runs) == ["2025-12-31T12:00-05:00"]


# --------------------------------------------------------------------------- next runs: L, W, #, years


def test_last_day_of_february_and_year_limit() -> None:
    runs = next_runs("cron(0 0 L 2 ? 2024-2026)", "UTC", utc(2024, 1, 1), 10)
    assert iso(runs) == ["2024-02-29T00:00+00:00", "2025-02-28T00:00+00:00", "2026-02-28T00:00+00:00"]


def test_february_29() -> None:
    runs = next_runs("cron(0 0 29 2 ? *)", "UTC", utc(2026, 1, 1), 3)
    assert [run.date() for run in runs] == [date(2028, 2, 29), date(2032, 2, 29), date(2036, 2, 29)]


def test_nearest_weekday() -> None:
    runs = next_runs("cron(0 9 15W * ? 2026)", "UTC", utc(2026, 1, 1), 8)
    # Feb 15 and Mar 15 are Sundays -> Monday 16th; Aug 15 is a Saturday -> Friday 14th.
    assert [run.date() for run in runs] == [
        date(2026, 1, 15), date(2026, 2, 16), date(2026, 3, 16), date(2026, 4, 15),
        date(2026, 5, 15), date(2026, 6, 15), date(2026, 7, 15), date(2026, 8, 14),
    ]


def test_nearest_weekday_never_leaves_the_month() -> None:
    # Aug 1 2026 is a Saturday -> Monday Aug 3 (not Friday Jul 31).
    assert next_runs("cron(0 9 1W 8 ? 2026)", "UTC", utc(2026, 1, 1), 1) == [utc(2026, 8, 3, 9)]
    # May 31 2026 is a Sunday -> Friday May 29; months without a 31st get no run.
    runs = next_runs("cron(0 9 31W * ? 2026)", "UTC", utc(2026, 1, 1), 10)
    assert [run.date() for run in runs] == [
        date(2026, 1, 30), date(2026, 3, 31), date(2026, 5, 29), date(2026, 7, 31),
        date(2026, 8, 31), date(2026, 10, 30), date(2026, 12, 31),
    ]


def test_last_weekday_of_month() -> None:
    runs = next_runs("cron(0 9 LW * ? 2026)", "UTC", utc(2026, 1, 1), 5)
    assert [run.date() for run in runs] == [
        date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 29),
    ]


def test_nth_and_last_weekday_of_month() -> None:
    fifth_fridays = next_runs("cron(0 0 ? * 6#5 *)", "UTC", utc(2026, 1, 1), 4)
    assert [run.date() for run in fifth_fridays] == [
        date(2026, 1, 30), date(2026, 5, 29), date(2026, 7, 31), date(2026, 10, 30),
    ]
    first_mondays = next_runs("cron(0 9 ? * MON#1 *)", "UTC", utc(2026, 1, 1), 3)
    assert [run.date() for run in first_mondays] == [date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)]
    last_fridays = next_runs("cron(15 10 ? * 6L 2019-2022)", "UTC", utc(2022, 10, 1), 10)
    assert [run.date() for run in last_fridays] == [date(2022, 10, 28), date(2022, 11, 25), date(2022, 12, 30)]


def test_saturday_is_l_in_day_of_week() -> None:
    runs = next_runs("cron(0 9 ? * L *)", "UTC", utc(2026, 1, 1), 2)
    assert [run.date() for run in runs] == [date(2026, 1, 3), date(2026, 1, 10)]


def test_names_and_wrapping_ranges() -> None:
    runs = next_runs("cron(0 12 ? NOV-FEB FRI-SUN *)", "UTC", utc(2026, 2, 27), 4)
    assert [run.date() for run in runs] == [
        date(2026, 2, 27), date(2026, 2, 28), date(2026, 11, 1), date(2026, 11, 6),
    ]


def test_year_range_ends() -> None:
    assert next_runs("cron(0 0 1 1 ? 2199)", "UTC", utc(2199, 1, 1), 5) == []
    assert next_runs("cron(0 0 1 1 ? 2199)", "UTC", utc(2198, 6, 1), 5) == [utc(2199, 1, 1)]
    assert next_runs("cron(0 0 1 1 ? 2020,2022)", "UTC", utc(2021, 1, 1), 5) == [utc(2022, 1, 1)]


def test_never_firing_expression_returns_nothing() -> None:
    assert next_runs("cron(0 0 30 2 ? *)", "UTC", utc(2026, 1, 1), 10) == []


# --------------------------------------------------------------------------- next runs: windows, at, rate


def test_runs_are_strictly_after_after() -> None:
    runs = next_runs("cron(0 12 * * ? *)", "UTC", utc(2026, 1, 1, 12), 1)
    assert runs == [utc(2026, 1, 2, 12)]
    runs = next_runs("cron(0 12 * * ? *)", "UTC", utc(2026, 1, 1, 11, 59, 59, 999999), 1)
    assert runs == [utc(2026, 1, 1, 12)]


def test_start_is_inclusive_and_end_exclusive() -> None:
    runs = next_runs("cron(0 12 * * ? *)", "UTC", utc(2026, 1, 1), 10,
                     start=utc(2026, 1, 3, 12), end=utc(2026, 1, 6, 12))
    assert runs == [utc(2026, 1, 3, 12), utc(2026, 1, 4, 12), utc(2026, 1, 5, 12)]
    assert next_runs("cron(0 12 * * ? *)", "UTC", utc(2026, 1, 1), 10, end=utc(2026, 1, 1)) == []


def test_at_in_the_future_and_past() -> None:
    runs = next_runs("at(2026-12-01T09:00:00)", "Europe/London", utc(2026, 1, 1), 10)
    assert iso(runs) == ["2026-12-01T09:00+00:00"]
    assert next_runs("at(2026-12-01T09:00:00)", "Europe/London", utc(2026, 12, 1, 9), 10) == []
    assert next_runs("at(2026-07-01T09:00:00)", "America/New_York", utc(2026, 1, 1), 1) == [
        utc(2026, 7, 1, 13)
    ]


def test_at_ignores_start_and_end() -> None:
    runs = next_runs("at(2026-12-01T09:00:00)", "UTC", utc(2026, 1, 1), 1,
                     start=utc(2027, 1, 1), end=utc(2026, 2, 1))
    assert runs == [utc(2026, 12, 1, 9)]


def test_at_follows_the_dst_rules() -> None:
    assert next_runs("at(2026-03-29T01:30:00)", "Europe/London", utc(2026, 1, 1), 1) == []
    runs = next_runs("at(2026-10-25T01:30:00)", "Europe/London", utc(2026, 1, 1), 1)
    assert in_utc(runs) == [utc(2026, 10, 25, 0, 30)]


def test_rate_without_start_is_anchored_at_after() -> None:
    after = utc(2026, 1, 1, 10, 7, 30)
    runs = next_runs("rate(5 minutes)", "UTC", after, 3)
    assert runs == [after + timedelta(minutes=5 * k) for k in (1, 2, 3)]


def test_rate_is_anchored_at_start() -> None:
    start = utc(2026, 1, 1, 0, 2)
    runs = next_runs("rate(10 minutes)", "UTC", utc(2026, 1, 1, 1), 3, start=start)
    assert runs == [utc(2026, 1, 1, 1, 2), utc(2026, 1, 1, 1, 12), utc(2026, 1, 1, 1, 22)]
    future = next_runs("rate(1 hour)", "UTC", utc(2026, 1, 1), 2, start=utc(2026, 2, 1))
    assert future == [utc(2026, 2, 1), utc(2026, 2, 1, 1)]
    windowed = next_runs("rate(1 hour)", "UTC", utc(2026, 1, 1), 10, start=utc(2026, 1, 1, 22),
                         end=utc(2026, 1, 2, 1))
    assert windowed == [utc(2026, 1, 1, 22), utc(2026, 1, 1, 23), utc(2026, 1, 2)]


def test_rate_days_are_24_hours_across_dst() -> None:
    runs = next_runs("rate(1 day)", "Europe/London", utc(2026, 3, 27, 12), 3, start=utc(2026, 3, 27, 12))
    assert iso(runs) == ["2026-03-28T12:00+00:00", "2026-03-29T13:00+01:00", "2026-03-30T13:00+01:00"]


# --------------------------------------------------------------------------- next runs: arguments


def test_invalid_time_zone() -> None:
    for name in ("Mars/Olympus_Mons", "", "../etc/passwd", "Europe/"):
        with pytest.raises(ExpressionError) as caught:
            next_runs("cron(0 12 * * ? *)", name, utc(2026, 1, 1), 1)
        assert caught.value.field == "timezone"


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="after"):
        next_runs("cron(0 12 * * ? *)", "UTC", datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="start"):
        next_runs("rate(1 hour)", "UTC", utc(2026, 1, 1), 1, start=datetime(2026, 1, 1))


def test_extreme_values_do_not_crash() -> None:
    huge_rate = "rate(" + "9" * 240 + " minutes)"
    assert next_runs(huge_rate, "UTC", utc(2026, 1, 1), 3) == []
    assert next_runs("at(0001-01-01T00:00:00)", "Asia/Tokyo", datetime.min.replace(tzinfo=UTC), 1) == []
    assert next_runs("cron(0 0 1 1 ? *)", "UTC", datetime.min.replace(tzinfo=UTC), 1) == [utc(1970, 1, 1)]
    assert next_runs("cron(0 0 1 1 ? *)", "UTC", datetime.max.replace(tzinfo=UTC), 1) == []
    with pytest.raises(ExpressionError) as caught:
        rate_from("9" * 5000, "minutes")
    assert caught.value.field == "rate value"


def test_count_zero_and_invalid_expression() -> None:
    assert next_runs("cron(0 12 * * ? *)", "UTC", utc(2026, 1, 1), 0) == []
    with pytest.raises(ExpressionError) as caught:
        next_runs("cron(0 12 * * *)", "UTC", utc(2026, 1, 1), 1)
    assert caught.value.field == "expression"
