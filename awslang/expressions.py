"""EventBridge schedule expressions: parse, validate, describe and preview.

Pure Python (stdlib ``zoneinfo`` only); importable without Django being set up.

Expressions
-----------
``at(yyyy-mm-ddThh:mm:ss)``
    One-time schedule (EventBridge Scheduler only), a wall-clock time in the
    schedule's time zone. Start and end dates are ignored for it. AWS documents
    DST handling for cron only; the same rules (below) are applied here, so an
    at() time inside a spring-forward gap never runs.

``rate(value unit)``
    ``value`` is a positive integer; ``unit`` is minute(s), hour(s) or day(s).
    EventBridge *rules* require the singular unit for 1 and the plural for
    larger values (``rate(1 hours)`` and ``rate(5 hour)`` are rejected).
    EventBridge *Scheduler* is laxer: its own guide writes ``rate(1 days)``.
    :func:`validate` is strict by default, so anything the console produces is
    accepted by both services; :func:`describe` and :func:`next_runs` read the
    lax form too, so schedules created elsewhere still render.
    A rate schedule first fires at its StartDate, or at creation time when it
    has none, then every ``value`` units of elapsed time: ``rate(1 days)`` is
    always 24 hours, even across a 23- or 25-hour DST day.

``cron(minutes hours day-of-month month day-of-week year)``
    Exactly six fields (a five-field Unix cron is rejected):

    ==============  ===============  ===============
    Field           Values           Wildcards
    ==============  ===============  ===============
    Minutes         0-59             , - * /
    Hours           0-23             , - * /
    Day of month    1-31             , - * ? / L W
    Month           1-12 or JAN-DEC  , - * /
    Day of the week 1-7 or SUN-SAT   , - * ? L #
    Year            1970-2199        , - * /
    ==============  ===============  ===============

    * ``?`` must appear in exactly one of day-of-month and day-of-week; a value
      or ``*`` in one of them requires ``?`` in the other.
    * ``a-b`` ranges (they may wrap, e.g. hours ``20-2``; years may not),
      ``/`` steps after ``*``, a value or a range (``0/15``, ``11-23/2``),
      and comma lists of all of these.
    * Day of month: ``L`` (last day), ``nW`` (weekday nearest day n, never
      crossing into another month; no run in a month that has no day n) and
      ``LW`` (last weekday of the month).
    * Day of the week (1 = SUN ... 7 = SAT): ``L`` alone means Saturday (the
      last day of the week), ``nL`` the last weekday n of the month (``6L`` is
      the last Friday), ``n#k`` the k-th (1-5) weekday n of the month;
      ``3#1,6#3`` is invalid (only one ``#`` expression is allowed).
    * ``L``, ``LW``, ``nW``, ``nL`` and ``n#k`` must be the whole field.
    * Names and letters are case-insensitive (``mon-fri`` works like ``MON-FRI``).

    ``LW`` and ``nL`` are not in the AWS reference table but are accepted by the
    AWS console (Quartz syntax); Quartz's ``L-n`` offsets are not supported.

Expressions are at most 256 characters (the ScheduleExpression API limit).

Time zones and daylight saving time (EventBridge Scheduler semantics)
----------------------------------------------------------------------
Cron and at() expressions are evaluated in the wall-clock time of an IANA time
zone. AWS: "When the time shifts forward in Spring, your schedule invocation
gets skipped if the cron expression falls on a non-existent date and time.
When the time shifts back in the Fall, your schedule runs only once and
doesn't repeat its invocation" (AWS Knowledge Center "How can I adjust my
Amazon EventBridge schedule for daylight saving?", and "Schedule types on
EventBridge Scheduler"). So:

* a wall time inside a spring-forward gap produces no run;
* a wall time repeated by a fall-back runs once, at its *first* occurrence
  (the instant with the daylight-time offset, ``fold=0``). AWS does not say
  which occurrence it uses; the first one is the moment the wall clock first
  shows that time, and the second occurrence is the "repeat" AWS says it
  suppresses. The same rule applies to every minute of the repeated hour, so
  ``*/15`` runs 01:00, 01:15, 01:30, 01:45 (daylight time) and then 02:00
  (standard time).

Start and end dates follow the Scheduler API: invocations "occur on, or after,
the StartDate" (inclusive) and happen "before" the EndDate (exclusive).

Performance
-----------
Parsed expressions are cached. :func:`next_runs` walks only the allowed years,
months and days (computing each month's matching days directly), then the
precomputed hour and minute sets, so sparse expressions such as Feb 29 or a
fifth Friday cost a handful of steps rather than a minute-by-minute scan.
No third-party cron library is used.

The behaviours above, with their sources: docs/aws-behaviours.md, "Schedule expressions".
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AtExpression",
    "CronExpression",
    "DayOfMonth",
    "DayOfWeek",
    "ExpressionError",
    "MAX_LENGTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "MONTH_NAMES",
    "ParsedExpression",
    "RateExpression",
    "WEEKDAY_NAMES",
    "at_from",
    "cron_from_fields",
    "describe",
    "next_runs",
    "parse",
    "rate_from",
    "validate",
]

MIN_YEAR = 1970
MAX_YEAR = 2199
MAX_LENGTH = 256  # ScheduleExpression length limit in both APIs

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS numbers them 1-7

_MONTH_TITLES = ("January", "February", "March", "April", "May", "June", "July",
                 "August", "September", "October", "November", "December")
_WEEKDAY_TITLES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ORDINALS = ("first", "second", "third", "fourth", "fifth")

_RATE_UNITS = {
    "minute": "minutes", "minutes": "minutes",
    "hour": "hours", "hours": "hours",
    "day": "days", "days": "days",
}


class ExpressionError(ValueError):
    """An expression (or one of its parts) that EventBridge would reject.

    ``field`` names the part at fault: "minutes", "hours", "day-of-month",
    "month", "day-of-week", "year", "rate value", "rate unit", "at",
    "expression" or "timezone". The message starts with the matching console
    label, e.g. ``Hours: 24 is out of range; allowed values are 0-23``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --------------------------------------------------------------------------- parsed forms


