"""What EventConsole fetches from CloudWatch: namespaces, metric names, dimensions, periods and windows.

Pure data and small functions (no Django models, no AWS). Facts:
- AWS/Events: a rule on the default bus is the dimension `RuleName` alone; a rule on a custom bus is
  `EventBusName` + `RuleName`. Several of its metrics exist only when they are not zero.
- AWS/Scheduler: the only dimension is `ScheduleGroup` (there is no per-schedule metric).
- GetMetricData: at most 500 queries per call; `Id` starts with a lowercase letter; Period a multiple of
  60; 1-minute data is kept 15 days, 5-minute data 63 days, 1-hour data 455 days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EVENTS, SCHEDULER = "AWS/Events", "AWS/Scheduler"
MAX_QUERIES_PER_CALL = 500
STAT = "Sum"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    # True: CloudWatch has datapoints only when the count is not zero, so a fetched series without any
    # datapoint means 0. False: a missing datapoint means AWS reported nothing ("no data").
    zero_when_missing: bool
    failing: bool = False  # counts toward the rules list's "failing" filter


EVENTS_METRICS = (
    Metric("Invocations", "Invocations", True),
    Metric("FailedInvocations", "Failed invocations", True, failing=True),
    Metric("TriggeredRules", "Triggered rules", True),
    Metric("MatchedEvents", "Matched events", False),
    Metric("DeadLetterInvocations", "Dead-letter invocations", True, failing=True),
    Metric("ThrottledRules", "Throttled rules", False),
    Metric("InvocationsSentToDlq", "Invocations sent to DLQ", True, failing=True),
    Metric("InvocationsFailedToBeSentToDlq", "Invocations failed to be sent to DLQ", True),
)
SCHEDULER_METRICS = (
    Metric("InvocationAttemptCount", "Invocation attempts", False),
    Metric("TargetErrorCount", "Target errors", True),
    Metric("TargetErrorThrottledCount", "Target errors (throttled)", True),
    Metric("InvocationThrottleCount", "Invocation throttles", True),
    Metric("InvocationDroppedCount", "Invocations dropped", True),
    Metric("InvocationsSentToDeadLetterCount", "Invocations sent to DLQ", True),
    Metric("InvocationsFailedToBeSentToDeadLetterCount", "Invocations failed to be sent to DLQ", True),
)
METRICS = {EVENTS: EVENTS_METRICS, SCHEDULER: SCHEDULER_METRICS}
FAILING = tuple(m.name for m in EVENTS_METRICS if m.failing)
SPARKLINE_METRIC = "Invocations"


@dataclass(frozen=True)
class Window:
    """One GetMetricData time window: every query of a call shares its StartTime and EndTime."""

    key: str
    period: int  # seconds
    span: timedelta


# 5-minute points over the last 24 hours (the 3 h and 24 h charts), 1-hour points over 7 days.
FIVE_MINUTES = Window("5m", 300, timedelta(hours=24))
ONE_HOUR = Window("1h", 3600, timedelta(days=7))
WINDOWS = (FIVE_MINUTES, ONE_HOUR)


@dataclass(frozen=True)
class Range:
    """A chart's range and the window whose points draw it."""

    key: str
    label: str
    span: timedelta
    window: Window


RANGES = (Range("3h", "3 hours", timedelta(hours=3), FIVE_MINUTES),
          Range("24h", "24 hours", timedelta(hours=24), FIVE_MINUTES),
          Range("7d", "7 days", timedelta(days=7), ONE_HOUR))
RANGE_BY_KEY = {r.key: r for r in RANGES}


def rule_dimensions(bus: str, name: str) -> list[dict[str, str]]:
    """A rule's AWS/Events dimensions: RuleName alone on the default bus, EventBusName + RuleName elsewhere."""
    if not bus or bus == "default":
        return [{"Name": "RuleName", "Value": name}]
    return [{"Name": "EventBusName", "Value": bus}, {"Name": "RuleName", "Value": name}]


def group_dimensions(group: str) -> list[dict[str, str]]:
    return [{"Name": "ScheduleGroup", "Value": group or "default"}]


def dimensions_key(dimensions: list[dict[str, str]]) -> str:
    """The stored form of a set of dimensions: "EventBusName=orders,RuleName=r" (sorted by name)."""
    return ",".join(f"{d['Name']}={d['Value']}" for d in sorted(dimensions, key=lambda d: d["Name"]))


def rule_key(bus: str, name: str) -> str:
    return dimensions_key(rule_dimensions(bus, name))


def group_key(group: str) -> str:
    return dimensions_key(group_dimensions(group))


def query_id(index: int) -> str:
    """GetMetricData's Id: starts with a lowercase letter, then letters, digits, underscores."""
    return f"m{index}"


SPARKLINE_HOURS = 24  # the rules list's sparkline: hourly sums of Invocations over the last day


def floor(moment: datetime, seconds: int) -> datetime:
    """`moment` rounded down to a multiple of `seconds` since the epoch (a period's start), in UTC."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
