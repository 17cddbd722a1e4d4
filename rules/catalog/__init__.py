"""Catalog of AWS event sources and sample events behind the rule wizard's pattern form.

The catalog is data: ``data/<service>.json`` holds one AWS service, like the console's
Advanced Builder offers it (Event source = AWS services → AWS service → Event type → values)::

    {"key": "s3", "label": "Simple Storage Service (S3)", "source": "aws.s3",
     "event_types": [
       {"key": "s3-notification", "label": "Amazon S3 Event Notification",
        "detail_types": ["Object Created", ...],   # the "Specific event(s)" choices
        "fixed": {"detail": {...}},                # optional: always part of the pattern
        "fields": [{"key": "bucket", "label": "Specific bucket(s) by name",
                    "any_label": "Any bucket", "path": ["detail", "bucket", "name"],
                    "kind": "text-list" | "choice-list",
                    "choices": [...],              # choice-list only: the allowed values
                    "suggestions": [...]}],        # text-list, optional: values to offer
        "samples": [{"key": "s3-object-created", "label": "S3 Object Created",
                     "event": {...full EventBridge event...}}]}]}

Every service also gets the console's "All Events" type (``ALL_EVENTS``), which matches
everything from the service's source.

Two functions translate between the form and the pattern JSON:

- ``build_pattern`` is what the form produces. "Any event" lists every detail-type of the
  event type, as the console does, so a rule for S3 notifications never also matches the
  S3 API calls that CloudTrail delivers with the same source.
- ``pattern_to_form`` is the reverse, used when the user switches from the JSON editor back
  to the form. It raises ``NotRepresentable`` (with the reason to show) unless rebuilding
  the form's answer gives the same pattern, so the form never silently changes a rule.

Pure Python: nothing here needs Django. Lookups of unknown keys raise ``KeyError``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any, NamedTuple

__all__ = [
    "ALL_EVENTS",
    "FormState",
    "NotRepresentable",
    "build_pattern",
    "event_type",
    "pattern_to_form",
    "sample",
    "samples",
    "service",
    "services",
    "samples_matching",
]

ALL_EVENTS = "all-events"
"""Key of the event type every service has: all events from the service's source."""

Tree = dict[str, Any]
Path = tuple[str, ...]


class NotRepresentable(ValueError):
    """The event pattern cannot be shown in the pattern form; the message says why."""


class FormState(NamedTuple):
    """What the pattern form shows: the arguments of ``build_pattern``."""

    service: str
    event_type: str
    detail_types: list[str] | None
    """``None`` means "Any event"; otherwise the chosen detail-types."""
    values: dict[str, list[str]]
    """Chosen values by field key; a field left out means "Any ..."."""


#
# Loading
#


@functools.cache
def _catalog() -> dict[str, Tree]:
    """Every service by key, ordered by label, each with "All Events" as its first event type."""
    loaded = []
    for entry in (resources.files(__package__) / "data").iterdir():
        if entry.name.endswith(".json"):
            svc = json.loads(entry.read_text(encoding="utf-8"))
            all_events = {"key": ALL_EVENTS, "label": "All Events", "detail_types": [], "fields": [], "samples": []}
            svc["event_types"].insert(0, all_events)
            loaded.append(svc)
    loaded.sort(key=lambda svc: svc["label"].casefold())
    return {svc["key"]: svc for svc in loaded}


@functools.cache
def _services_by_source() -> dict[str, Tree]:
    return {svc["source"]: svc for svc in _catalog().values()}


@functools.cache
def _samples_by_key() -> dict[str, tuple[Tree, Tree, Tree]]:
    """Every sample by key, with its service and event type, in catalog order."""
    return {
        smp["key"]: (svc, etype, smp)
        for svc in _catalog().values()
        for etype in svc["event_types"]
        for smp in etype["samples"]
    }


def _service(key: str) -> Tree:
    try:
        return _catalog()[key]
    except KeyError:
        raise KeyError(f"unknown AWS service {key!r}") from None


def _event_type(svc: Tree, key: str) -> Tree:
    for etype in svc["event_types"]:
        if etype["key"] == key:
            return etype
    raise KeyError(f"{svc['label']} has no event type {key!r}")


#
# Lookups (all return copies, so callers cannot change the catalog)
#


def services() -> list[dict[str, str]]:
    """The AWS services, sorted by label: ``[{"key", "label", "source"}, ...]``."""
    return [{"key": svc["key"], "label": svc["label"], "source": svc["source"]} for svc in _catalog().values()]


def service(key: str) -> Tree:
    """One service with its event types, fields and samples."""
    return copy.deepcopy(_service(key))