@dataclass(frozen=True)
class AtExpression:
    """``at(...)``: one wall-clock time, interpreted in the schedule's time zone."""

    when: datetime  # naive
    kind: Literal["at"] = field(default="at", init=False)


@dataclass(frozen=True)
class RateExpression:
    value: int
    unit: str  # always plural: "minutes", "hours" or "days"
    kind: Literal["rate"] = field(default="rate", init=False)

    @property
    def interval(self) -> timedelta:
        return timedelta(**{self.unit: self.value})


@dataclass(frozen=True)
class DayOfMonth:
    """Day-of-month rule. ``kind`` is "days" (``days`` lists them), "last" (L),
    "last-weekday" (LW) or "nearest-weekday" (``day``W)."""

    kind: Literal["days", "last", "last-weekday", "nearest-weekday"]
    days: tuple[int, ...] = ()
    day: int = 0


@dataclass(frozen=True)
class DayOfWeek:
    """Day-of-week rule, weekdays numbered like AWS (1 = Sunday ... 7 = Saturday).
    ``kind`` is "days" (``days`` lists them), "last" (``weekday``L) or "nth"
    (``weekday``#``nth``)."""

    kind: Literal["days", "last", "nth"]
    days: tuple[int, ...] = ()
    weekday: int = 0
    nth: int = 0


@dataclass(frozen=True)
class CronExpression:
    """A validated cron expression with every field expanded to sorted values.

    Exactly one of ``day_of_month`` / ``day_of_week`` is set; the other was ``?``.
    """

    fields: tuple[str, ...]  # the six fields as written
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: DayOfMonth | None
    months: tuple[int, ...]
    day_of_week: DayOfWeek | None
    years: tuple[int, ...]
    kind: Literal["cron"] = field(default="cron", init=False)

    def days_in_month(self, year: int, month: int) -> tuple[int, ...]:
        """The days of ``year``-``month`` that the day fields select."""
        length = calendar.monthrange(year, month)[1]
        if self.day_of_month is not None:
            return _month_days(self.day_of_month, year, month, length)
        assert self.day_of_week is not None
        return _week_days(self.day_of_week, year, month, length)


ParsedExpression: TypeAlias = AtExpression | RateExpression | CronExpression


def _aws_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return day.isoweekday() % 7 + 1


