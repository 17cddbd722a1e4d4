"""plan(desired, live) -> the EventBridge Scheduler calls that make live equal desired. Pure.

- Creating: CreateScheduleGroup first when the group does not exist (never when it does: moto
  silently wipes a group's schedules when it is created again, and AWS answers Conflict), then
  CreateSchedule.
- Updating: UpdateSchedule with the FULL desired body every time. UpdateSchedule replaces the
  whole schedule and resets whatever it is not given (docs/aws-behaviours.md, "Scheduler API"),
  so a partial body would erase the description, the time zone, the start date, the retry policy...
- Deleting: DeleteSchedule. In sync: no call at all.
- Execution role ("Create new role for this schedule"): CreateRole and PutRolePolicy come first,
  only what IAM does not have yet (delivery.roles.create_role_calls). Deleting a schedule deletes
  its role only when EventConsole created the role for this very schedule and nothing else it knows
  of uses it (the caller decides: `delete_role`). An existing role whose trust policy does not let
  scheduler.amazonaws.com assume it is named in the CreateSchedule/UpdateSchedule summary.
- A role IAM has just created is not yet usable by Scheduler (IAM is eventually consistent):
  CreateSchedule/UpdateSchedule then answers ValidationException "...must allow AWS EventBridge
  Scheduler to assume the role". `ScheduleCall.propagation_delay` says how long the apply waits
  before trying again (bounded: ROLE_PROPAGATION_DELAYS, about two minutes in all).

Every write carries a ClientToken derived from the change request, so a retried task repeats
the same request (AWS treats it as the same one). moto ignores the token, so apply does not rely
on it: it reads the live schedule first and plans against what is there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from changes.calls import ApiCall
from delivery import roles

from .spec import SCHEDULE_FIELDS, canonical_schedule_spec, comparable, parse_date

# read_live's answer when the schedule is missing AND so is its group (so the plan creates it).
MISSING_GROUP = "MissingGroup"
# Seconds to wait before each new attempt while Scheduler cannot yet assume a fresh role: ~2 min in all,
# as long as IAM's changes commonly take to reach other services.
ROLE_PROPAGATION_DELAYS = (1, 2, 4, 8, 15, 30, 30, 30)
ROLE_NOT_ASSUMABLE = "assume the role"  # in Scheduler's ValidationException for a role it cannot assume


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

    def propagation_delay(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1` when Scheduler cannot assume the role yet; None: give up."""
        if self.operation not in ("CreateSchedule", "UpdateSchedule") or not isinstance(exc, ClientError):
            return None
        error = exc.response.get("Error", {})
        if error.get("Code") != "ValidationException" or ROLE_NOT_ASSUMABLE not in (error.get("Message") or ""):
            return None
        return ROLE_PROPAGATION_DELAYS[attempt] if attempt < len(ROLE_PROPAGATION_DELAYS) else None


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
    if live is None or MISSING_GROUP in live or "Name" not in live:
        return None
    return {k: v for k, v in live.items() if k in SCHEDULE_FIELDS}


def plan(desired: dict[str, Any] | None, live: dict[str, Any] | None, *, change_id: int | None = None,
         new_role: roles.NewRole | None = None, role_live: dict[str, Any] | None = None,
         delete_role: bool = False, role_context: dict[str, str] | None = None) -> list[ApiCall]:
    """`new_role`: the role to create for this schedule (None: an existing role); `role_live`: what
    IAM has for the spec's role (delivery.roles.read_role; None: missing or not read);
    `delete_role`: a delete also removes the role (ours, unused); `role_context`: the condition values
    Scheduler sends when it assumes the role (delivery.roles.scheduler_context)."""
    have = _schedule_part(live)
    if desired is None:
        if have is None:
            return []
        name, group = have["Name"], have.get("GroupName") or "default"
        calls: list[ApiCall] = [ScheduleCall("scheduler", "DeleteSchedule",
                                             {"Name": name, "GroupName": group,
                                              "ClientToken": client_token(change_id, "delete")},
                                             f"Delete schedule {name} in group {group}")]
        if delete_role and role_live:
            calls.extend(roles.delete_role_calls(role_live))
        return calls
    want = body(desired)
    name, group = want.get("Name", ""), want["GroupName"]
    calls = list(roles.create_role_calls(new_role, role_live)) if new_role else []
    warning = ""
    if new_role is None and role_live is not None:
        warning = roles.trust_warning(role_live["name"], role_live.get("trust"), context=role_context)
    note = f". Warning: {warning}" if warning else ""
    if have is None:
        if live is not None and MISSING_GROUP in live:
            calls.append(ScheduleCall("scheduler", "CreateScheduleGroup",
                                      {"Name": group, "ClientToken": client_token(change_id, "group")},
                                      f"Create schedule group {group}"))
        calls.append(ScheduleCall("scheduler", "CreateSchedule",
                                  {**want, "ClientToken": client_token(change_id, "create")},
                                  f"Create schedule {name} in group {group}{note}"))
        return calls
    if in_sync(desired, have):
        return calls
    verb = "Update"
    if comparable({**have, "State": want["State"]}) == comparable(desired):
        verb = "Enable" if want["State"] == "ENABLED" else "Disable"
    calls.append(ScheduleCall("scheduler", "UpdateSchedule", {**want, "ClientToken": client_token(change_id, "update")},
                              f"{verb} schedule {name} in group {group} (UpdateSchedule: the full schedule){note}"))
    return calls
