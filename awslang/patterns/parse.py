"""A pattern's structure: its fields, ``$or`` alternatives, size and JSON text.

:func:`parse_pattern` loads a pattern (dict or JSON text), checks it as PutRule would and turns
it into branches: one per ``$or`` combination, each a tuple of field :class:`Condition` in sorted
name order.  :func:`validate`, :func:`canonical` and :func:`pretty` are public.

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core import safejson

from .operators import (ABSENT, Json, Matcher, PatternError, Test, combine, exact_number, exact_string,
                        literal, parse_operator, quote, type_name)

DEFAULT_MAX_SIZE = 2048  # service quota "Event pattern size" (adjustable)
API_MAX_SIZE = 4096  # PutRule EventPattern maximum length
MAX_OR_COMBINATIONS = 1000

# Names event-ruler refuses as field names inside "$or" (RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
_RESERVED_IN_OR = frozenset({
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
    "numeric", "cidr", "html", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
    "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
    "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
})


# --------------------------------------------------------------------------------------------
# Conditions and branches
# --------------------------------------------------------------------------------------------

@dataclass(eq=False, slots=True)
class Condition:
    """What one field must satisfy: any matcher accepts a leaf, or (``absent_ok``) no leaf."""

    name: str  # dot-joined field name, e.g. "detail.state"
    display: str  # where it was written, e.g. "detail.$or[1].state" (for messages)
    order: int  # position in the pattern text, for explanations
    matchers: tuple[Matcher, ...]
    absent_ok: bool
    segs: tuple[str, ...] = field(init=False)  # the name split at dots
    test: Test | None = field(init=False)  # any matcher accepts the leaf
    # steps[i]: the event keys that continue the name from segment i, as (key, next segment),
    # longest first: an event key may itself contain dots ("a.b" spells segments a and b).
    steps: tuple[tuple[tuple[str, int], ...], ...] = field(init=False)

    def __post_init__(self) -> None:
        self.segs = tuple(self.name.split("."))
        self.test = combine(self.matchers)
        n = len(self.segs)
        self.steps = tuple(tuple((".".join(self.segs[i:j]), j) for j in range(n, i, -1)) for i in range(n))

    @property
    def wanted(self) -> str:
        options = [m.description for m in self.matchers]
        if self.absent_ok:
            options.append("the field to be absent")
        return options[0] if len(options) == 1 else "one of: " + "; ".join(options)

    @property
    def signature(self) -> Hashable:
        return (self.name, self.absent_ok, frozenset((m.kind, m.arg) for m in self.matchers))


Branch = tuple[Condition, ...]


class _Parser:
    """Turns a parsed pattern into branches ($or combinations) of field conditions."""

    def __init__(self) -> None:
        self._order = 0

    def parse(self, pattern: dict) -> list[Branch]:
        combinations = _count_combinations(pattern)
        if combinations > MAX_OR_COMBINATIONS:
            raise PatternError(f'"$or" expands to {combinations} combinations; the limit is '
                               f"{MAX_OR_COMBINATIONS:,}")
        branches = self._object(pattern, (), "", False, [{}])
        return [tuple(sorted(b.values(), key=lambda c: c.name)) for b in branches]

    def _object(self, obj: dict, parts: tuple[str, ...], where: str, in_or: bool,
                branches: list[dict[str, Condition]]) -> list[dict[str, Condition]]:
        if not obj:
            raise PatternError(f"{where or 'pattern'}: empty objects are not allowed")
        for key, value in obj.items():
            here = f"{where}.{key}" if where else key
            if key == "$or":
                branches = self._or(value, parts, here, branches)
                continue
            if in_or and key in _RESERVED_IN_OR:
                raise PatternError(f"{here}: {quote(key)} is a reserved word and cannot be a "
                                   'field name inside "$or"')
            if isinstance(value, dict):
                branches = self._object(value, parts + (key,), here, in_or, branches)
            elif isinstance(value, list):
                condition = self._condition(value, parts + (key,), here)
                for branch in branches:
                    branch[condition.name] = condition
            else:
                raise PatternError(f"{here}: must be an object or an array, not "
                                   f"{type_name(value)} (write [{quote(value)}] to match it)")
        return branches

    def _or(self, value: Json, parts: tuple[str, ...], where: str,
            branches: list[dict[str, Condition]]) -> list[dict[str, Condition]]:
        if not isinstance(value, list) or len(value) < 2:
            raise PatternError(f'{where}: "$or" needs an array of at least two objects')
        expanded: list[dict[str, Condition]] = []
        for i, alternative in enumerate(value):
            if not isinstance(alternative, dict):
                raise PatternError(f'{where}[{i}]: each "$or" alternative must be an object, not '
                                   f"{type_name(alternative)}")
            copies = [dict(branch) for branch in branches]
            expanded.extend(self._object(alternative, parts, f"{where}[{i}]", True, copies))
        return expanded

    def _condition(self, values: list, parts: tuple[str, ...], where: str) -> Condition:
        if not values:
            raise PatternError(f"{where}: empty arrays are not allowed")
        matchers: list[Matcher] = []
        absent_ok = False
        for item in values:
            if item is None or isinstance(item, bool):
                matchers.append(literal(item))
            elif isinstance(item, str):
                matchers.append(exact_string(item))
            elif isinstance(item, (int, float)):
                matchers.append(exact_number(item))
            elif isinstance(item, dict):
                parsed = parse_operator(item, where)
                if parsed is ABSENT:
                    absent_ok = True
                else:
                    matchers.append(parsed)
            else:
                raise PatternError(f"{where}: match values must be strings, numbers, true, false, "
                                   "null or operator objects, not nested arrays")
        self._order += 1
        return Condition(".".join(parts), where, self._order, tuple(matchers), absent_ok)


def _count_combinations(obj: Json) -> int:
    """How many branches ``$or`` expands to (product over parallel ``$or``s of their sums)."""
    if not isinstance(obj, dict):
        return 1
    total = 1
    for key, value in obj.items():
        if key == "$or" and isinstance(value, list):
            total *= max(1, sum(_count_combinations(alt) for alt in value))
        elif isinstance(value, dict):
            total *= _count_combinations(value)
    return total


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

def _load(pattern: str | Mapping, max_size: int) -> dict:
    if not 1 <= max_size <= API_MAX_SIZE:
        raise ValueError(f"max_size must be between 1 and {API_MAX_SIZE}")
    if isinstance(pattern, str):
        text = pattern
    elif isinstance(pattern, Mapping):
        try:
            text = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise PatternError(f"the pattern is not JSON: {exc}") from None
    else:
        raise PatternError(f"the pattern must be a JSON object or JSON text, not "
                           f"{type(pattern).__name__}")
    if len(text) > max_size:
        raise PatternError(f"the pattern is {len(text):,} characters long; the limit is "
                           f"{max_size:,}")
    try:
        parsed = safejson.loads(text, what="The pattern")
    except safejson.InvalidJSON as exc:
        raise PatternError(f"invalid JSON: {exc.reason}") from None
    if not isinstance(parsed, dict):
        raise PatternError(f"the pattern must be a JSON object, not {type_name(parsed)}")
    return parsed


def parse_pattern(pattern: str | Mapping, max_size: int) -> tuple[dict, list[Branch]]:
    """The pattern parsed (as :func:`validate` returns it) and its branches, one per ``$or`` combination."""
    parsed = _load(pattern, max_size)
    try:
        return parsed, _Parser().parse(parsed)
    except RecursionError:
        raise PatternError("the pattern is nested too deeply") from None


def validate(pattern: str | Mapping, *, max_size: int = DEFAULT_MAX_SIZE) -> dict:
    """Check ``pattern`` as EventBridge's PutRule would and return it parsed.

    ``max_size`` is the "Event pattern size" quota (default 2,048, adjustable up to 4,096).
    Raises :class:`PatternError` (never anything else) for any unacceptable input.
    """
    return parse_pattern(pattern, max_size)[0]


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

def _dumps(pattern: str | Mapping, **options: Any) -> str:
    """JSON text of a pattern given as text or as a dict; PatternError if it is not JSON."""
    try:
        value = safejson.loads(pattern, what="The pattern") if isinstance(pattern, str) else pattern
        return json.dumps(value, ensure_ascii=False, allow_nan=False, **options)
    except safejson.InvalidJSON as exc:
        raise PatternError(f"invalid JSON: {exc.reason}") from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise PatternError(f"invalid JSON: {exc}") from None


def canonical(pattern: str | Mapping) -> str:
    """Minified JSON with sorted keys (array order kept), for comparing stored patterns."""
    return _dumps(pattern, sort_keys=True, separators=(",", ":"))


def pretty(pattern: str | Mapping) -> str:
    """Two-space indented JSON in the pattern's own key order, for display and editing."""
    return _dumps(pattern, indent=2)