def _month_days(rule: DayOfMonth, year: int, month: int, length: int) -> tuple[int, ...]:
    if rule.kind == "days":
        return rule.days[: bisect_left(rule.days, length + 1)]
    if rule.kind == "last":
        return (length,)
    if rule.kind == "last-weekday":
        weekday = _aws_weekday(date(year, month, length))
        return (length - {1: 2, 7: 1}.get(weekday, 0),)  # Sunday or Saturday -> that Friday
    # nearest-weekday: Saturday moves to Friday, Sunday to Monday, but never out of the month.
    if rule.day > length:
        return ()
    weekday = _aws_weekday(date(year, month, rule.day))
    if weekday == 7:
        return (rule.day + 2,) if rule.day == 1 else (rule.day - 1,)
    if weekday == 1:
        return (rule.day - 2,) if rule.day == length else (rule.day + 1,)
    return (rule.day,)


def _week_days(rule: DayOfWeek, year: int, month: int, length: int) -> tuple[int, ...]:
    first = _aws_weekday(date(year, month, 1))
    if rule.kind == "days":
        wanted = set(rule.days)
        return tuple(day for day in range(1, length + 1) if (first + day - 2) % 7 + 1 in wanted)
    if rule.kind == "nth":
        day = 1 + (rule.weekday - first) % 7 + 7 * (rule.nth - 1)
        return (day,) if day <= length else ()
    last = (first + length - 2) % 7 + 1
    return (length - (last - rule.weekday) % 7,)


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Field:
    key: str
    label: str
    low: int
    high: int
    wildcards: str
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    @property
    def allowed(self) -> str:
        return f"{self.low}-{self.high}" + (f" or {self.names[0]}-{self.names[-1]}" if self.names else "")


_MINUTES = _Field("minutes", "Minutes", 0, 59, ", - * /")
_HOURS = _Field("hours", "Hours", 0, 23, ", - * /")
_DAY_OF_MONTH = _Field("day-of-month", "Day of month", 1, 31, ", - * ? / L W")
_MONTH = _Field("month", "Month", 1, 12, ", - * /", MONTH_NAMES)
_DAY_OF_WEEK = _Field("day-of-week", "Day of the week", 1, 7, ", - * ? L #", WEEKDAY_NAMES)
_YEAR = _Field("year", "Year", MIN_YEAR, MAX_YEAR, ", - * /")
_CRON_FIELDS = (_MINUTES, _HOURS, _DAY_OF_MONTH, _MONTH, _DAY_OF_WEEK, _YEAR)

_ITEM = re.compile(r"(\*|[0-9A-Z]+)(?:-([0-9A-Z]+))?(?:/([0-9]+))?")
_AT = re.compile(r"at\(([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\)")
_WRAPPED = re.compile(r"(cron|rate|at)\((.*)\)", re.DOTALL)

_BAD_CHARACTER = re.compile(r"[^0-9A-Z,\-*/?#]")
_L_ITEM = re.compile(r"L(W|-[0-9]+)?|([0-9]+|SUN|MON|TUE|WED|THU|FRI|SAT)L")
_W_ITEM = re.compile(r"[0-9]*W")
_WILDCARD_HOMES = {
    "?": "Day of month and Day of the week",
    "L": "Day of month and Day of the week",
    "W": "Day of month",
    "#": "Day of the week",
}


def _wildcard_in(item: str) -> str | None:
    """The special wildcard an unparseable item tries to use, if any (so that
    names such as JULY or WEDNESDAY are not mistaken for L or W)."""
    for wildcard in "?#":
        if wildcard in item:
            return wildcard
    if _L_ITEM.fullmatch(item):
        return "L"
    if _W_ITEM.fullmatch(item):
        return "W"
    return None


def _error(spec: _Field, rule: str) -> ExpressionError:
    return ExpressionError(spec.key, f"{spec.label}: {rule}")


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _value(text: str, spec: _Field) -> int:
    if _is_number(text):
        number = int(text)
        if not spec.low <= number <= spec.high:
            raise _error(spec, f"{number} is out of range; allowed values are {spec.low}-{spec.high}")
        return number
    if text in spec.names:
        return spec.low + spec.names.index(text)
    raise _bad_item(text, spec)


