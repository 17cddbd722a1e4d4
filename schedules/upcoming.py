"""Upcoming runs: every schedule's invocations over the next days, counted per hour. Pure.

The picture is drawn in one display time zone: a day × hour grid (how many runs, and which
schedules, fire in each hour) and one timeline strip per schedule. Runs come from
expressions.next_runs through handler.runs_of, so daylight-saving rules are the ones AWS applies.

Cost does not grow with a schedule's frequency: rate schedules are counted per hour by
arithmetic, and a cron schedule that fires several minutes an hour is read one run per hour
(tests/schedules/test_upcoming.py checks both against every run next_runs lists). 2,000 mixed
schedules take a few hundred milliseconds.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import expressions
from .kind import runs_of

NIGHT = set(range(0, 6)) | {22, 23}  # "what fires overnight"
NAMES_PER_CELL = 8
HOUR = timedelta(hours=1)


@dataclass
class Cell:
    hour: int
    count: int = 0
    names: list[str] = field(default_factory=list)
    more: int = 0
    in_window: bool = True
    level: int = 0  # 0 (no run) to 4 (the busiest hour), for the shading

    @property
    def night(self) -> bool:
        return self.hour in NIGHT


@dataclass
class Day:
    day: date
    cells: list[Cell]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.cells)


@dataclass
class Row:
    schedule: object
    total: int
    marks: list[tuple[float, int, str]]  # (left %, runs in that hour, "Mon 23:00")
    capped: bool = False


@dataclass
class Calendar:
    zone: str
    start: datetime
    end: datetime
    hours: int
    days: list[Day]
    rows: list[Row]
    total: int

    @property
    def busiest(self) -> int:
        return max((c.count for d in self.days for c in d.cells), default=0)


def _spec_of(schedule) -> dict:
    """The few fields runs_of needs, from the schedule's denormalised columns (no JSON read)."""
    return {"ScheduleExpression": schedule.expression, "ScheduleExpressionTimezone": schedule.timezone or "UTC",
            "State": schedule.state or "ENABLED", "StartDate": schedule.start_date, "EndDate": schedule.end_date}


