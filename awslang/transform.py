"""What an EventBridge rule target receives for a matched event.

A PutTargets entry chooses the payload with at most one of ``Input`` (constant JSON text),
``InputPath`` (one JSONPath into the event) or ``InputTransformer`` (``InputPathsMap`` of
variables plus an ``InputTemplate``); with none of them the target gets the whole event.

``validate_target_input(target)`` raises :class:`TransformError` for entries PutTargets rejects;
``render_target_input(target, event, rule_arn=..., rule_name=...)`` returns the payload text.

Behaviour, from the AWS docs "Amazon EventBridge input transformation" and the PutTargets /
InputTransformer API reference (plus AWS-recorded results where the docs are silent):

* JSONPath subset: ``$``, dot notation (``$.detail.state``; names may hold letters, digits,
  dashes, underscores, slashes and other characters except ``.[]`` and spaces), array indexes
  (``$.resources[0]``) and wildcards (``.*``, ``[*]``, which yield an array).  Bracket
  notation for names (``$['detail']``) is rejected.
* Up to 100 variables; names ``[A-Za-z0-9_-]+`` (1-256 characters); the predefined names
  ``aws.events.rule-arn``, ``aws.events.rule-name``, ``aws.events.event.ingestion-time``
  (ISO 8601), ``aws.events.event`` (the event's metadata without ``detail``, with
  ``detail-type`` spelled ``detailType``, as AWS delivers it) and ``aws.events.event.json``
  (the full event) need no definition and cannot be redefined.
* A template whose text starts with ``{``, ``[`` or ``"`` and is JSON once its placeholders
  are filled is a JSON template: a placeholder outside quotes receives the value as JSON (a
  string is quoted), one inside quotes receives the text (objects and arrays lose their inner
  quotes), and whitespace outside strings is removed (AWS minifies).  Any other template is
  plain text and every value is inserted as text.  A placeholder may not be an object key.
* Values are not escaped: a string containing ``"`` produces invalid JSON, as on AWS.
* A variable whose path is not in the event is empty: ``""`` outside quotes, nothing inside
  quotes or in plain text (recorded AWS behaviour).  An ``InputPath`` that selects nothing
  yields an empty payload (not documented by AWS).

The behaviours above, with their sources: docs/aws-behaviours.md, "Input transformers".
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from core import safejson

__all__ = ["MAX_INPUT", "MAX_TEMPLATE", "RESERVED_VARIABLES", "TransformError", "render_target_input",
           "validate_target_input"]

RESERVED_VARIABLES = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
)
MAX_INPUT = 8192
MAX_TEMPLATE = 8192
MAX_PATH = 256
MAX_VARIABLES = 100
MAX_VARIABLE_NAME = 256

_VARIABLE_NAME = re.compile(r"[A-Za-z0-9_\-]+")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_STEP = re.compile(r"\.(\*|[^.\[\]\s]+)|\[(\*|\d+)\]")
_EVENT_METADATA = (("id", "id"), ("account", "account"), ("detailType", "detail-type"),
                   ("time", "time"), ("source", "source"), ("region", "region"),
                   ("resources", "resources"), ("version", "version"))


class TransformError(ValueError):
    """The target's Input / InputPath / InputTransformer is not one PutTargets accepts."""


class _Missing:
    """A path that selects nothing."""

    __slots__ = ()


_MISSING = _Missing()
Step = tuple[str, Any]  # ("key", name) | ("index", n) | ("all", None)


# ------------------------------------------------------------------------------------------
# JSONPath subset
# ------------------------------------------------------------------------------------------