def event_type(service_key: str, type_key: str) -> Tree:
    """One event type of a service, with its fields and samples."""
    return copy.deepcopy(_event_type(_service(service_key), type_key))


def samples() -> list[dict[str, str]]:
    """The sample-event picker's entries, grouped by service then event type.

    Each is ``{"key", "label", "service", "event_type", "detail_type"}``; ``sample(key)``
    returns the event itself.
    """
    return [
        {
            "key": key,
            "label": smp["label"],
            "service": svc["key"],
            "event_type": etype["key"],
            "detail_type": smp["event"]["detail-type"],
        }
        for key, (svc, etype, smp) in _samples_by_key().items()
    ]


def sample(key: str) -> Tree:
    """The sample event with this key (a full EventBridge event)."""
    try:
        _, _, smp = _samples_by_key()[key]
    except KeyError:
        raise KeyError(f"no sample event {key!r}") from None
    return copy.deepcopy(smp["event"])


def samples_matching(pattern: Tree | str) -> list[str]:
    """The labels of the sample events ``pattern`` matches, in catalog order (what a reviewer reads to
    see what a rule will catch). Raises ``awslang.patterns.PatternError`` for an invalid pattern."""
    from awslang import patterns

    compiled = patterns.compile(pattern)
    return [smp["label"] for _, _, smp in _samples_by_key().values() if compiled.matches(smp["event"])]


#
# Form -> pattern
#


def build_pattern(
    service_key: str,
    type_key: str,
    detail_types: Sequence[str] | None = None,
    values: dict[str, Sequence[str]] | None = None,
) -> Tree:
    """The event pattern the pattern form produces.

    ``detail_types`` is ``None`` for "Any event" (every detail-type of the event type) or the
    chosen subset. ``values`` maps field keys to the chosen values; a field left out is
    "Any ...". Raises ``KeyError`` for an unknown service or event type and ``ValueError``
    for choices the form would not offer.

    >>> build_pattern("s3", "s3-notification", ["Object Created"], {"bucket": ["processing-bucket-1"]})
    {'source': ['aws.s3'], 'detail-type': ['Object Created'], 'detail': {'bucket': {'name': ['processing-bucket-1']}}}
    """
    svc = _service(service_key)
    etype = _event_type(svc, type_key)
    pattern: Tree = {"source": [svc["source"]]}
    if type_key == ALL_EVENTS:
        if detail_types is not None or values:
            raise ValueError('"All Events" takes no detail-types and no field values')
        return pattern
    pattern["detail-type"] = _checked_detail_types(etype, detail_types)
    for path, fixed in _leaves(etype.get("fixed", {})):
        _set_path(pattern, path, list(fixed))
    for field, chosen in _checked_values(etype, values or {}):
        _set_path(pattern, tuple(field["path"]), chosen)
    return pattern


def _checked_detail_types(etype: Tree, chosen: Sequence[str] | None) -> list[str]:
    if chosen is None:
        return list(etype["detail_types"])
    if isinstance(chosen, str) or not chosen:
        raise ValueError(f"{etype['label']}: choose at least one event, or None for any event")
    unknown = [detail_type for detail_type in chosen if detail_type not in etype["detail_types"]]
    if unknown:
        raise ValueError(f"{etype['label']} has no event {', '.join(map(json.dumps, unknown))}")
    return list(chosen)


def _checked_values(etype: Tree, values: dict[str, Sequence[str]]) -> list[tuple[Tree, list[str]]]:
    """The chosen (field, values) pairs in the event type's field order, after checking them."""
    unknown = set(values) - {field["key"] for field in etype["fields"]}
    if unknown:
        raise ValueError(f"{etype['label']} has no field {', '.join(map(json.dumps, sorted(unknown)))}")
    checked = []
    for field in etype["fields"]:
        if field["key"] not in values:
            continue
        chosen = values[field["key"]]
        if isinstance(chosen, str) or not chosen:
            raise ValueError(
                f'{field["label"]}: give one or more values, or leave the field out for "{field["any_label"]}"'
            )
        for value in chosen:
            if not isinstance(value, str) or not value:
                raise ValueError(f"{field['label']}: {value!r} is not a text value")
            if field["kind"] == "choice-list" and value not in field["choices"]:
                raise ValueError(f"{field['label']}: {json.dumps(value)} is not one of {', '.join(field['choices'])}")
        checked.append((field, list(chosen)))
    return checked


#
# Pattern -> form
#


