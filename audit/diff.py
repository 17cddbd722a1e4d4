"""before/after -> [{"path", "old", "new"}]: a field-by-field difference of two JSON documents.

Lists of objects with an "Id" (targets) are matched by Id, so a reordered list is not a change.
A JSON text that holds an object (an event pattern, a target's Input) is compared as JSON.
"""
from __future__ import annotations

from typing import Any

from core import safejson

MISSING = object()


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return safejson.loads(value)
        except safejson.InvalidJSON:
            return value  # compared as text
    return value


def _keyed(items: list) -> dict | None:
    if items and all(isinstance(i, dict) and "Id" in i for i in items):
        return {str(i["Id"]): i for i in items}
    return None


def diff(before: Any, after: Any, path: str = "") -> list[dict]:
    before, after = _maybe_json(before), _maybe_json(after)
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes += diff(before.get(key, MISSING), after.get(key, MISSING), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        keyed_before, keyed_after = _keyed(before), _keyed(after)
        if keyed_before is not None and keyed_after is not None or (keyed_before is not None and not after) or (
                keyed_after is not None and not before):
            return diff(keyed_before or {}, keyed_after or {}, path)
        if before == after:
            return []
        return [{"path": path, "old": before, "new": after}]
    if before is MISSING and after is MISSING:
        return []
    if before == after and type(before) is type(after):
        return []
    return [{"path": path, "old": None if before is MISSING else before, "new": None if after is MISSING else after}]
