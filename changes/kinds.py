"""What the change engine needs from each kind of managed object (rules, schedules).

Each kind provides a handler module implementing `KindHandler`; the engine (changes.services)
never talks to AWS or to the kind's models directly.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any, Protocol

from .calls import ApiCall

HANDLERS = {"rule": "rules.kind", "schedule": "schedules.kind"}


class SpecInvalid(ValueError):
    """The desired spec breaks an AWS constraint: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class ObjectConflict(ValueError):
    """Another managed object already has this name (or another open change holds it)."""


class KindHandler(Protocol):
    def validate(self, spec: dict[str, Any], *, environment) -> dict[str, list[str]]:
        """AWS constraint violations by field; empty when valid."""

    def object_name(self, spec: dict[str, Any]) -> str:
        """'bus/name' or 'group/name' for display."""

    def ensure_object(self, change) -> Any:
        """The Rule/Schedule row for this change, created for a create change (raises ObjectConflict)."""

    def read_live(self, environment, change) -> dict[str, Any] | None:
        """What AWS has now for the change's object, in the spec's shape (None: it does not exist)."""

    def plan(self, desired: dict[str, Any] | None, live: dict[str, Any] | None, *, change) -> list[ApiCall]:
        """The fewest calls that turn live into desired (desired None: delete). Pure."""

    def check_response(self, call: ApiCall, response: dict[str, Any]) -> None:
        """Raise PartialFailure when a 200 answer refused some entries."""

    def on_applied(self, change, live: dict[str, Any] | None) -> None:
        """Record the applied spec, the new live state and sync status on the object (`change`'s
        rule/schedule is the row locked by the engine; the engine counts the version)."""

    def on_failed(self, change) -> None:
        """Mark the object's sync status as apply failed."""

    def discard_unapplied(self, change) -> None:
        """A create change ended without reaching AWS: remove its placeholder object."""

    def wizard_from_spec(self, spec: dict[str, Any], *, environment) -> dict[str, Any]:
        """What a person would have typed in the flow to get `spec` (Edit, Clone, Restore)."""

    def with_state(self, spec: dict[str, Any], state: str) -> dict[str, Any]:
        """The spec with State ENABLED or DISABLED."""

    def renamed(self, spec: dict[str, Any], name: str) -> dict[str, Any]:
        """The spec under another name (Clone)."""


def handler_for(kind: str) -> KindHandler:
    return import_module(HANDLERS[kind])
