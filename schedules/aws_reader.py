"""Reading schedules from AWS into the spec's shape: one schedule for apply, every managed schedule
of an environment for poll.

Only this module (and, through the change engine, schedules.plan's calls) talks to EventBridge
Scheduler, and only through the client factory.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from changes.kinds import Discovered, DiscoveryPage
from changes.polling import LiveRead
from environments import aws

from .plan import MISSING_GROUP
from .spec import SCHEDULE_FIELDS, canonical_schedule_spec, iso_precise

PAGE = 100  # ListSchedules' largest page
MODIFIED = "LastModificationDate"
POLL_SERVICES = ("scheduler",)  # the clients a poll calls (changes.polling counts them)
READERS = 8  # concurrent GetSchedule calls in a poll: well under Scheduler's default request rate


def not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def spec_from_api(schedule: dict[str, Any]) -> dict[str, Any]:
    """GetSchedule's answer → the spec's shape (canonical, dates as UTC ISO strings), plus the
    schedule's Arn and LastModificationDate (kept, never compared; see `split_modified`)."""
    spec = canonical_schedule_spec({k: schedule.get(k) for k in SCHEDULE_FIELDS})
    spec["Arn"] = schedule.get("Arn", "")
    spec[MODIFIED] = iso_precise(schedule.get("LastModificationDate"))
    return spec


