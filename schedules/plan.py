"""plan(desired, live) -> the EventBridge Scheduler calls that make live equal desired. Pure.

- Creating: CreateScheduleGroup first when the group does not exist (never when it does: moto
  silently wipes a group's schedules when it is created again, and AWS answers Conflict), then
  CreateSchedule.
- Updating: UpdateSchedule with the FULL desired body every time. UpdateSchedule replaces the
  whole schedule and resets whatever it is not given (docs/aws-behaviours.md, "Scheduler API"),
  so a partial body would erase the description, the time zone, the start date, the retry policy...
- Deleting: DeleteSchedule. In sync: no call at all.

Every write carries a ClientToken derived from the change request, so a retried task repeats
the same request (AWS treats it as the same one). moto ignores the token, so apply does not rely
on it: it reads the live schedule first and plans against what is there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from changes.calls import ApiCall

from .spec import SCHEDULE_FIELDS, canonical_schedule_spec, comparable, parse_date

# read_live's answer when the schedule is missing AND so is its group (so the plan creates it).
MISSING_GROUP = "MissingGroup"


@dataclass(frozen=True)
class ScheduleCall(ApiCall):
    """An ApiCall whose ISO date strings (JSON in the plan) become datetimes for boto3."""

    def execute(self, client) -> dict[str, Any]:
        params = dict(self.params)
        for name in ("StartDate", "EndDate"):
            if isinstance(params.get(name), str):
                params[name] = parse_date(params[name])
        response = getattr(client, self.method)(**params)
        response.pop("ResponseMetadata", None)
        return response


def client_token(change_id: int | None, operation: str) -> str:
    """1–64 of [a-zA-Z0-9-_]: the same for every attempt at the same change and call."""
    return f"eventconsole-change-{change_id or 0}-{operation}"[:64]


def body(spec: dict[str, Any]) -> dict[str, Any]:
    """The full CreateSchedule/UpdateSchedule body: every field, AWS's defaults made explicit."""
    want = canonical_schedule_spec(spec)
    return {k: want[k] for k in SCHEDULE_FIELDS if k in want}


def in_sync(desired: dict[str, Any] | None, live: dict[str, Any] | None) -> bool:
    return comparable(desired) == comparable(_schedule_part(live))


def _schedule_part(live: dict[str, Any] | None) -> dict[str, Any] | None:
    if live is None or MISSING_GROUP in live:
        return None
    return {k: v for k, v in live.items() if k in SCHEDULE_FIELDS}


def plan(desired: dict[str, Any] | None, live: dict[str, Any] | None, *, change_id: int | None = None
         ) -> list[ScheduleCall]:
    have = _schedule_part(live)
    if desired is None:
        if have is None:
            return []
        name, group = have["Name"], have.get("GroupName") or "default"
        return [ScheduleCall("scheduler", "DeleteSchedule",
                             {"Name": name, "GroupName": group, "ClientToken": client_token(change_id, "delete")},
                             f"Delete schedule {name} in group {group}")]
    want = body(desired)
    name, group = want.get("Name", ""), want["GroupName"]
    if have is None:
        calls = []
        if live is not None and MISSING_GROUP in live:
            calls.append(ScheduleCall("scheduler", "CreateScheduleGroup",
                                      {"Name": group, "ClientToken": client_token(change_id, "group")},
                                      f"Create schedule group {group}"))
        calls.append(ScheduleCall("scheduler", "CreateSchedule",
                                  {**want, "ClientToken": client_token(change_id, "create")},
                                  f"Create schedule {name} in group {group}"))
        return calls
    if in_sync(desired, have):
        return []
    verb = "Update"
    if comparable({**have, "State": want["State"]}) == comparable(desired):
        verb = "Enable" if want["State"] == "ENABLED" else "Disable"
    return [ScheduleCall("scheduler", "UpdateSchedule", {**want, "ClientToken": client_token(change_id, "update")},
                         f"{verb} schedule {name} in group {group} (UpdateSchedule: the full schedule)")]