def _bad_item(item: str, spec: _Field) -> ExpressionError:
    """The most helpful complaint about a list item that is not a value, range or step."""
    wildcard = _wildcard_in(item)
    if wildcard is not None and wildcard not in spec.wildcards:
        return _error(spec, f'"{wildcard}" is only allowed in {_WILDCARD_HOMES[wildcard]}')
    if wildcard is not None:
        return _error(spec, f'"{item}" must be the whole field; it cannot be combined with lists, '
                            "ranges or steps")
    noun = "value" if not spec.names else "name or number"
    return _error(spec, f'"{item}" is not a valid {noun}; allowed values are {spec.allowed}')


def _expand_item(item: str, spec: _Field) -> list[int]:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise _bad_item(item, spec)
    first, last, step_text = match.groups()
    if first == "*":
        if last is not None:
            raise _error(spec, f'"{item}" is not valid; "*" cannot start a range')
        low, high = spec.low, spec.high
    else:
        low = _value(first, spec)
        high = _value(last, spec) if last is not None else (spec.high if step_text else low)
    size = spec.high - spec.low + 1
    step = 1
    if step_text is not None:
        step = int(step_text)
        # AWS's cron (Quartz) refuses an increment past the field's highest value: minutes 0/60,
        # hours 0/24, day of month 1/32, month 1/13. Years have no such bound beyond the field.
        largest = size if spec is _YEAR else spec.high
        if not 1 <= step <= largest:
            raise _error(spec, f'the step in "{item}" must be between 1 and {largest}')
    if low <= high:
        return list(range(low, high + 1, step))
    if spec is _YEAR:
        raise _error(spec, f'the range "{item}" runs backwards; write the earlier year first')
    # Ranges wrap around the end of the field, e.g. hours 20-2 or FRI-MON.
    span = (high - low) % size
    return [spec.low + (low - spec.low + offset) % size for offset in range(0, span + 1, step)]


def _expand(text: str, spec: _Field) -> tuple[int, ...]:
    """Expand a field made of values, ranges, steps and comma lists."""
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _error(spec, f'"{text}" has an empty entry in its comma list')
        values.update(_expand_item(item, spec))
    return tuple(sorted(values))


def _check_characters(text: str, spec: _Field) -> None:
    if not text:
        raise _error(spec, "a value is required")
    if any(char.isspace() for char in text):
        raise _error(spec, f'"{text}" must not contain spaces')
    bad = _BAD_CHARACTER.search(text)
    if bad:
        raise _error(spec, f'"{bad.group()}" is not allowed; use values {spec.allowed} and the '
                           f"wildcards {spec.wildcards}")


def _parse_day_of_month(text: str) -> DayOfMonth | None:
    spec = _DAY_OF_MONTH
    if text == "?":
        return None
    if text == "L":
        return DayOfMonth("last")
    if text == "LW":
        return DayOfMonth("last-weekday")
    if text.startswith("L-"):
        raise _error(spec, f'"{text}": offsets from the last day (L-n) are not supported; use L')
    if text.endswith("W"):
        day = text[:-1]
        if not _is_number(day):
            raise _error(spec, f'"W" must follow a single day 1-31, e.g. 15W (got "{text}")')
        return DayOfMonth("nearest-weekday", day=_value(day, spec))
    return DayOfMonth("days", days=_expand(text, spec))


def _parse_day_of_week(text: str) -> DayOfWeek | None:
    spec = _DAY_OF_WEEK
    if text == "?":
        return None
    if text == "L":
        return DayOfWeek("days", days=(7,))
    if "#" in text:
        weekday, _, nth = text.partition("#")
        if "," in text or "-" in text or "/" in text or "#" in nth:
            raise _error(spec, f'"{text}": "#" must be used with a single weekday and is allowed only '
                               "once, e.g. 3#2 (lists such as 3#1,6#3 are not allowed)")
        if not _is_number(nth) or not 1 <= int(nth) <= 5:
            raise _error(spec, f'"{text}": the number after "#" must be 1-5 (the week of the month)')
        return DayOfWeek("nth", weekday=_value(weekday, spec), nth=int(nth))
    if text.endswith("L") and "," not in text and "-" not in text and "/" not in text:
        return DayOfWeek("last", weekday=_value(text[:-1], spec))
    return DayOfWeek("days", days=_expand(text, spec))


def _parse_field(text: str, spec: _Field) -> tuple[int, ...]:
    if text == "?" and "?" not in spec.wildcards:
        raise _bad_item(text, spec)
    return _expand(text, spec)