def pattern_to_form(pattern: Tree) -> FormState:
    """The form's answer for ``pattern``: ``build_pattern(*answer)`` gives the pattern back.

    "Back" means equal up to the order of list items, which does not matter to EventBridge.

    Raises ``NotRepresentable`` when the form cannot show the pattern: comparison operators,
    ``$or``, non-text values, more or other sources than one catalog service, detail-types
    of several event types, or filters on fields the form does not offer.
    """
    if not isinstance(pattern, dict):
        raise NotRepresentable("an event pattern must be a JSON object")
    _check_plain_values(pattern, ())
    rest = copy.deepcopy(pattern)

    sources = rest.pop("source", None)
    if not isinstance(sources, list):
        raise NotRepresentable('needs a "source" list that names one AWS service')
    if len(sources) != 1:
        raise NotRepresentable(f"matches {len(sources)} sources; the pattern form picks one AWS service")
    svc = _services_by_source().get(sources[0])
    if svc is None:
        raise NotRepresentable(f"source {json.dumps(sources[0])} is not an AWS service the pattern form knows")

    detail_types = rest.pop("detail-type", None)
    if detail_types is None:
        if rest:
            raise NotRepresentable(f'filters on {_describe(rest)} without a "detail-type"')
        return FormState(svc["key"], ALL_EVENTS, None, {})
    if not isinstance(detail_types, list):
        raise NotRepresentable('"detail-type" must be a list of values')
    etype = _owning_event_type(svc, detail_types)

    for path, fixed in _leaves(etype.get("fixed", {})):
        found = _pop_path(rest, path)
        if found is None or sorted(found) != sorted(fixed):
            raise NotRepresentable(
                f'the pattern form for {etype["label"]} always sets "{".".join(path)}" to {json.dumps(fixed)}'
            )
    values: dict[str, list[str]] = {}
    for field in etype["fields"]:
        found = _pop_path(rest, tuple(field["path"]))
        if found is not None:
            values[field["key"]] = found
    if rest:
        raise NotRepresentable(f"filters on {_describe(rest)}, which the pattern form for {etype['label']} cannot show")
    try:
        _checked_values(etype, values)
    except ValueError as error:
        raise NotRepresentable(str(error)) from None

    any_event = set(detail_types) == set(etype["detail_types"])
    return FormState(svc["key"], etype["key"], None if any_event else list(detail_types), values)


def _check_plain_values(tree: Tree, at: Path) -> None:
    """Raise unless every leaf is a non-empty list of strings (no operators, no ``$or``)."""
    if not tree:
        raise NotRepresentable(f'"{".".join(at)}" is an empty object' if at else "the pattern is empty")
    for key, value in tree.items():
        path = (*at, key)
        where = ".".join(path)
        if key == "$or":
            raise NotRepresentable('uses "$or", which the pattern form cannot show')
        if isinstance(value, dict):
            _check_plain_values(value, path)
            continue
        if not isinstance(value, list) or not value:
            raise NotRepresentable(f'"{where}" must be a non-empty list of values')
        for item in value:
            if isinstance(item, dict):
                operator = next(iter(item), "{}")
                raise NotRepresentable(f'"{where}" uses the "{operator}" operator, which the pattern form cannot show')
            if not isinstance(item, str):
                raise NotRepresentable(f'"{where}" matches {json.dumps(item)}; the pattern form matches text only')


def _owning_event_type(svc: Tree, detail_types: list[str]) -> Tree:
    """The one event type that lists every detail-type in ``detail_types``."""
    owners: dict[str, Tree] = {}
    for detail_type in detail_types:
        etype = next((etype for etype in svc["event_types"] if detail_type in etype["detail_types"]), None)
        if etype is None:
            raise NotRepresentable(f"{svc['label']} has no event {json.dumps(detail_type)} in the pattern form")
        owners[etype["key"]] = etype
    if len(owners) > 1:
        labels = ", ".join(etype["label"] for etype in owners.values())
        raise NotRepresentable(f"mixes events of several event types ({labels}); the pattern form shows one")
    return next(iter(owners.values()))


#
# Nested dict helpers: a pattern is a tree whose leaves are lists of values
#


def _leaves(tree: Tree, at: Path = ()) -> Iterator[tuple[Path, list]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*at, key))
        else:
            yield (*at, key), value


def _set_path(tree: Tree, path: Path, value: list) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _pop_path(tree: Tree, path: Path) -> list | None:
    """Remove and return the list at ``path``, dropping objects it leaves empty; ``None`` if absent."""
    node = tree.get(path[0])
    if len(path) == 1:
        return tree.pop(path[0]) if isinstance(node, list) else None
    if not isinstance(node, dict):
        return None
    found = _pop_path(node, path[1:])
    if not node:
        del tree[path[0]]
    return found


def _describe(tree: Tree) -> str:
    return ", ".join(f'"{".".join(path)}"' for path, _ in _leaves(tree))
