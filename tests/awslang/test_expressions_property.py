"""Property tests for next_runs: random valid cron expressions, zones and windows.

The reference evaluator below is deliberately naive: it checks each field of a
local wall time directly (``_matches_local``) and steps through real instants
minute by minute, so it shares no date arithmetic with the module under test.
It only jumps ahead over local days, and then hours, that cannot match, and
never jumps across a UTC-offset change.  It reads the fields from the module's own ``parse()``;
the outside oracle for the same runs is croniter (test_expressions_croniter.py).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awslang.expressions import MONTH_NAMES, WEEKDAY_NAMES, CronExpression, describe, next_runs, parse

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # transitions at midnight
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
]

# DST transition days in the zones above, so windows often straddle one.
TRANSITIONS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York spring
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York fall
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # London spring
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # London fall
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Sydney / Lord Howe autumn
    datetime(2026, 10, 3, 16, tzinfo=UTC),  # Sydney / Lord Howe spring
    datetime(2026, 4, 5, 3, tzinfo=UTC),  # Santiago autumn
    datetime(2026, 9, 6, 4, tzinfo=UTC),  # Santiago spring
    datetime(2026, 4, 4, 14, tzinfo=UTC),  # Chatham autumn
    datetime(2026, 9, 26, 14, tzinfo=UTC),  # Chatham spring
]


# --------------------------------------------------------------------------- brute-force checker


def _aws_weekday(day: date) -> int:
    return day.isoweekday() % 7 + 1  # 1 = Sunday ... 7 = Saturday


def _date_matches(cron: CronExpression, day: date) -> bool:
    if day.year not in cron.years or day.month not in cron.months:
        return False
    length = calendar.monthrange(day.year, day.month)[1]
    dom, dow = cron.day_of_month, cron.day_of_week
    if dom is not None:
        if dom.kind == "days":
            return day.day in dom.days
        if dom.kind == "last":
            return day.day == length
        weekdays = [d for d in range(1, length + 1) if date(day.year, day.month, d).weekday() < 5]
        if dom.kind == "last-weekday":
            return day.day == weekdays[-1]
        if dom.day > length:
            return False
        return day.day == min(weekdays, key=lambda d: abs(d - dom.day))
    assert dow is not None
    weekday = _aws_weekday(day)
    if dow.kind == "days":
        return weekday in dow.days
    if dow.kind == "last":
        return weekday == dow.weekday and day.day + 7 > length
    return weekday == dow.weekday and (day.day - 1) // 7 + 1 == dow.nth


def _matches_local(cron: CronExpression, local: datetime) -> bool:
    """Does the wall time ``local`` satisfy every field of ``cron``?"""
    return (
        local.second == 0
        and local.microsecond == 0
        and local.minute in cron.minutes
        and local.hour in cron.hours
        and _date_matches(cron, local.date())
    )


def _is_repeat(local: datetime) -> bool:
    """Is ``local`` the second occurrence of a wall time repeated by a fall-back?"""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _skip(moment: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """``moment`` plus ``minutes``, unless the UTC offset changes on the way: then
    stop at the change, so a jump in wall-clock terms never overshoots."""
    offset = moment.astimezone(zone).utcoffset()
    target = moment + timedelta(minutes=minutes)
    if target.astimezone(zone).utcoffset() == offset:
        return target
    while moment.astimezone(zone).utcoffset() == offset:
        moment += timedelta(minutes=1)
    return moment


def _reference_runs(cron: CronExpression, zone: ZoneInfo, after: datetime, count: int,
                    start: datetime | None, end: datetime) -> list[datetime]:
    moment = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    runs: list[datetime] = []
    while moment < end and len(runs) < count:
        local = moment.astimezone(zone)
        if not _date_matches(cron, local.date()):
            moment = _skip(moment, (24 - local.hour) * 60 - local.minute, zone)
            continue
        if local.hour not in cron.hours:
            moment = _skip(moment, 60 - local.minute, zone)
            continue
        if _matches_local(cron, local) and not _is_repeat(local) and (start is None or moment >= start):
            runs.append(moment)
        moment += timedelta(minutes=1)
    return runs


# --------------------------------------------------------------------------- strategies


def _items(low: int, high: int, names: tuple[str, ...] = (), wrap: bool = True) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    token = value.map(str) if not names else st.one_of(value.map(str), value.map(lambda v: names[v - low]))
    # AWS refuses a step past the field's highest value (minutes 0/60, hours 0/24, ...).
    size = min(high - low + 1, high)

    def as_range(pair: tuple[int, int]) -> str:
        first, last = pair if wrap else sorted(pair)
        return f"{first}-{last}"

    return st.one_of(
        token,
        st.tuples(value, value).map(as_range),
        st.integers(1, size).map(lambda step: f"*/{step}"),
        st.tuples(value, st.integers(1, size)).map(lambda pair: f"{pair[0]}/{pair[1]}"),
        st.tuples(value, value, st.integers(1, size)).map(
            lambda triple: f"{as_range(triple[:2])}/{triple[2]}"),
    )


def _field(low: int, high: int, names: tuple[str, ...] = (), wrap: bool = True) -> st.SearchStrategy[str]:
    return st.one_of(st.just("*"), st.lists(_items(low, high, names, wrap), min_size=1, max_size=3)
                     .map(",".join))


_MINUTES = st.one_of(_field(0, 59), st.sampled_from(["0", "30", "0/15", "59"]))
_HOURS = st.one_of(_field(0, 23), st.sampled_from(["1", "2", "1-3", "0/2", "23"]))
_MONTHS = _field(1, 12, MONTH_NAMES)
_YEARS = st.one_of(st.just("*"), _field(2024, 2030, wrap=False))
_DAY_OF_MONTH = st.one_of(
    _field(1, 31),
    st.sampled_from(["L", "LW", "1W", "15W", "30W", "31W", "29", "31"]),
    st.integers(1, 31).map(lambda day: f"{day}W"),
)
_DAY_OF_WEEK = st.one_of(
    _field(1, 7, WEEKDAY_NAMES),
    st.just("L"),
    st.integers(1, 7).map(lambda day: f"{day}L"),
    st.tuples(st.integers(1, 7), st.integers(1, 5)).map(lambda pair: f"{pair[0]}#{pair[1]}"),
)


@st.composite
def cron_expressions(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        day_of_month, day_of_week = draw(_DAY_OF_MONTH), "?"
    else:
        day_of_month, day_of_week = "?", draw(_DAY_OF_WEEK)
    fields = (draw(_MINUTES), draw(_HOURS), day_of_month, draw(_MONTHS), day_of_week, draw(_YEARS))
    return f"cron({' '.join(fields)})"


_AFTER = st.one_of(
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.tuples(st.sampled_from(TRANSITIONS), st.integers(-48 * 60, 6 * 60), st.integers(0, 59)).map(
        lambda t: t[0] + timedelta(minutes=t[1], seconds=t[2])),
)


# --------------------------------------------------------------------------- properties


# Both window properties: a cron, a zone, a start instant and a count; each adds its own bounds.
_window = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_WINDOW = {"expression": cron_expressions(), "zone_name": st.sampled_from(ZONES), "after": _AFTER,
           "count": st.integers(1, 12)}


@_window
@given(
    **_WINDOW,
    start_offset=st.none() | st.integers(-3 * 24 * 60, 60 * 24 * 60),
    end_offset=st.none() | st.integers(1, 400 * 24 * 60),
)
def test_next_runs_are_ordered_bounded_and_match(expression: str, zone_name: str, after: datetime,
                                                 count: int, start_offset: int | None,
                                                 end_offset: int | None) -> None:
    cron = parse(expression)
    assert isinstance(cron, CronExpression)
    zone = ZoneInfo(zone_name)
    start = None if start_offset is None else after + timedelta(minutes=start_offset)
    end = None if end_offset is None else after + timedelta(minutes=end_offset)

    runs = next_runs(expression, zone_name, after, count, start=start, end=end)

    assert len(runs) <= count
    instants = [run.astimezone(UTC) for run in runs]
    assert instants == sorted(set(instants))  # strictly increasing
    for run, instant in zip(runs, instants):
        assert run.tzinfo is zone
        assert instant > after
        assert start is None or instant >= start
        assert end is None or instant < end
        assert _matches_local(cron, run)
        assert not _is_repeat(run)
        assert instant.astimezone(zone).replace(tzinfo=None) == run.replace(tzinfo=None)  # wall time exists


@_window
@given(**_WINDOW, start_offset=st.none() | st.integers(-24 * 60, 30 * 24 * 60), horizon_days=st.integers(1, 400))
def test_next_runs_agree_with_brute_force(expression: str, zone_name: str, after: datetime, count: int,
                                          start_offset: int | None, horizon_days: int) -> None:
    cron = parse(expression)
    assert isinstance(cron, CronExpression)
    start = None if start_offset is None else after + timedelta(minutes=start_offset)
    end = after + timedelta(days=horizon_days)

    expected = _reference_runs(cron, ZoneInfo(zone_name), after, count, start, end)
    actual = next_runs(expression, zone_name, after, count, start=start, end=end)

    assert [run.astimezone(UTC) for run in actual] == expected


@settings(max_examples=200, deadline=None)
@given(
    value=st.integers(1, 500),
    unit=st.sampled_from(["minutes", "hours", "days"]),
    after=_AFTER,
    start_offset=st.none() | st.integers(-10**6, 10**6),
    count=st.integers(1, 10),
)
def test_rate_runs_are_anchored_steps(value: int, unit: str, after: datetime, start_offset: int | None,
                                      count: int) -> None:
    expression = f"rate({value} {unit if value > 1 else unit[:-1]})"
    step = timedelta(**{unit: value})
    start = None if start_offset is None else after + timedelta(minutes=start_offset)
    runs = [run.astimezone(UTC) for run in next_runs(expression, "Europe/London", after, count, start=start)]
    anchor = start if start is not None else after
    assert len(runs) == count
    assert runs[0] > after and runs[0] - step <= max(after, anchor - step)
    for earlier, later in zip(runs, runs[1:]):
        assert later - earlier == step
    assert (runs[0] - anchor) % step == timedelta(0)


@settings(max_examples=300, deadline=None)
@given(expression=cron_expressions())
def test_every_valid_cron_gets_a_description(expression: str) -> None:
    text = describe(expression)
    assert text and text[0].isupper() and "  " not in text and not text.endswith(",")