def split_modified(live: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """(the live snapshot to store, its LastModificationDate): the date is stored on its own, so
    the snapshot compares and diffs as the spec does."""
    if live is None or MISSING_GROUP in live:
        return None, ""
    snapshot = dict(live)
    return snapshot, snapshot.pop(MODIFIED, "")


def read_schedule(environment, *, name: str, group: str) -> dict[str, Any] | None:
    """The schedule as AWS has it now; None when it does not exist, or {MISSING_GROUP: group}
    when its group does not exist either (so the plan knows to create the group)."""
    client = aws.client(environment, "scheduler")
    try:
        return spec_from_api(client.get_schedule(Name=name, GroupName=group))
    except ClientError as exc:
        if not not_found(exc):
            raise
    if group == "default" or group_exists(environment, group):
        return None
    return {MISSING_GROUP: group}


def group_exists(environment, group: str) -> bool:
    try:
        aws.client(environment, "scheduler").get_schedule_group(Name=group)
    except ClientError as exc:
        if not_found(exc):
            return False
        raise
    return True


def list_schedules(environment, group: str) -> dict[str, dict[str, Any]]:
    """Every schedule of `group` (ListSchedules, paginated): name → its summary (State,
    LastModificationDate, Target.Arn). Empty when the group does not exist."""
    client = aws.client(environment, "scheduler")
    found, token = {}, None
    while True:
        try:
            page = client.list_schedules(GroupName=group, MaxResults=PAGE, **({"NextToken": token} if token else {}))
        except ClientError as exc:
            if not_found(exc):
                return {}
            raise
        for summary in page.get("Schedules", []):
            found[summary["Name"]] = summary
        token = page.get("NextToken")
        if not token:
            return found


def unchanged_since(modified: str, live: dict[str, Any] | None, summary: dict[str, Any]) -> bool:
    """True when a ListSchedules summary shows the schedule was not modified since `live` was read
    (same LastModificationDate, state and target): then GetSchedule would tell nothing new."""
    if not live or not modified:
        return False
    return (modified == iso_precise(summary.get(MODIFIED))
            and live.get("State") == summary.get("State")
            and (live.get("Target") or {}).get("Arn") == (summary.get("Target") or {}).get("Arn"))


def read_polled(environment, schedules) -> LiveRead:
    """What AWS has now for each of `schedules` (managed schedules of `environment`), for the poll.

    Calls: ListSchedules per schedule group (paged, 100 a page: it gives each schedule's state,
    target ARN and LastModificationDate), then GetSchedule only for the schedules whose summary shows
    a modification since we last read them (or that we never read). A steady environment costs one
    call per 100 schedules; a schedule changed in AWS is read, compared and reported in the same poll.
    An unchanged schedule's live state is the snapshot stored at its last read.
    """
    listings = {group: list_schedules(environment, group) for group in {s.group_name for s in schedules}}
    to_read = [s for s in schedules if (summary := listings[s.group_name].get(s.name)) is not None
               and not unchanged_since(s.live_modified, s.live_spec, summary)]
    read = _read_all(environment, to_read)
    found = LiveRead(reads=len(to_read))
    for schedule in schedules:
        if schedule.pk in read:
            found.live[schedule.pk] = read[schedule.pk]
        elif listings[schedule.group_name].get(schedule.name) is None:
            found.live[schedule.pk] = None
        else:
            found.live[schedule.pk] = {**schedule.live_spec, MODIFIED: schedule.live_modified}
    return found


def _read_all(environment, schedules) -> dict[int, dict | None]:
    """GetSchedule for each, READERS at a time (boto3 clients are thread-safe; botocore's standard
    retry mode backs off if AWS throttles). No database access in the threads."""
    if not schedules:
        return {}
    aws.client(environment, "scheduler")  # create the shared client once, before the threads use it

    def read(schedule):
        return schedule.pk, read_schedule(environment, name=schedule.name, group=schedule.group_name)

    with ThreadPoolExecutor(max_workers=min(READERS, len(schedules))) as pool:
        return dict(pool.map(read, schedules))


# ---------------------------------------------------------------------------------------------
# Discovery (inventory.discovery): every schedule of every group of the account and Region
# ---------------------------------------------------------------------------------------------
DISCOVER_SERVICES = ("scheduler",)
DISCOVER_FIELDS = ("live_modified", "state", "target_arn")  # what `unchanged_since` compares a summary with


def list_groups(environment) -> list[str]:
    client = aws.client(environment, "scheduler")
    names, token = [], None
    while True:
        page = client.list_schedule_groups(MaxResults=PAGE, **({"NextToken": token} if token else {}))
        names += [group["Name"] for group in page.get("ScheduleGroups", [])]
        token = page.get("NextToken")
        if not token:
            return names


def _needs_reading(row, summary: dict[str, Any]) -> bool:
    """New to us, or unmanaged and modified since we read it (a managed one is the poll's to read)."""
    if row is None:
        return True
    if row.is_managed:
        return False
    seen = {"State": row.state, "Target": {"Arn": row.target_arn}}  # the unmanaged row's columns come from its live spec
    return not unchanged_since(row.live_modified, seen, summary)


def discover(environment, *, known: Mapping[tuple[str, str], Any]) -> Iterator[DiscoveryPage]:
    """Every schedule of the environment, one ListSchedules page (100 schedules) at a time.

    Calls: ListScheduleGroups (1 per 100 groups), one ListSchedules over every group (1 per 100
    schedules: fewer calls than a listing per group), then GetSchedule (READERS at a time) only for
    a schedule new to us or unmanaged and modified since it was read (its LastModificationDate, state
    or target moved). When nothing changed, discovery costs the listings alone. A schedule deleted
    between its listing and its GetSchedule is left out (it is gone).
    """
    client = aws.client(environment, "scheduler")
    groups = list_groups(environment)
    token = None
    with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="discover-schedules") as pool:
        while True:
            page = client.list_schedules(MaxResults=PAGE, **({"NextToken": token} if token else {}))
            summaries = page.get("Schedules", [])
            keys = [(s.get("GroupName") or "default", s["Name"]) for s in summaries]
            wanted = [key for key, summary in zip(keys, summaries) if _needs_reading(known.get(key), summary)]

            def read(key):
                live = read_schedule(environment, name=key[1], group=key[0])
                return key, (None if live is None or MISSING_GROUP in live else live)

            read_now = dict(pool.map(read, wanted))
            found = [Discovered(group, name, read_now.get((group, name))) for group, name in keys
                     if (group, name) not in read_now or read_now[(group, name)] is not None]
            yield DiscoveryPage(f"schedules ({len(groups)} group{'s' if len(groups) != 1 else ''})", found)
            token = page.get("NextToken")
            if not token:
                return


def stack_key(physical_id: str) -> tuple[str, str]:
    """An AWS::Scheduler::Schedule's PhysicalResourceId is the schedule's name: its group is not in it."""
    return "", physical_id