def _parse_cron_fields(raw: Sequence[str]) -> CronExpression:
    fields = tuple(raw)
    upper = [text.upper() for text in fields]
    for text, spec in zip(upper, _CRON_FIELDS):
        _check_characters(text, spec)
    minutes = _parse_field(upper[0], _MINUTES)
    hours = _parse_field(upper[1], _HOURS)
    day_of_month = _parse_day_of_month(upper[2])
    months = _parse_field(upper[3], _MONTH)
    day_of_week = _parse_day_of_week(upper[4])
    years = _parse_field(upper[5], _YEAR)
    if (day_of_month is None) == (day_of_week is None):
        detail = ("both are ?" if day_of_month is None
                  else "a value or * in one of them requires ? in the other; * in both is not allowed")
        raise ExpressionError(
            "day-of-week",
            f'Day of the week: "?" must be used in exactly one of Day of month and Day of the week '
            f"({detail})",
        )
    return CronExpression(fields, minutes, hours, day_of_month, months, day_of_week, years)


def _parse_cron(inner: str) -> CronExpression:
    fields = inner.split()
    if len(fields) == 5:
        raise ExpressionError(
            "expression",
            "Expression: EventBridge cron expressions need 6 fields (minutes hours day-of-month month "
            "day-of-week year) but this one has 5, like a Unix cron. Add a year (e.g. *) and use ? "
            "in either day-of-month or day-of-week, e.g. cron(0 12 * * ? *).",
        )
    if len(fields) != 6:
        extra = " (seconds are not supported)" if len(fields) == 7 else ""
        raise ExpressionError(
            "expression",
            f"Expression: cron expressions need exactly 6 fields (minutes hours day-of-month month "
            f"day-of-week year); got {len(fields)}{extra}",
        )
    return _parse_cron_fields(fields)


_RATE_INNER = re.compile(r"([^\s]+) ([^\s]+)")


def _parse_rate(inner: str, strict_units: bool) -> RateExpression:
    parts = inner.split()
    if len(parts) != 2:
        raise ExpressionError("expression", "Expression: rate expressions look like rate(5 minutes): "
                                            "a value and a unit")
    if _RATE_INNER.fullmatch(inner) is None:
        # AWS refuses rate( 5 minutes) and rate(5 minutes ): exactly one space, none inside the parentheses.
        raise ExpressionError("expression", "Expression: write rate(value unit) with one space between the "
                                            "value and the unit and none inside the parentheses, e.g. "
                                            "rate(5 minutes)")
    value_text, unit_text = parts
    if not _is_number(value_text) or int(value_text) < 1:
        raise ExpressionError("rate value", f'Rate value: "{value_text}" must be a positive whole number')
    value = int(value_text)
    unit = _RATE_UNITS.get(unit_text)
    if unit is None:
        raise ExpressionError("rate unit", f'Rate unit: "{unit_text}" must be one of minute, minutes, '
                                           "hour, hours, day, days")
    if strict_units:
        expected = unit if value > 1 else unit[:-1]
        if unit_text != expected:
            raise ExpressionError("rate unit", f'Rate unit: use "{expected}" with the value {value} '
                                               "(singular for 1, plural for more)")
    return RateExpression(value, unit)


def _parse_at(expression: str) -> AtExpression:
    match = _AT.fullmatch(expression)
    if match is None:
        raise ExpressionError("at", "At: one-time schedules look exactly like at(yyyy-mm-ddThh:mm:ss), "
                                    "e.g. at(2026-12-01T09:00:00)")
    try:
        when = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        raise ExpressionError("at", f"At: {expression[3:-1]} is not a real date and time") from None
    return AtExpression(when)


@lru_cache(maxsize=1024)
def parse(expression: str, *, strict_rate_units: bool = True) -> ParsedExpression:
    """Parse and validate ``expression``; raise :class:`ExpressionError` if AWS would reject it.

    With ``strict_rate_units=False`` rate units need not agree with the value
    (``rate(1 days)``), as EventBridge Scheduler allows. Results are cached.
    """
    if isinstance(expression, str) and len(expression) > MAX_LENGTH:
        raise ExpressionError("expression", f"Expression: must be at most {MAX_LENGTH} characters")
    match = _WRAPPED.fullmatch(expression) if isinstance(expression, str) else None
    if match is None:
        hint = ""
        if isinstance(expression, str) and len(expression.split()) in (5, 6) and "(" not in expression:
            hint = "; wrap cron fields as cron(...)"
        raise ExpressionError("expression", "Expression: must be at(yyyy-mm-ddThh:mm:ss), "
                                            f"rate(value unit) or cron(fields){hint}")
    kind, inner = match.groups()
    if kind == "cron":
        return _parse_cron(inner)
    if kind == "rate":
        return _parse_rate(inner, strict_rate_units)
    return _parse_at(expression)