def _parse_path(path: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(path, str) or not path:
        raise TransformError(f"{where}: a JSONPath such as \"$.detail.state\" is required")
    if len(path) > MAX_PATH:
        raise TransformError(f"{where}: JSONPath is {len(path)} characters; the limit is {MAX_PATH}")
    if not path.startswith("$"):
        raise TransformError(f"{where}: JSONPath {path!r} must start with \"$\"")
    steps: list[Step] = []
    position = 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None:
            hint = " (use dot notation, e.g. $.detail.name)" if path[position:position + 2] in (
                "['", '["') else ""
            raise TransformError(f"{where}: JSONPath {path!r} is not supported at position "
                                 f"{position}{hint}")
        name, index = step.groups()
        if name == "*" or index == "*":
            steps.append(("all", None))
        elif name is not None:
            steps.append(("key", name))
        else:
            steps.append(("index", int(index)))
        position = step.end()
    return tuple(steps)


def _select(document: Any, steps: tuple[Step, ...]) -> Any:
    """The value at ``steps``; a list of matches if the path has a wildcard; else _MISSING."""
    nodes = [document]
    for kind, arg in steps:
        found: list[Any] = []
        for node in nodes:
            if kind == "key" and isinstance(node, Mapping) and arg in node:
                found.append(node[arg])
            elif kind == "index" and isinstance(node, list) and arg < len(node):
                found.append(node[arg])
            elif kind == "all" and isinstance(node, Mapping):
                found.extend(node.values())
            elif kind == "all" and isinstance(node, list):
                found.extend(node)
        nodes = found
    if any(kind == "all" for kind, _ in steps):
        return nodes
    return nodes[0] if nodes else _MISSING


# ------------------------------------------------------------------------------------------
# Templates
# ------------------------------------------------------------------------------------------

class _Template:
    """An InputTemplate split into literal text and placeholders, knowing each one's context."""

    def __init__(self, template: str) -> None:
        self.text = template
        # (start, end, name, inside a JSON string?) for every placeholder, in order
        self.placeholders: list[tuple[int, int, str, bool]] = []
        in_string = False
        i = 0
        while i < len(template):
            char = template[i]
            if char == "\\" and in_string:
                i += 2
                continue
            if char == '"':
                in_string = not in_string
            elif char == "<":
                found = _PLACEHOLDER.match(template, i)
                if found:
                    self.placeholders.append((i, found.end(), found.group(1), in_string))
                    i = found.end()
                    continue
            i += 1
        self.is_json = self._looks_like_json()

    def _fill(self, inside: str, outside: str) -> str:
        parts, last = [], 0
        for start, end, _, in_string in self.placeholders:
            parts += [self.text[last:start], inside if in_string else outside]
            last = end
        parts.append(self.text[last:])
        return "".join(parts)

    def _looks_like_json(self) -> bool:
        if not self.text.lstrip().startswith(("{", "[", '"')):
            return False
        try:
            safejson.loads(self._fill("", "null"))
        except safejson.InvalidJSON:
            return False
        return True

    def check(self, where: str) -> None:
        """Reject what AWS refuses in a template that starts like JSON: placeholders used as
        object keys, and text that is not JSON once the placeholders are filled in."""
        if not self.text.lstrip().startswith(("{", "[")):
            return
        for _, end, name, in_string in self.placeholders:
            if not in_string and self.text[end:].lstrip().startswith(":"):
                raise TransformError(f"{where}: placeholder <{name}> cannot be used as an "
                                     "object key")
        try:
            safejson.loads(self._fill("", "null"))
        except safejson.InvalidJSON as exc:
            raise TransformError(f"{where}: the template starts like JSON but is not valid "
                                 f"JSON once placeholders are filled in: {exc.reason}") from None

    def render(self, values: Mapping[str, Any]) -> str:
        parts, last, in_string = [], 0, False
        for start, end, name, inside in self.placeholders:
            parts += [self._literal(self.text[last:start], in_string),
                      self._value(values[name], inside)]
            last, in_string = end, inside  # a placeholder never changes the string state
        parts.append(self._literal(self.text[last:], in_string))
        return "".join(parts)

    def _literal(self, chunk: str, in_string: bool) -> str:
        """Template text between placeholders; JSON templates lose whitespace outside strings."""
        return _minify_chunk(chunk, in_string) if self.is_json else chunk

    def _value(self, value: Any, in_string: bool) -> str:
        if not self.is_json:
            return _as_text(value)
        if in_string:
            text = _as_text(value)
            return text.replace('"', "") if isinstance(value, (Mapping, list)) else text
        if value is _MISSING:
            return '""'
        if isinstance(value, str):
            return f'"{value}"'
        return _compact(value)


def _minify_chunk(chunk: str, in_string: bool) -> str:
    out = []
    i = 0
    while i < len(chunk):
        char = chunk[i]
        if in_string:
            if char == "\\":
                out.append(chunk[i:i + 2])
                i += 2
                continue
            if char == '"':
                in_string = False
            out.append(char)
        elif char == '"':
            in_string = True
            out.append(char)
        elif not char.isspace():
            out.append(char)
        i += 1
    return "".join(out)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _as_text(value: Any) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return value
    return _compact(value)


# ------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------

def _target_name(target: Mapping) -> str:
    return f"target {target['Id']}" if target.get("Id") else "target"


def _check_transformer(transformer: Any, where: str) -> tuple[dict[str, tuple[Step, ...]], _Template]:
    if not isinstance(transformer, Mapping):
        raise TransformError(f"{where}: InputTransformer must be an object")
    template = transformer.get("InputTemplate")
    if not isinstance(template, str) or not template:
        raise TransformError(f"{where}: InputTransformer.InputTemplate is required")
    if len(template) > MAX_TEMPLATE:
        raise TransformError(f"{where}: InputTemplate is {len(template):,} characters; the limit "
                             f"is {MAX_TEMPLATE:,}")
    paths_map = transformer.get("InputPathsMap")
    if paths_map is None:
        paths_map = {}
    if not isinstance(paths_map, Mapping):
        raise TransformError(f"{where}: InputPathsMap must be an object of name -> JSONPath")
    if len(paths_map) > MAX_VARIABLES:
        raise TransformError(f"{where}: InputPathsMap has {len(paths_map)} variables; the limit "
                             f"is {MAX_VARIABLES}")
    paths: dict[str, tuple[Step, ...]] = {}
    for name, path in paths_map.items():
        if not isinstance(name, str):
            raise TransformError(f"{where}: InputPathsMap names must be strings")
        if name in RESERVED_VARIABLES or name.lower().startswith("aws."):
            raise TransformError(f"{where}: InputPathsMap variable {name!r} is reserved; the "
                                 "aws.events.* variables are predefined and names may not start "
                                 "with \"aws.\"")
        if not _VARIABLE_NAME.fullmatch(name) or len(name) > MAX_VARIABLE_NAME:
            raise TransformError(f"{where}: InputPathsMap variable name {name!r} must be 1-256 "
                                 "letters, digits, '_' or '-'")
        paths[name] = _parse_path(path, f"{where}: InputPathsMap[{name!r}]")
    parsed = _Template(template)
    for _, _, name, _ in parsed.placeholders:
        if name not in paths and name not in RESERVED_VARIABLES:
            raise TransformError(f"{where}: InputTemplate contains invalid placeholder <{name}>; "
                                 "define it in InputPathsMap")
    parsed.check(f"{where}: InputTemplate")
    return paths, parsed


def validate_target_input(target: Mapping) -> None:
    """Raise :class:`TransformError` unless PutTargets would accept ``target``'s input settings."""
    _checked(target)


def _checked(target: Mapping) -> tuple[str, Any]:
    """("event" | "input" | "path" | "transformer", parsed settings) for a valid target."""
    if not isinstance(target, Mapping):
        raise TransformError("a target must be an object (a PutTargets entry)")
    where = _target_name(target)
    chosen = [key for key in ("Input", "InputPath", "InputTransformer") if target.get(key) is not None]
    if len(chosen) > 1:
        raise TransformError(f"Only one of Input, InputPath, or InputTransformer must be provided "
                             f"for {where} (got {', '.join(chosen)})")
    if not chosen:
        return "event", None
    value = target[chosen[0]]
    if chosen[0] == "Input":
        if not isinstance(value, str):
            raise TransformError(f"{where}: Input must be JSON text")
        if len(value) > MAX_INPUT:
            raise TransformError(f"{where}: Input is {len(value):,} characters; the limit is "
                                 f"{MAX_INPUT:,}")
        try:
            safejson.loads(value)
        except safejson.InvalidJSON as exc:
            raise TransformError(f"{where}: Input is not valid JSON: {exc.reason}") from None
        return "input", value
    if chosen[0] == "InputPath":
        return "path", _parse_path(value, f"{where}: InputPath")
    return "transformer", _check_transformer(value, where)


# ------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------

def _ingestion_time(value: datetime | str | None, event: Mapping) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        if isinstance(event.get("time"), str):
            return event["time"]
        value = datetime.now(timezone.utc)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_target_input(target: Mapping, event: Mapping | str, *, rule_arn: str, rule_name: str,
                        ingestion_time: datetime | str | None = None) -> str:
    """The payload text ``target`` receives when its rule matches ``event``.

    ``event`` is the event as delivered (dict or JSON text).  ``ingestion_time`` fills
    ``<aws.events.event.ingestion-time>``; by default the event's own ``time`` is used (a
    preview has no real ingestion), or the current UTC time if the event has none.
    Raises :class:`TransformError` if the target's input settings are invalid.
    """
    kind, settings = _checked(target)
    try:
        document = safejson.loads(event, what="the event") if isinstance(event, (str, bytes, bytearray)) else event
    except safejson.InvalidJSON as exc:
        raise TransformError(str(exc)) from None
    if not isinstance(document, Mapping):
        raise TransformError("the event must be a JSON object")
    if kind == "event":
        return _compact(document)
    if kind == "input":
        return settings
    if kind == "path":
        selected = _select(document, settings)
        return "" if selected is _MISSING else _compact(selected)
    paths, template = settings
    values: dict[str, Any] = {name: _select(document, steps) for name, steps in paths.items()}
    values.update({
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": _ingestion_time(ingestion_time, document),
        "aws.events.event": {shown: document[key] for shown, key in _EVENT_METADATA if key in document},
        "aws.events.event.json": document,
    })
    return template.render(values)
