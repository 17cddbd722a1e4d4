"""The upcoming-runs calendar (schedules.upcoming): per hour, in a display time zone, DST as AWS does it."""
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from awslang.expressions import next_runs
from schedules.upcoming import calendar


@dataclass
class Row:
    name: str
    expression: str
    timezone: str = "UTC"
    state: str = "ENABLED"
    start_date: datetime | None = None
    end_date: datetime | None = None
    last_applied: datetime | None = None


NOW = datetime(2027, 3, 25, 12, 30, tzinfo=UTC)  # the Thursday before Europe/London springs forward


def cell(cal, day: str, hour: int):
    return next(d for d in cal.days if d.day.isoformat() == day).cells[hour]


def test_the_batch_server_pair_runs_once_a_night_each():
    rows = [Row("Start_batch_server_11PM", "cron(0 23 * * ? *)", "Europe/London"),
            Row("Stop_batch_server_6AM", "cron(0 6 * * ? *)", "Europe/London")]
    cal = calendar(rows, now=NOW, zone="Europe/London")
    assert cal.total == 14 and [r.total for r in cal.rows] == [7, 7]
    assert cell(cal, "2027-03-25", 23).count == 1 and cell(cal, "2027-03-25", 23).night
    assert cell(cal, "2027-03-26", 6).names == ["Stop_batch_server_6AM"]
    # After the clocks go forward (28 March) London times stay 23:00 and 06:00 on the London grid ...
    assert cell(cal, "2027-03-29", 23).count == 1 and cell(cal, "2027-03-29", 6).count == 1
    # ... and on a UTC grid they move an hour earlier.
    utc = calendar(rows, now=NOW, zone="UTC")
    assert cell(utc, "2027-03-27", 23).count == 1 and cell(utc, "2027-03-29", 22).count == 1
    assert cell(utc, "2027-03-29", 5).count == 1


def test_a_run_in_the_skipped_hour_is_skipped():
    cal = calendar([Row("half past one", "cron(30 1 * * ? *)", "Europe/London")], now=NOW, zone="Europe/London")
    assert cal.total == 6  # 26, 27, 29, 30, 31 March and 1 April: none on the 28th (01:00-02:00 does not exist)
    assert not cell(cal, "2027-03-28", 1).in_window


def test_disabled_schedules_and_ended_ones_do_not_run_and_rates_are_counted_per_hour():
    rows = [Row("off", "rate(5 minutes)", state="DISABLED"),
            Row("ended", "cron(0 * * * ? *)", end_date=datetime(2027, 3, 25, 14, 0, tzinfo=UTC)),
            Row("often", "rate(15 minutes)", start_date=datetime(2027, 3, 1, tzinfo=UTC))]
    cal = calendar(rows, now=NOW, zone="UTC")
    assert [r.schedule.name for r in cal.rows] == ["ended", "often"]
    assert cal.rows[0].total == 1  # 13:00 only: the end is exclusive
    assert cal.rows[1].total == 1 + 167 * 4  # 12:45 in the first hour (runs after now only), then 4 an hour
    assert cell(cal, "2027-03-26", 3).count == 4 and cal.busiest == 5


def test_one_time_schedules_show_their_single_run_if_it_falls_in_the_week():
    rows = [Row("once", "at(2027-03-27T09:15:00)", "America/New_York"), Row("later", "at(2031-06-01T09:00:00)")]
    cal = calendar(rows, now=NOW, zone="UTC")
    assert cal.total == 1 and cell(cal, "2027-03-27", 13).count == 1  # EDT is UTC-4
    assert [r.schedule.name for r in cal.rows] == ["once"]


CRONS = ["cron(* * * * ? *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(10,40 1-3 * * ? *)", "cron(5-59/7 * L * ? *)",
         "cron(0/20 1,2 ? * SUN *)", "rate(7 minutes)", "rate(1 hour)"]
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]
NOWS = [datetime(2027, 3, 27, 22, 17, 33, tzinfo=UTC), datetime(2027, 10, 30, 23, 59, tzinfo=UTC),
        datetime(2027, 11, 6, 3, 3, tzinfo=UTC)]


@pytest.mark.parametrize("now", NOWS, ids=lambda n: n.strftime("%Y-%m-%d"))
@pytest.mark.parametrize("expression", CRONS)
def test_hourly_counts_match_every_single_run_from_next_runs(expression, now):
    """The calendar counts frequent schedules without listing each run; the counts must equal
    bucketing every run next_runs gives, across DST changes and zones offset by 30 or 45 minutes."""
    start_date, end_date = datetime(2027, 3, 28, 5, 7, tzinfo=UTC), datetime(2027, 11, 8, 0, 0, tzinfo=UTC)
    for zone in ZONES:
        for display in ("UTC", "Asia/Kolkata", "Europe/London"):
            row = Row("x", expression, zone, start_date=start_date if now.month == 3 else None, end_date=end_date,
                      last_applied=datetime(2027, 1, 1, 0, 3, tzinfo=UTC))
            cal = calendar([row], now=now, zone=display)
            origin = cal.start.astimezone(UTC)
            until = min(origin + timedelta(days=7), end_date)
            start = row.start_date or (row.last_applied if expression.startswith("rate(") else None)
            runs = next_runs(expression, zone, now, 20000, start=start, end=until)
            expected = Counter((run - origin) // timedelta(hours=1) for run in runs)
            got = {round(left * 168 / 100): count for row_ in cal.rows for left, count, _ in row_.marks}
            assert got == dict(expected), (zone, display)