def validate(expression: str, *, strict_rate_units: bool = True) -> None:
    """Raise :class:`ExpressionError` for an expression EventBridge would reject."""
    parse(expression, strict_rate_units=strict_rate_units)


# --------------------------------------------------------------------------- builders for the form


def cron_from_fields(minutes: str, hours: str, day_of_month: str, month: str, day_of_week: str,
                     year: str) -> str:
    """Build ``cron(...)`` from the console's six inputs, validating each one.

    Errors carry the failing input in ``field`` ("minutes" ... "year"); the
    ``?`` rule is reported against "day-of-week".
    """
    fields = tuple(text.strip() for text in (minutes, hours, day_of_month, month, day_of_week, year))
    _parse_cron_fields(fields)
    expression = f"cron({' '.join(fields)})"
    validate(expression)  # the overall length limit
    return expression


def rate_from(value: int | str, unit: str) -> str:
    """Build ``rate(value unit)``, choosing singular or plural to match the value."""
    text = str(value).strip()
    if not _is_number(text) or len(text) > MAX_LENGTH or int(text) < 1:
        raise ExpressionError("rate value", f'Rate value: "{text}" must be a positive whole number')
    plural = _RATE_UNITS.get(unit.strip().lower())
    if plural is None:
        raise ExpressionError("rate unit", f'Rate unit: "{unit}" must be minutes, hours or days')
    number = int(text)
    expression = f"rate({number} {plural if number > 1 else plural[:-1]})"
    validate(expression)  # the overall length limit
    return expression


