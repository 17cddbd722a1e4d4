"""The kinds of managed object (rules, schedules, ...) and what the change engine needs from each.

Each kind's app registers a `Kind` in its AppConfig.ready(); the kind's module (`Kind.module`)
implements `KindHandler`. The engine (changes.services, changes.apply, changes.polling) finds a
kind here by name and never imports a kind's app, talks to AWS or touches a kind's model directly.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any, Protocol

from django.apps import apps

from audit.links import register_object_page

from .calls import ApiCall


@dataclass(frozen=True)
class Kind:
    name: str  # "rule": ChangeRequest.kind value and audit ObjectType value
    label: str  # "Rule"
    model: str  # "rules.Rule"
    module: str  # "rules.kind": the module implementing KindHandler
    url_namespace: str  # "rules"
    change_field: str  # ChangeRequest's foreign key to the object: "rule"
    first_step: str  # URL name (step slug) of the create flow's first step
    container_field: str = ""  # with "name", the object's natural key in its environment: "event_bus_name"
    cloudformation_type: str = ""  # the CloudFormation resource type of its objects: "AWS::Events::Rule"

    @property
    def handler(self) -> KindHandler:
        return import_module(self.module)

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def view_permission(self) -> str:
        """The permission that lets a person see the kind's objects: "rules.view_rule"."""
        meta = self.model_class._meta
        return f"{meta.app_label}.view_{meta.model_name}"


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Make `kind` known to the engine (called from its app's AppConfig.ready()); also gives its
    objects a page and a history in the audit pages. Registering the same kind again is a no-op."""
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"Another kind is already registered as {kind.name!r}: {known}")
    _KINDS[kind.name] = kind
    register_object_page(kind.name, kind.model, history="changes.selectors.object_history")
    return kind


def get(name: str) -> Kind:
    """The kind registered as `name` (KeyError names the known ones)."""
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"No kind {name!r} is registered (known: {', '.join(sorted(_KINDS)) or 'none'})") from None


def all_kinds() -> Iterable[Kind]:
    return tuple(_KINDS.values())


def handler_for(name: str) -> KindHandler:
    return get(name).handler


def model_for(name: str):
    return get(name).model_class


@dataclass
class Discovered:
    """One object a kind's `discover` found in AWS (inventory.discovery records it)."""

    container: str  # the value of Kind.container_field: the bus, the group
    name: str
    live: dict[str, Any] | None  # what AWS has, as read_live gives it; None: not read again (see `discover`)
    owner_service: str = ""  # the AWS service that owns it (a rule's ManagedBy), when not the account


@dataclass
class DiscoveryPage:
    """What one listing page taught `discover`: `where` names it for the progress text ("event bus orders")."""

    where: str
    objects: list[Discovered]


class SpecInvalid(ValueError):
    """The desired spec breaks an AWS constraint: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class ObjectConflict(ValueError):
    """Another managed object already has this name (or another open change holds it)."""


class KindHandler(Protocol):
    """The module a kind names in `Kind.module` (e.g. rules/kind.py). What every kind's object shares
    (placeholder rows, apply failed, recording an apply) the engine does itself in changes.objects;
    the poll is recorded by changes.polling."""

    # -- the change engine ------------------------------------------------------------------------
    def validate(self, spec: dict[str, Any], *, environment) -> dict[str, list[str]]:
        """AWS constraint violations by field; empty when valid."""

    def object_name(self, spec: dict[str, Any]) -> str:
        """'bus/name' or 'group/name' for display."""

    def ensure_object(self, change) -> Any:
        """The change's object, created as a placeholder for a create change (raises ObjectConflict);
        a call to changes.objects.ensure_object with the kind's natural key."""

    def read_live(self, environment, change) -> dict[str, Any] | None:
        """What AWS has now for the change's object, in the spec's shape (None: it does not exist)."""

    def plan(self, desired: dict[str, Any] | None, live: dict[str, Any] | None, *, change) -> list[ApiCall]:
        """The fewest calls that turn live into desired (desired None: delete). Pure."""

    def check_response(self, call: ApiCall, response: dict[str, Any]) -> None:
        """Raise PartialFailure when a 200 answer refused some entries."""

    def canonical(self, spec: dict[str, Any] | None) -> dict[str, Any] | None:
        """The spec as AWS would hold it (defaults filled in): what is stored as the desired spec."""

    def split_live(self, live: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(the live snapshot to store, other fields of the object to set from what was read)."""

    def status_against(self, desired, live, *, environment, now: datetime | None = None) -> tuple[str, list]:
        """(SyncStatus, field-by-field drift) of the live snapshot against the desired spec."""

    def denormalise(self, obj, spec: dict[str, Any] | None, *, now: datetime | None = None) -> None:
        """Copy what the list pages filter and sort by from `spec` onto the object's own columns."""

    # -- the poll (changes.polling) -----------------------------------------------------------------
    POLL_FIELDS: tuple[str, ...]  # the object's fields the three functions below read
    POLL_SERVICES: tuple[str, ...]  # the boto3 clients read_polled calls (their requests are counted)

    def read_polled(self, environment, objects: list) -> Any:
        """A changes.polling.LiveRead: what AWS has now for each of `objects`, with the fewest calls."""

    def polled_fields(self, obj, status: str, *, now: datetime) -> dict[str, Any]:
        """Fields that change with time alone (a schedule's next run); {} when none do."""

    # -- the flow -----------------------------------------------------------------------------------
    def wizard_from_spec(self, spec: dict[str, Any], *, environment) -> dict[str, Any]:
        """What a person would have typed in the flow to get `spec` (Edit, Clone, Restore)."""

    def with_state(self, spec: dict[str, Any], state: str) -> dict[str, Any]:
        """The spec with State ENABLED or DISABLED."""

    def renamed(self, spec: dict[str, Any], name: str) -> dict[str, Any]:
        """The spec under another name (Clone)."""

    # Optional: record_call(change, call, response), called after each call AWS accepted during an
    # apply (rules remember the policy statements they added, to remove exactly those later).
    # Optional: review_parts(spec, *, now) -> changes.review_difference.ReviewParts: one spec as a
    # reviewer reads it (pattern, expression and next runs, targets by Id, tags, other settings); the
    # change's page compares the parts before and after (a kind without it shows no difference).
    #
    # Optional, for discovery (inventory.discovery; a kind without `discover` is not discovered):
    # discover(environment, *, known) -> Iterator[DiscoveryPage]: every object of the kind in the
    #   environment's account and Region, a listing page at a time. `known` maps (container, name) to
    #   the rows already stored (managed or not; with DISCOVER_FIELDS loaded): a managed one, and an
    #   unmanaged one whose listing shows no change since it was read, come back with live None
    #   (not read again); everything else with what AWS has (read_live's shape).
    # DISCOVER_FIELDS: tuple[str, ...]: the object's fields `discover` reads from `known`.
    # DISCOVER_SERVICES: tuple[str, ...]: the boto3 clients `discover` calls (their requests are counted).
    # stack_key(physical_resource_id) -> (container, name): the object a CloudFormation resource of type
    #   Kind.cloudformation_type names; container "" when the id does not say (any one object of that name).