def _rate_counts(schedule, *, now: datetime, buckets: list[datetime], end: datetime,
                 anchor: datetime | None) -> Counter | None:
    """Runs per hour of a rate schedule, counted arithmetically (rate(1 minute) is 10,080 runs a
    week: no need to list them). None for any other expression. Same rule as next_runs: from the
    start date (or when it was applied, or now), every interval; only runs after `now`."""
    if schedule.state not in ("ENABLED", "") or not (schedule.expression or "").startswith("rate("):
        return None
    try:
        step = expressions.parse(schedule.expression, strict_rate_units=False).interval
    except expressions.ExpressionError:
        return Counter()
    origin = schedule.start_date or anchor or now
    first = origin if origin > now else origin + ((now - origin) // step + 1) * step
    bound = min(end, schedule.end_date) if schedule.end_date else end
    counts: Counter = Counter()
    if first >= bound:
        return counts
    before = 0  # runs in [first, bucket start): ceil((bucket start - first) / step), never negative
    for index, low in enumerate(buckets):
        high = min(low + HOUR, bound)
        upto = -((first - high) // step) if high > first else 0
        if upto > before:
            counts[index] = upto - before
        before = max(before, upto)
        if high >= bound:
            break
    return counts


def _cron_counts(schedule, *, now: datetime, start: datetime, end: datetime) -> Counter | None:
    """Runs per hour of a cron schedule that runs several minutes an hour, without listing every
    run: the same minutes repeat in each matching hour, so one run per hour (at the first minute)
    is enough, with the other minutes added by arithmetic. Hours that straddle now, the window's
    end or the schedule's start/end dates are counted minute by minute. DST: an hour the clocks
    skip has no run; a repeated hour runs once (its first occurrence), as next_runs does.
    None when another way is as cheap (at most one minute an hour) or the expression is not cron.
    """
    if schedule.state not in ("ENABLED", "") or not (schedule.expression or "").startswith("cron("):
        return None
    try:
        cron = expressions.parse(schedule.expression)
    except expressions.ExpressionError:
        return Counter()
    minutes = cron.minutes
    if len(minutes) <= 1:
        return None
    first, span = minutes[0], timedelta(minutes=minutes[-1] - minutes[0])
    hourly = f"cron({first} {' '.join(cron.fields[1:])})"
    try:
        hour_runs = expressions.next_runs(hourly, schedule.timezone or "UTC", now - span - timedelta(microseconds=1),
                                          len(buckets_of(start, end)) + 2, end=end)
    except (expressions.ExpressionError, ValueError):
        return Counter()
    low = max(now + timedelta(microseconds=1), schedule.start_date) if schedule.start_date else now + timedelta(
        microseconds=1)
    high = min(end, schedule.end_date) if schedule.end_date else end
    offsets = [timedelta(minutes=m - first) for m in minutes]
    counts: Counter = Counter()
    for run in hour_runs:
        if run >= low and run + span < high:
            index, within = divmod(run - start, HOUR)
            # Minutes that spill past the bucket's end (display zone offset by 30 or 45 minutes).
            stay = bisect_left(offsets, HOUR - within)
            counts[index] += stay
            if stay < len(offsets) and index + 1 < len(buckets_of(start, end)):
                counts[index + 1] += len(offsets) - stay
            continue
        for offset in offsets:
            moment = run + offset
            if low <= moment < high:
                counts[(moment - start) // HOUR] += 1
    return counts


def buckets_of(start: datetime, end: datetime) -> range:
    return range((end - start) // HOUR)


def calendar(schedules, *, now: datetime, zone: str = "UTC", days: int = 7) -> Calendar:
    tz = ZoneInfo(zone)
    start = now.astimezone(tz).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    hours = days * 24
    end = start + timedelta(hours=hours)
    cap = hours * 60 + 1  # at most one run a minute
    buckets = [start + timedelta(hours=i) for i in range(hours)]
    # Everything about a bucket is worked out once: its grid cell, its label, its place on a strip.
    locals_ = [moment.astimezone(tz) for moment in buckets]
    grid: dict[tuple[date, int], Cell] = {}
    day_order: list[date] = []
    for local in locals_:
        if local.date() not in day_order:
            day_order.append(local.date())
        grid.setdefault((local.date(), local.hour), Cell(local.hour))
    cells = [grid[(local.date(), local.hour)] for local in locals_]
    labels = [local.strftime("%a %d %b %H:00") for local in locals_]
    lefts = [round(index * 100 / hours, 3) for index in range(hours)]
    rows, total = [], 0
    for schedule in schedules:
        anchor = getattr(schedule, "last_applied", None)
        counts = _rate_counts(schedule, now=now, buckets=buckets, end=end, anchor=anchor)
        if counts is None:
            counts = _cron_counts(schedule, now=now, start=start, end=end)
        if counts is None:
            runs = runs_of(_spec_of(schedule), count=cap, now=now, anchor=anchor, until=end)
            counts = Counter(int((run - start) // HOUR) for run in runs if run < end)  # at() ignores `until`
        if not counts:
            continue
        marks = []
        for index in sorted(counts):
            cell, found = cells[index], counts[index]
            cell.count += found
            if schedule.name in cell.names:
                pass
            elif len(cell.names) < NAMES_PER_CELL:
                cell.names.append(schedule.name)
            else:
                cell.more += 1
            marks.append((lefts[index], found, labels[index]))
        runs_total = sum(counts.values())
        total += runs_total
        rows.append(Row(schedule, runs_total, marks, capped=runs_total >= cap))
    busiest = max((c.count for c in grid.values()), default=0)
    for cell in grid.values():
        cell.level = -(-cell.count * 4 // busiest) if cell.count else 0
    day_list = []
    for day in day_order:
        cells = [grid.get((day, hour)) or Cell(hour, in_window=False) for hour in range(24)]
        day_list.append(Day(day, cells))
    return Calendar(zone=zone, start=start.astimezone(tz), end=end.astimezone(tz), hours=hours, days=day_list,
                    rows=rows, total=total)