def at_from(day: date | str, clock: time | str) -> str:
    """Build ``at(yyyy-mm-ddThh:mm:ss)`` from a date (``date``, YYYY-MM-DD or
    YYYY/MM/DD) and a 24-hour time (``time``, hh:mm or hh:mm:ss)."""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip().replace("/", "-"))
        except ValueError:
            raise ExpressionError("at", f'At: "{day}" is not a date in the form YYYY/MM/DD') from None
    if isinstance(clock, str):
        text = clock.strip()
        if not re.fullmatch(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?", text):
            raise ExpressionError("at", f'At: "{clock}" is not a 24-hour time in the form hh:mm')
        try:
            clock = time.fromisoformat(text)
        except ValueError:
            raise ExpressionError("at", f'At: "{clock}" is not a valid time of day') from None
    return f"at({datetime.combine(day, clock.replace(microsecond=0, tzinfo=None)).isoformat()})"


# --------------------------------------------------------------------------- next runs


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ExpressionError("timezone", f'Time zone: "{name}" is not an IANA time zone name, '
                                          "e.g. Europe/London") from None


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def _first_instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant at which ``zone``'s clocks first show ``wall``; None if
    they never do (the time falls in a spring-forward gap)."""
    try:
        instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the earlier of repeated times
    except OverflowError:  # at(0001-...) or at(9999-...) shifted out of datetime's range
        return None
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def _wall_times(cron: CronExpression, begin: datetime) -> Iterator[datetime]:
    """Every naive wall time at or after ``begin`` that matches ``cron``, in order."""
    for year in cron.years[bisect_left(cron.years, begin.year):]:
        in_first_year = year == begin.year
        for month in cron.months:
            if in_first_year and month < begin.month:
                continue
            in_first_month = in_first_year and month == begin.month
            for day in cron.days_in_month(year, month):
                if in_first_month and day < begin.day:
                    continue
                on_first_day = in_first_month and day == begin.day
                for hour in cron.hours:
                    if on_first_day and hour < begin.hour:
                        continue
                    in_first_hour = on_first_day and hour == begin.hour
                    for minute in cron.minutes:
                        if in_first_hour and minute < begin.minute:
                            continue
                        yield datetime(year, month, day, hour, minute)


_BEFORE_ANY_CRON_RUN = datetime(MIN_YEAR - 1, 12, 30, tzinfo=UTC)


def _cron_runs(cron: CronExpression, zone: ZoneInfo, after: datetime, count: int,
               start: datetime | None, end: datetime | None) -> list[datetime]:
    lower = max(after, start) if start is not None else after
    if lower.year > MAX_YEAR:
        return []
    lower = max(lower, _BEFORE_ANY_CRON_RUN)  # also keeps astimezone() clear of datetime.min
    # Wall times map to first instants monotonically, so scanning from the wall
    # time of ``lower`` misses nothing; candidates from the first pass of a
    # repeated hour that precede ``lower`` are filtered out below.
    begin = lower.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    runs: list[datetime] = []
    for wall in _wall_times(cron, begin):
        instant = _first_instant(wall, zone)
        if instant is None or instant <= after or (start is not None and instant < start):
            continue
        if end is not None and instant >= end:
            break
        runs.append(instant.astimezone(zone))
        if len(runs) == count:
            break
    return runs


def _rate_runs(rate: RateExpression, zone: ZoneInfo, after: datetime, count: int,
               start: datetime | None, end: datetime | None) -> list[datetime]:
    anchor = start if start is not None else after
    runs: list[datetime] = []
    try:
        step = rate.interval
        skipped = 0 if after < anchor else (after - anchor) // step + 1
        moment = anchor + skipped * step
        while len(runs) < count and (end is None or moment < end):
            runs.append(moment.astimezone(zone))
            moment += step
    except OverflowError:  # a huge rate, or stepping past datetime.max
        pass
    return runs


def next_runs(expression: str, timezone: str, after: datetime, count: int,
              start: datetime | None = None, end: datetime | None = None) -> list[datetime]:
    """Up to ``count`` invocation times strictly after ``after``, as aware
    datetimes in ``timezone`` (an IANA name), within ``start`` (inclusive) and
    ``end`` (exclusive).

    * ``at()``: its single run (a wall time in ``timezone``) if still ahead;
      ``start``/``end`` are ignored, as AWS ignores them for one-time schedules.
    * ``rate()``: ``start + k * interval`` (k >= 0), or ``after + k * interval``
      (k >= 1) without ``start``; steps are elapsed time, unaffected by DST.
    * ``cron()``: evaluated in local wall time; times in a spring-forward gap
      are skipped and repeated fall-back times run once, at their first
      occurrence (see the module docstring).

    Accepts the lax rate units (``rate(1 days)``) that EventBridge Scheduler
    allows. Raises :class:`ExpressionError` for an invalid expression or time
    zone, and ``ValueError`` for naive datetimes.

    Note: a run inside a repeated (fall-back) hour never compares ``==`` to a
    datetime in another zone (PEP 495); compare ``run.astimezone(UTC)``.
    """
    parsed = parse(expression, strict_rate_units=False)
    zone = _zone(timezone)
    after_utc = _utc(after, "after")
    start_utc = None if start is None else _utc(start, "start")
    end_utc = None if end is None else _utc(end, "end")
    if count <= 0:
        return []
    if isinstance(parsed, AtExpression):
        instant = _first_instant(parsed.when, zone)
        return [instant.astimezone(zone)] if instant is not None and instant > after_utc else []
    if isinstance(parsed, RateExpression):
        return _rate_runs(parsed, zone, after_utc, count, start_utc, end_utc)
    return _cron_runs(parsed, zone, after_utc, count, start_utc, end_utc)


# --------------------------------------------------------------------------- describe


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _runs_of(values: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs in sorted ``values`` as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _listing(values: Sequence[int], name: Callable[[int], str] = str, through: str = "-") -> str:
    """"1, 3 and 8-17": runs of three or more collapse into ranges."""
    words: list[str] = []
    for first, last in _runs_of(values):
        if last - first >= 2:
            words.append(f"{name(first)}{through}{name(last)}")
        else:
            words.extend(name(value) for value in range(first, last + 1))
    return _join(words)


def _progression(values: Sequence[int], spec: _Field) -> tuple[int, int] | None:
    """(start, step) if ``values`` is exactly what ``start/step`` produces."""
    if len(values) < 3:
        return None
    step = values[1] - values[0]
    if step < 2 or values[-1] + step <= spec.high:
        return None
    if any(later - earlier != step for earlier, later in zip(values, values[1:])):
        return None
    return values[0], step


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"


def _hours_phrase(hours: Sequence[int]) -> str:
    if len(hours) == 24:
        return "every hour"
    progression = _progression(hours, _HOURS)
    if progression:
        first, step = progression
        return f"every {step} hours" + (f" from hour {first}" if first else "")
    return f"{_plural(len(hours), 'hour')} {_listing(hours)}"


def _time_phrase(cron: CronExpression) -> str:
    minutes, hours = cron.minutes, cron.hours
    during = "" if len(hours) == 24 else f" during {_hours_phrase(hours)}"
    if len(minutes) == 60:
        return f"Every minute{during}"
    progression = _progression(minutes, _MINUTES)
    if progression:
        first, step = progression
        return f"Every {step} minutes" + (f" from minute {first}" if first else "") + during
    if len(minutes) * len(hours) <= 4:
        return "At " + _join([f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes])
    return f"At {_plural(len(minutes), 'minute')} {_listing(minutes)} past {_hours_phrase(hours)}"


def _weekday_name(number: int) -> str:
    return _WEEKDAY_TITLES[number - 1]


def _day_phrase(cron: CronExpression) -> str:
    dom, dow = cron.day_of_month, cron.day_of_week
    if dom is not None:
        if dom.kind == "last":
            return "on the last day of the month"
        if dom.kind == "last-weekday":
            return "on the last weekday of the month"
        if dom.kind == "nearest-weekday":
            return f"on the weekday nearest day {dom.day} of the month"
        if len(dom.days) == 31:
            return "every day"
        progression = _progression(dom.days, _DAY_OF_MONTH)
        if progression:
            first, step = progression
            return f"every {step} days of the month from day {first}"
        return f"on {_plural(len(dom.days), 'day')} {_listing(dom.days)} of the month"
    assert dow is not None
    if dow.kind == "last":
        return f"on the last {_weekday_name(dow.weekday)} of the month"
    if dow.kind == "nth":
        return f"on the {_ORDINALS[dow.nth - 1]} {_weekday_name(dow.weekday)} of the month"
    if len(dow.days) == 7:
        return "every day"
    runs = _runs_of(dow.days)
    if len(runs) == 1 and runs[0][1] - runs[0][0] >= 2:
        return _listing(dow.days, _weekday_name, " through ")
    return "on " + _listing(dow.days, _weekday_name, " through ")


def _year_phrase(years: Sequence[int]) -> str:
    if len(years) == MAX_YEAR - MIN_YEAR + 1:
        return ""
    progression = _progression(years, _YEAR)
    if progression:
        first, step = progression
        return f"every {step} years from {first}"
    return "in " + _listing(years, str, " through ")


def _describe_cron(cron: CronExpression) -> str:
    day = _day_phrase(cron)
    month = ""
    if len(cron.months) == 1 and day.endswith(" of the month"):
        day = day.removesuffix("the month") + _MONTH_TITLES[cron.months[0] - 1]
    elif len(cron.months) < 12:
        month = "in " + _listing(cron.months, lambda number: _MONTH_TITLES[number - 1], " through ")
        if day == "every day":
            day, month = f"every day {month}", ""
    when = _time_phrase(cron)
    if day == "every day" and when.startswith("Every"):
        day = ""  # "Every 5 minutes" already implies every day
    parts = [when, day, month, _year_phrase(cron.years)]
    return ", ".join(part for part in parts if part)


def describe(expression: str) -> str:
    """Plain-English summary, e.g. "At 06:00, Monday through Friday".

    Never fails for a valid expression; raises :class:`ExpressionError` for an invalid one.
    """
    parsed = parse(expression, strict_rate_units=False)
    if isinstance(parsed, AtExpression):
        stamp = parsed.when.strftime("%Y-%m-%d %H:%M:%S" if parsed.when.second else "%Y-%m-%d %H:%M")
        return f"Once, at {stamp}"
    if isinstance(parsed, RateExpression):
        unit = parsed.unit[:-1]
        return f"Every {unit}" if parsed.value == 1 else f"Every {parsed.value} {parsed.unit}"
    return _describe_cron(parsed)
