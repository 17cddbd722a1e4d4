"""awslang.expressions' next runs against croniter, a second cron implementation (the oracle).

Only the cron the two dialects share is generated: minutes, hours, day of month or day of week
(the other one ``?``), month, year ``*``; values, ``a-b`` ranges, steps (``*/n``, ``a/n``,
``a-b/n``), lists, month and weekday names, ``L`` as day of month and ``n#k``.  Each generated
field is written once per dialect: AWS numbers weekdays 1-7 from Sunday, Unix cron 0-6; AWS's
``?`` is Unix's ``*``; AWS has a year field.  Left out: ranges that wrap (``FRI-MON``, AWS only)
and ranges with equal ends, which croniter reads as the whole cycle by design ("JAN-JAN" is every
month, and "1-1/3" is "*/3") where AWS reads the one value.

Daylight saving time is where the two differ by design.  EventBridge Scheduler documents it
(docs/aws-behaviours.md, "Schedule expressions"; AWS "Schedule types on EventBridge Scheduler",
daylight saving time section, and the Knowledge Center article "How can I adjust my Amazon
EventBridge schedule for daylight saving?"): "When the time shifts forward in Spring, your
schedule invocation gets skipped if the cron expression falls on a non-existent date and time.
When the time shifts back in the Fall, your schedule runs only once and doesn't repeat its
invocation."  croniter instead moves a wall time that does not exist to the end of the gap
(``30 2 * * *`` in New York on 2026-03-08 gives 03:00 EDT) and runs a repeated wall time twice
(01:30 EDT, then 01:30 EST).  ``croniter_runs`` maps croniter's answers to the documented
behaviour explicitly, with croniter's own matcher and the standard library only; nothing in it
comes from the module under test.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import CroniterBadDateError, croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from awslang.expressions import next_runs

ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]

# When the clocks change (UTC instants), 2025 and 2026.  UTC and Asia/Kolkata (+05:30) have no DST.
DST_CHANGES = {
    "America/New_York": [  # spring 02:00 EST -> 03:00 EDT, fall 02:00 EDT -> 01:00 EST
        datetime(2025, 3, 9, 7, tzinfo=UTC), datetime(2025, 11, 2, 6, tzinfo=UTC),
        datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
    ],
    "Europe/London": [  # spring 01:00 GMT -> 02:00 BST, fall 02:00 BST -> 01:00 GMT
        datetime(2025, 3, 30, 1, tzinfo=UTC), datetime(2025, 10, 26, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
    ],
    "Australia/Sydney": [  # autumn 03:00 AEDT -> 02:00 AEST, spring 02:00 AEST -> 03:00 AEDT
        datetime(2025, 4, 5, 16, tzinfo=UTC), datetime(2025, 10, 4, 16, tzinfo=UTC),
        datetime(2026, 4, 4, 16, tzinfo=UTC), datetime(2026, 10, 3, 16, tzinfo=UTC),
    ],
}

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


# --------------------------------------------------------------------------- the oracle


def croniter_runs(unix: str, zone_name: str, after: datetime, count: int, end: datetime) -> list[datetime]:
    """croniter's runs after ``after`` and before ``end`` (UTC instants), mapped to AWS's DST rules."""
    zone = ZoneInfo(zone_name)
    iterator = croniter(unix, after.astimezone(zone))
    runs: list[datetime] = []
    while len(runs) < count:
        try:
            run = iterator.get_next(datetime)
        except CroniterBadDateError:  # croniter found no run in the next 50 years: none before `end`
            break
        instant = run.astimezone(UTC)
        if instant >= end:
            break
        wall = run.replace(tzinfo=None)
        # Spring forward: a run croniter moved out of the gap has a wall time the expression does
        # not name (croniter.match on the naive wall time: its field matcher, no time zone).
        # AWS skips the invocation instead.
        if not croniter.match(unix, wall):
            continue
        # Fall back: the second occurrence of a repeated wall time.  AWS runs only once; it does not
        # say at which occurrence, and EventConsole shows the first (the moment the clock first
        # reads that time), so the repeat is dropped.
        if wall.replace(tzinfo=zone, fold=0).astimezone(UTC) != instant:
            continue
        # croniter may move a gap time onto a real run that follows it (03:00 twice): one run.
        if runs and runs[-1] == instant:
            continue
        runs.append(instant)
    return runs


# --------------------------------------------------------------------------- the shared dialect


@st.composite
def items(draw: st.DrawFn, low: int, high: int, unix_shift: int = 0, names: tuple[str, ...] = ()) -> tuple[str, str]:
    """One list item as (AWS text, Unix text): a value, a range, or a step (``*/n``, ``a/n``, ``a-b/n``)."""
    def number(value: int, named: bool) -> tuple[str, str]:
        if named:
            return names[value - low], names[value - low]
        return str(value), str(value - unix_shift)

    named = bool(names) and draw(st.booleans())
    first, second = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=2, unique=True)))
    step = draw(st.integers(1, high - low))
    kind = draw(st.sampled_from(["value", "range", "every", "from", "range-step"]))
    (aws_first, unix_first), (aws_second, unix_second) = number(first, named), number(second, named)
    if kind == "value":
        return aws_first, unix_first
    if kind == "range":
        return f"{aws_first}-{aws_second}", f"{unix_first}-{unix_second}"
    if kind == "every":
        return f"*/{step}", f"*/{step}"
    if kind == "from":  # from a to the field's maximum, in both
        return f"{aws_first}/{step}", f"{unix_first}/{step}"
    return f"{aws_first}-{aws_second}/{step}", f"{unix_first}-{unix_second}/{step}"


def field(low: int, high: int, unix_shift: int = 0, names: tuple[str, ...] = ()) -> st.SearchStrategy[tuple[str, str]]:
    """A whole field: ``*`` or a comma list of one to three items, in both dialects."""
    listed = st.lists(items(low, high, unix_shift, names), min_size=1, max_size=3).map(
        lambda pairs: (",".join(aws for aws, _ in pairs), ",".join(unix for _, unix in pairs)))
    return st.one_of(st.just(("*", "*")), listed)


MINUTES = st.one_of(field(0, 59), st.sampled_from([("0", "0"), ("30", "30"), ("0/15", "0/15")]))
HOURS = st.one_of(field(0, 23), st.sampled_from([("1", "1"), ("2", "2"), ("1-3", "1-3"), ("0/2", "0/2")]))
MONTH = field(1, 12, names=MONTHS)
DAY_OF_MONTH = st.one_of(field(1, 31), st.just(("L", "L")))
DAY_OF_WEEK = st.one_of(
    field(1, 7, unix_shift=1, names=WEEKDAYS),
    st.tuples(st.integers(1, 7), st.integers(1, 5)).map(
        lambda pair: (f"{pair[0]}#{pair[1]}", f"{pair[0] - 1}#{pair[1]}")),
)
Field = tuple[str, str]  # (AWS text, Unix text)


def cron_pair(minutes: Field, hours: Field, day_of_month: Field | None, month: Field,
              day_of_week: Field | None) -> tuple[str, str]:
    """(EventBridge cron(...), the same schedule as a five-field Unix cron); a day field None is "?"."""
    aws_dom, unix_dom = day_of_month or ("?", "*")
    aws_dow, unix_dow = day_of_week or ("?", "*")
    return (f"cron({minutes[0]} {hours[0]} {aws_dom} {month[0]} {aws_dow} *)",
            f"{minutes[1]} {hours[1]} {unix_dom} {month[1]} {unix_dow}")


@st.composite
def shared_crons(draw: st.DrawFn) -> tuple[str, str]:
    if draw(st.booleans()):
        return cron_pair(draw(MINUTES), draw(HOURS), draw(DAY_OF_MONTH), draw(MONTH), None)
    return cron_pair(draw(MINUTES), draw(HOURS), None, draw(MONTH), draw(DAY_OF_WEEK))


@st.composite
def crons_on(draw: st.DrawFn, day: date) -> tuple[str, str]:
    """Shared crons whose day and month fields select ``day``: only minutes and hours vary."""
    month = draw(st.sampled_from([("*", "*"), (str(day.month), str(day.month)), (MONTHS[day.month - 1],) * 2]))
    if draw(st.booleans()):
        day_of_month = draw(st.sampled_from([("*", "*"), (str(day.day), str(day.day)),
                                             (f"{day.day}-{day.day + 1}", f"{day.day}-{day.day + 1}")]))
        return cron_pair(draw(MINUTES), draw(HOURS), day_of_month, month, None)
    weekday = day.isoweekday() % 7  # Unix numbering, 0 = Sunday; AWS adds one
    nth = (day.day - 1) // 7 + 1
    day_of_week = draw(st.sampled_from([("*", "*"), (str(weekday + 1), str(weekday)), (WEEKDAYS[weekday],) * 2,
                                        (f"{weekday + 1}#{nth}", f"{weekday}#{nth}")]))
    return cron_pair(draw(MINUTES), draw(HOURS), None, month, day_of_week)


@st.composite
def dst_cases(draw: st.DrawFn) -> tuple[str, str, str, datetime]:
    """(AWS cron, Unix cron, zone, after): a start up to six hours before one of the zone's DST
    changes, or just after it, and a cron that runs on the day of the change."""
    zone_name = draw(st.sampled_from(sorted(DST_CHANGES)))
    change = draw(st.sampled_from(DST_CHANGES[zone_name]))
    aws, unix = draw(crons_on(change.astimezone(ZoneInfo(zone_name)).date()))
    after = change + timedelta(minutes=draw(st.integers(-6 * 60, 90)), seconds=draw(st.integers(0, 59)))
    return aws, unix, zone_name, after


# Starting instants: anywhere in 2024-2030, or within days before a DST change.
AFTER = st.one_of(
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.tuples(st.sampled_from([change for changes in DST_CHANGES.values() for change in changes]),
              st.integers(-3 * 24 * 60, 24 * 60)).map(lambda pair: pair[0] + timedelta(minutes=pair[1])),
)


# --------------------------------------------------------------------------- properties


def assert_agree(aws: str, unix: str, zone_name: str, after: datetime, count: int, end: datetime) -> None:
    expected = croniter_runs(unix, zone_name, after, count, end)
    actual = next_runs(aws, zone_name, after, count, end=end)
    assert [run.astimezone(UTC) for run in actual] == expected


@settings(max_examples=200, deadline=None)
@given(cron=shared_crons(), zone_name=st.sampled_from(ZONES), after=AFTER, count=st.integers(1, 40),
       horizon_days=st.integers(1, 400))
def test_next_runs_agree_with_croniter(cron: tuple[str, str], zone_name: str, after: datetime, count: int,
                                       horizon_days: int) -> None:
    aws, unix = cron
    assert_agree(aws, unix, zone_name, after, count, after + timedelta(days=horizon_days))


@settings(max_examples=200, deadline=None)
@given(case=dst_cases(), count=st.integers(1, 200))
def test_next_runs_agree_with_croniter_across_dst_changes(case: tuple[str, str, str, datetime], count: int) -> None:
    aws, unix, zone_name, after = case
    assert_agree(aws, unix, zone_name, after, count, after + timedelta(days=2))


# --------------------------------------------------------------------------- fixed examples

EXAMPLES = {
    # EventBridge -> Unix cron (weekdays 0-6 from Sunday)
    "cron(0 10 * * ? *)": "0 10 * * *",
    "cron(0/15 * * * ? *)": "*/15 * * * *",
    "cron(0 11-23/2 * * ? *)": "0 11-23/2 * * *",
    "cron(0 18 ? * MON-FRI *)": "0 18 * * mon-fri",
    "cron(5,35 8-17 ? * 2-6 *)": "5,35 8-17 * * 1-5",
    "cron(0 8 1,15 * ? *)": "0 8 1,15 * *",
    "cron(30 6 L * ? *)": "30 6 L * *",
    "cron(0 9 ? * 2#1 *)": "0 9 * * 1#1",
    "cron(0 0 1 1-12/3 ? *)": "0 0 1 1-12/3 *",
    "cron(0 12 * JAN,JUL ? *)": "0 12 * jan,jul *",
}


@pytest.mark.parametrize(("expression", "unix"), EXAMPLES.items())
@pytest.mark.parametrize("zone_name", ZONES)
def test_examples_agree_with_croniter_for_a_year(expression: str, unix: str, zone_name: str) -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    expected = croniter_runs(unix, zone_name, after, 400, end)
    assert expected  # every example runs within the year
    assert [run.astimezone(UTC) for run in next_runs(expression, zone_name, after, 400, end=end)] == expected


def test_the_mapping_follows_the_documented_dst_rules() -> None:
    """The two DST rules on their own, in New York in 2026 (fixed values, not the module's)."""
    after, end = datetime(2026, 3, 7, 12, tzinfo=UTC), datetime(2026, 3, 10, 12, tzinfo=UTC)
    # 02:30 does not exist on 8 March: croniter says 03:00 EDT, AWS skips that day.
    assert croniter_runs("30 2 * * *", "America/New_York", after, 5, end) == [
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC), datetime(2026, 3, 10, 6, 30, tzinfo=UTC)]
    after, end = datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 11, 2, 12, tzinfo=UTC)
    # 01:30 happens twice on 1 November: once, at 01:30 EDT (05:30 UTC); then 01:30 EST on the 2nd.
    assert croniter_runs("30 1 * * *", "America/New_York", after, 5, end) == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 2, 6, 30, tzinfo=UTC)]
