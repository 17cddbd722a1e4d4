"""The inventory search's columns on every kind's object (ManagedObject.search_pattern, search_targets,
search_roles, search_tags): what a kind's `denormalise` writes there, in one shape for every kind.

Each column is lower-case text, one value a line, so a search compares a lower-cased query with
`contains` (inventory.search) and a value never matches across two lines' boundary by accident.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["search_lines", "compact_json", "compact_query"]


def search_lines(values: Iterable[object]) -> str:
    """The distinct non-empty strings of `values`, lower-cased, runs of white space made one space, one a
    line, in their first order."""
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(" ".join(value.lower().split()), None)
    return "\n".join(seen)


def compact_json(text: str | None) -> str | None:
    """JSON text (an event pattern) without spaces between its tokens, keys in their order; text that is
    not JSON as it came."""
    if not text:
        return text
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return text


def compact_query(text: str) -> str:
    """A query typed against a pattern, with the spaces a person puts around JSON's punctuation removed,
    so `"source": ["aws.s3"]` finds the pattern stored as `"source":["aws.s3"]`."""
    import re

    return re.sub(r'\s*([:,\[\]{}])\s*', r"\1", text.strip().lower())
