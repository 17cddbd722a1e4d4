"""Amazon EventBridge event patterns: validation, matching, explanations and a rule index.

Pure Python, importable without Django.  Public API:

``validate(pattern, *, max_size=2048)``
    Parse and check a pattern (dict or JSON text); raise :class:`PatternError` for every
    pattern EventBridge rejects, naming the JSON path and the reason.  Returns the parsed dict.
``compile(pattern)`` -> :class:`CompiledPattern`
    Validate once and build a fast matcher; ``.matches(event)`` accepts a dict or JSON text.
``matches(pattern, event)``
    One-shot convenience (compiled patterns are cached by their text).
``explain(pattern, event)`` -> :class:`Mismatch` or ``None``
    ``None`` exactly when the pattern matches; otherwise the first failing field, what the
    pattern wanted and what the event had.
:class:`RuleIndex`
    Many rules, one event: ``match(event)`` returns the ids of every matching rule without
    trying each pattern in turn.
``canonical(pattern)`` / ``pretty(pattern)``
    Sorted-key minified JSON for drift comparison, and an indented rendering for display.

Semantics follow aws/event-ruler, the open-source matcher EventBridge runs, wherever the AWS
documentation is silent or disagrees:

* The event is flattened to leaf values named by dot-joined keys, so the pattern key ``"a.b"``
  and the nested ``{"a": {"b": ...}}`` address the same field, in patterns and in events.
  Arrays are "crushed": every element is a value of the field, objects inside arrays contribute
  their own fields.  Empty arrays and objects have no leaf values.
* Array consistency: fields matched inside objects must come from the same element of any array
  they share (``{"a": [1], "b": [4]}`` does not match ``[{"a": 1, "b": 2}, {"a": 3, "b": 4}]``).
  As in event-ruler, fields are evaluated in sorted name order and ``{"exists": false}`` is
  judged against the array elements chosen for the fields sorted before it.
* Numbers compare by value (``5`` matches ``5.0``); booleans are never numbers.
  ``numeric`` only matches JSON numbers within -5e9..5e9 (the documented range); operands must
  lie in that range with at most six decimal places.  Event values are compared at full double
  precision (event-ruler ignores events with more than six decimals -- a deliberate deviation).
* A string pattern value that is an IP address also matches other spellings of the same
  address (event-ruler turns such values into single-address ranges).
* ``anything-but`` (every form) matches any leaf value that is not excluded, including ``null``,
  booleans and values of the other JSON type; it never matches a missing field.
* ``exists`` looks at leaves: ``null`` exists, an object or an empty array does not.
* ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``/``cidr`` match strings only;
  ``{"prefix": ""}`` matches every string.  Case-insensitive comparisons use ``str.lower()``.
* Duplicate keys: the last occurrence wins (for literal duplicates and for dotted aliases).
* Operators accepted: those in the EventBridge operator table plus event-ruler's ``exactly``.
  Not checked: event-ruler's wildcard "rule is too complex" limit.
* Wildcards are matched segment by segment (prefix, suffix, then each middle segment at its
  leftmost place), never through a regular expression: the work is linear in the length of the
  event value, as in event-ruler, whatever the pattern.
* Size: ``validate`` measures the text it is given, or for a dict the minified JSON
  (``separators=(",", ":")``, non-ASCII kept), which is what EventConsole sends to PutRule.
"""
from __future__ import annotations

import bisect
import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from core import safejson

__all__ = [
    "API_MAX_SIZE",
    "CompiledPattern",
    "DEFAULT_MAX_SIZE",
    "MAX_OR_COMBINATIONS",
    "MatchBudgetExceeded",
    "Mismatch",
    "PatternError",
    "RuleIndex",
    "canonical",
    "compile",
    "check_budget",
    "explain",
    "match_budget",
    "matches",
    "pretty",
    "validate",
]

DEFAULT_MAX_SIZE = 2048  # service quota "Event pattern size" (adjustable)
API_MAX_SIZE = 4096  # PutRule EventPattern maximum length
MAX_OR_COMBINATIONS = 1000
NUMERIC_LIMIT = 5_000_000_000
NUMERIC_DECIMALS = 6

# Names event-ruler refuses as field names inside "$or" (RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
_RESERVED_IN_OR = frozenset({
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
    "numeric", "cidr", "html", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
    "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
    "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
})

Json = Any
Test = Callable[[Any], bool]


class PatternError(ValueError):
    """The pattern is not one EventBridge accepts; the message names the JSON path and reason."""


class MatchBudgetExceeded(RuntimeError):
    """Matching ran past the time budget set with :func:`match_budget`."""


# --------------------------------------------------------------------------------------------
# Time budget for matching done while a person waits (sandbox, "which rules match", Test pattern)
# --------------------------------------------------------------------------------------------

_deadline: ContextVar[float | None] = ContextVar("rules_patterns_deadline", default=None)


@contextmanager
def match_budget(seconds: float) -> Iterator[None]:
    """Inside the block, matching raises :class:`MatchBudgetExceeded` once ``seconds`` have passed.

    The deadline is checked where work can pile up (the array-consistency search, each
    candidate rule of :class:`RuleIndex`, each branch of ``explain``) and by callers through
    :func:`check_budget`; outside any block nothing is checked.
    """
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_budget() -> None:
    """Raise :class:`MatchBudgetExceeded` if the current :func:`match_budget` has run out."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise MatchBudgetExceeded("matching took longer than its time budget")


# --------------------------------------------------------------------------------------------
# Value tests (one per operator) and their descriptions
# --------------------------------------------------------------------------------------------

class _Missing:
    """Marks "no value here" during event navigation (distinct from JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
_IPV4_SHAPE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6_SHAPE = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")
_IP_MAX_LENGTH = 45


def _is_number(value: Any) -> bool:
    cls = value.__class__
    return cls is int or cls is float


IpValue = tuple[int, int]  # (IP version, address as an integer)


def _ip_value(text: str) -> IpValue | None:
    """The address a string spells, as (version, integer); None if it is not an IP address."""
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        return None


def _as_ip(text: str) -> IpValue | None:
    """The address ``text`` spells, if it also has event-ruler's IP-address shape."""
    # No address is longer than 45 characters ("ffff:...:255.255.255.255"); checking the length
    # first also keeps the shape test linear (a long run of ":" made it quadratic).
    if len(text) > _IP_MAX_LENGTH or not (_IPV4_SHAPE.fullmatch(text) or _IPV6_SHAPE.fullmatch(text)):
        return None
    return _ip_value(text)


def _quote(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, eq=False, slots=True)
class _Matcher:
    """One element of a field's value list: ``kind`` and ``arg`` identify it, ``test`` runs it."""

    kind: str
    arg: Hashable
    test: Test
    description: str


def _exact_string(text: str) -> _Matcher:
    address = _as_ip(text)
    if address is None:
        return _Matcher("exact", text, lambda v: v == text and v.__class__ is str, _quote(text))

    def same_address(v: Any) -> bool:
        return v.__class__ is str and (v == text or _as_ip(v) == address)

    return _Matcher("exact-ip", (text, address), same_address, _quote(text))


def _exact_number(number: int | float) -> _Matcher:
    def equal(v: Any) -> bool:
        cls = v.__class__
        return (cls is int or cls is float) and v == number

    return _Matcher("exact-num", number, equal, _quote(number))


def _literal(value: bool | None) -> _Matcher:
    return _Matcher("literal", value, lambda v: v is value, _quote(value))


# --------------------------------------------------------------------------------------------
# Wildcards
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Wildcard:
    """A parsed wildcard: the literal text between unescaped ``*``."""

    segments: tuple[str, ...]

    def matcher(self) -> Callable[[str], bool]:
        if len(self.segments) == 1:
            only = self.segments[0]
            return lambda s: s == only
        head, tail = self.segments[0], self.segments[-1]
        size = sum(len(seg) for seg in self.segments)
        if len(self.segments) == 2:
            return lambda s: len(s) >= size and s.startswith(head) and s.endswith(tail)
        middle = tuple(seg for seg in self.segments[1:-1] if seg)
        start = len(head)

        # Segment matching, never a regular expression: the head is a prefix, the tail a suffix,
        # and each middle segment is taken at its leftmost place after the previous one (the
        # leftmost place always leaves the most room for the rest, so no choice is revisited).
        # str.find moves forward only, so the work is linear in len(s) for a given pattern.
        def check(s: str) -> bool:
            if len(s) < size or not s.startswith(head) or not s.endswith(tail):
                return False
            position, end = start, len(s) - len(tail)
            find = s.find
            for seg in middle:
                found = find(seg, position, end)
                if found < 0:
                    return False
                position = found + len(seg)
            return True

        return check


def _parse_wildcard(text: str, where: str) -> _Wildcard:
    segments: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "*\\":
                raise PatternError(
                    f'{where}: wildcard {_quote(text)} has an invalid escape at position {i}; '
                    'a backslash may only escape "*" or "\\"')
            current.append(text[i + 1])
            i += 2
            continue
        if char == "*":
            if i + 1 < len(text) and text[i + 1] == "*":
                raise PatternError(
                    f"{where}: wildcard {_quote(text)} has consecutive wildcard characters "
                    f"at position {i + 1}")
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    segments.append("".join(current))
    return _Wildcard(tuple(segments))


# --------------------------------------------------------------------------------------------
# Operator parsing
# --------------------------------------------------------------------------------------------

_ABSENT = object()  # what {"exists": false} parses to: a flag on the condition, not a test


def _type_name(value: Json) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _single_key(obj: dict, where: str, what: str) -> tuple[str, Json]:
    if not obj:
        raise PatternError(f"{where}: {what} is an empty object; it needs exactly one operator")
    key, value = next(iter(obj.items()))
    return key, value


def _only_key(obj: dict, where: str) -> None:
    if len(obj) > 1:
        raise PatternError(f"{where}: only one key is allowed in a match expression, got "
                           + ", ".join(_quote(k) for k in obj))


def _operand_number(value: Json, where: str, operator: str) -> int | float:
    """A number usable by ``numeric``/``anything-but``: finite, in range, <= 6 decimals."""
    if not _is_number(value):
        raise PatternError(f'{where}: the value of "{operator}" must be a number, '
                           f"not {_type_name(value)}")
    if value != value or value in (float("inf"), float("-inf")) or abs(value) > NUMERIC_LIMIT:
        raise PatternError(f"{where}: {_quote(value)} is outside the supported numeric range "
                           "-5e9..5e9")
    exponent = Decimal(repr(value) if isinstance(value, float) else value).normalize().as_tuple()
    if isinstance(exponent.exponent, int) and exponent.exponent < -NUMERIC_DECIMALS:
        raise PatternError(f"{where}: {_quote(value)} has more than {NUMERIC_DECIMALS} digits "
                           "after the decimal point")
    return value


def _string_arg(value: Json, where: str, operator: str) -> str:
    if not isinstance(value, str):
        raise PatternError(f'{where}: "{operator}" needs a string, not {_type_name(value)}')
    return value


def _affix(operator: str, value: Json, where: str) -> _Matcher:
    """``prefix`` / ``suffix``, optionally wrapping ``equals-ignore-case``."""
    starts = operator == "prefix"
    if isinstance(value, dict):
        inner, text = _single_key(value, where, f'the "{operator}" value')
        if inner != "equals-ignore-case":
            raise PatternError(f'{where}: unsupported {operator} pattern {_quote(inner)}; '
                               f'only {{"{operator}": {{"equals-ignore-case": "..."}}}} is allowed')
        text = _string_arg(text, where, f"{operator}/equals-ignore-case")
        _only_key(value, where)
        folded = text.lower()
        check: Test = ((lambda v: v.__class__ is str and v.lower().startswith(folded)) if starts
                       else (lambda v: v.__class__ is str and v.lower().endswith(folded)))
        return _Matcher(f"{operator}-ic", folded, check, f"{operator} {_quote(text)} (ignoring case)")
    text = _string_arg(value, where, operator)
    check = ((lambda v: v.__class__ is str and v.startswith(text)) if starts
             else (lambda v: v.__class__ is str and v.endswith(text)))
    return _Matcher(operator, text, check, f"{operator} {_quote(text)}")


def _numeric(value: Json, where: str) -> _Matcher:
    usage = '"numeric" needs an operator and a number, e.g. [">", 0, "<=", 5] or ["=", 3]'
    if not isinstance(value, list) or len(value) < 2:
        raise PatternError(f"{where}: {usage}")
    op = value[0]
    if not isinstance(op, str):
        raise PatternError(f"{where}: {usage}; {_quote(op)} is not an operator")
    if op not in ("=", "<", "<=", ">", ">="):
        raise PatternError(f"{where}: unrecognised numeric operator {_quote(op)} "
                           "(use =, <, <=, > or >=)")
    first = _operand_number(value[1], where, op)
    if op == "=":
        if len(value) > 2:
            raise PatternError(f'{where}: "numeric" ["=", n] takes exactly one number')
        return _Matcher("numeric-eq", first, _exact_number(first).test,
                        f"a number equal to {_quote(first)}")
    low, low_open = float(-NUMERIC_LIMIT), False
    high, high_open = float(NUMERIC_LIMIT), False
    if op in ("<", "<="):
        if len(value) > 2:
            raise PatternError(f'{where}: "numeric" with "{op}" takes one number; put the '
                               'lower bound first, e.g. [">", 0, "<", 10]')
        high, high_open = first, op == "<"
    else:
        low, low_open = first, op == ">"
        if len(value) > 2:
            if len(value) != 4:
                raise PatternError(f'{where}: {usage}; a range has exactly four elements')
            upper = value[2]
            if upper not in ("<", "<="):
                raise PatternError(f"{where}: bad numeric range operator {_quote(upper)}; "
                                   'the second operator must be "<" or "<="')
            high, high_open = _operand_number(value[3], where, upper), upper == "<"
    if low >= high:
        raise PatternError(f'{where}: "numeric" range is empty: the lower bound must be less '
                           "than the upper bound (one-sided ranges are bounded by -5e9..5e9)")

    parts = []
    if low > -NUMERIC_LIMIT or low_open:
        parts.append(f"{'>' if low_open else '>='} {_quote(low)}")
    if high < NUMERIC_LIMIT or high_open:
        parts.append(f"{'<' if high_open else '<='} {_quote(high)}")
    return _Matcher("numeric", (low, low_open, high, high_open),
                    _range_test(low, low_open, high, high_open), "a number " + " and ".join(parts))


def _range_test(low: float, low_open: bool, high: float, high_open: bool) -> Test:
    """Membership in a range; the bounds lie within -5e9..5e9, so that limit is implied."""
    if low_open and high_open:
        return lambda v: (v.__class__ is int or v.__class__ is float) and low < v < high
    if low_open:
        return lambda v: (v.__class__ is int or v.__class__ is float) and low < v <= high
    if high_open:
        return lambda v: (v.__class__ is int or v.__class__ is float) and low <= v < high
    return lambda v: (v.__class__ is int or v.__class__ is float) and low <= v <= high


def _cidr(value: Json, where: str) -> _Matcher:
    text = _string_arg(value, where, "cidr")
    if text.count("/") != 1:
        raise PatternError(f"{where}: malformed CIDR {_quote(text)}; exactly one '/' is required")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise PatternError(f"{where}: malformed CIDR {_quote(text)}: {exc}") from None
    version, low, high = network.version, int(network[0]), int(network[-1])

    def inside(v: Any) -> bool:
        if v.__class__ is not str:
            return False
        address = _ip_value(v)
        return address is not None and address[0] == version and low <= address[1] <= high

    return _Matcher("cidr", (version, low, high), inside, f"an IP address in {text}")


_ANYTHING_BUT_FORMS = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def _anything_but(value: Json, where: str) -> _Matcher:
    if isinstance(value, dict):
        return _anything_but_form(value, where)
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            excluded: tuple = tuple(value)
        elif value and all(_is_number(v) for v in value):
            excluded = tuple(_operand_number(v, where, "anything-but") for v in value)
        elif any(v is None or isinstance(v, (bool, list, dict)) for v in value):
            raise PatternError(f'{where}: "anything-but" lists may hold only strings or only '
                               "numbers, not null, booleans, arrays or objects")
        else:
            raise PatternError(f'{where}: "anything-but" needs a non-empty list of only strings '
                               "or only numbers (mixed types are not supported)")
    elif isinstance(value, str):
        excluded = (value,)
    elif _is_number(value):
        excluded = (_operand_number(value, where, "anything-but"),)
    else:
        raise PatternError(f'{where}: "anything-but" needs a string, a number, a list of them, '
                           f"or a prefix/suffix/equals-ignore-case/wildcard object, not "
                           f"{_type_name(value)}")
    shown = ", ".join(_quote(v) for v in excluded)
    if isinstance(excluded[0], str):
        strings = frozenset(excluded)
        return _Matcher("anything-but", ("str", strings),
                        lambda v: v.__class__ is not str or v not in strings, f"anything but {shown}")
    numbers = frozenset(excluded)

    def not_excluded(v: Any) -> bool:
        cls = v.__class__
        return (cls is not int and cls is not float) or v not in numbers

    return _Matcher("anything-but", ("num", numbers), not_excluded, f"anything but {shown}")


def _anything_but_form(value: dict, where: str) -> _Matcher:
    form, arg = _single_key(value, where, 'the "anything-but" object')
    if form not in _ANYTHING_BUT_FORMS:
        raise PatternError(f"{where}: unsupported anything-but pattern {_quote(form)} (use "
                           "prefix, suffix, equals-ignore-case or wildcard)")
    _only_key(value, where)
    texts = arg if isinstance(arg, list) else [arg]
    if not isinstance(arg, (list, str)) or not all(isinstance(t, str) for t in texts):
        raise PatternError(f'{where}: "anything-but" {form} needs a string or a list of strings')
    if form in ("prefix", "suffix") and any(t == "" for t in texts):
        raise PatternError(f'{where}: "anything-but" {form} must not be empty')
    shown = f"anything but {form} " + ", ".join(_quote(t) for t in texts)
    if form == "prefix":
        prefixes = tuple(texts)
        excluded: Callable[[str], bool] = lambda s: s.startswith(prefixes)
    elif form == "suffix":
        suffixes = tuple(texts)
        excluded = lambda s: s.endswith(suffixes)
    elif form == "equals-ignore-case":
        folded = frozenset(t.lower() for t in texts)
        excluded = lambda s: s.lower() in folded
    else:
        checks = tuple(_parse_wildcard(t, where).matcher() for t in texts)
        excluded = lambda s: any(check(s) for check in checks)
    return _Matcher("anything-but", (form, tuple(texts)),
                    lambda v: v.__class__ is not str or not excluded(v), shown)


def _operator(obj: dict, where: str) -> _Matcher | object:
    name, value = _single_key(obj, where, "a match expression")
    if name in ("prefix", "suffix"):
        matcher = _affix(name, value, where)
    elif name == "equals-ignore-case":
        text = _string_arg(value, where, name)
        folded = text.lower()
        matcher = _Matcher("equals-ignore-case", folded,
                           lambda v: v.__class__ is str and v.lower() == folded,
                           f"{_quote(text)} (ignoring case)")
    elif name == "exactly":
        text = _string_arg(value, where, name)
        matcher = _Matcher("exact", text, lambda v: v == text and v.__class__ is str, _quote(text))
    elif name == "wildcard":
        text = _string_arg(value, where, name)
        wildcard = _parse_wildcard(text, where)
        check = wildcard.matcher()
        matcher = _Matcher("wildcard", wildcard, lambda v: v.__class__ is str and check(v),
                           f"wildcard {_quote(text)}")
    elif name == "numeric":
        matcher = _numeric(value, where)
    elif name == "anything-but":
        matcher = _anything_but(value, where)
    elif name == "cidr":
        matcher = _cidr(value, where)
    elif name == "exists":
        if not isinstance(value, bool):
            raise PatternError(f'{where}: "exists" must be true or false, not {_type_name(value)}')
        _only_key(obj, where)
        return _Matcher("exists", True, lambda v: True, "the field to exist") if value else _ABSENT
    else:
        raise PatternError(f"{where}: unrecognised match type {_quote(name)}")
    _only_key(obj, where)
    return matcher


# --------------------------------------------------------------------------------------------
# Conditions and branches
# --------------------------------------------------------------------------------------------

_EXACT_KINDS = frozenset({"exact", "exact-num", "literal"})


def _combine(matchers: tuple[_Matcher, ...]) -> Test | None:
    """One test for "any matcher accepts this leaf"; exact values become set lookups."""
    if not matchers:
        return None
    if any(m.kind == "exists" for m in matchers):
        return lambda v: True
    if len(matchers) == 1:
        return matchers[0].test
    strings = frozenset(m.arg for m in matchers if m.kind == "exact")
    numbers = frozenset(m.arg for m in matchers if m.kind == "exact-num")
    literals = tuple(m.arg for m in matchers if m.kind == "literal")
    others = tuple(m.test for m in matchers if m.kind not in _EXACT_KINDS)

    def test(v: Any) -> bool:
        cls = v.__class__
        if cls is str:
            if v in strings:
                return True
        elif cls is int or cls is float:
            if v in numbers:
                return True
        elif any(v is lit for lit in literals):
            return True
        return any(t(v) for t in others)

    return test


@dataclass(eq=False, slots=True)
class _Condition:
    """What one field must satisfy: any matcher accepts a leaf, or (``absent_ok``) no leaf."""

    name: str  # dot-joined field name, e.g. "detail.state"
    display: str  # where it was written, e.g. "detail.$or[1].state" (for messages)
    order: int  # position in the pattern text, for explanations
    matchers: tuple[_Matcher, ...]
    absent_ok: bool
    segs: tuple[str, ...] = field(init=False)  # the name split at dots
    test: Test | None = field(init=False)  # any matcher accepts the leaf
    # steps[i]: the event keys that continue the name from segment i, as (key, next segment),
    # longest first: an event key may itself contain dots ("a.b" spells segments a and b).
    steps: tuple[tuple[tuple[str, int], ...], ...] = field(init=False)

    def __post_init__(self) -> None:
        self.segs = tuple(self.name.split("."))
        self.test = _combine(self.matchers)
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


Branch = tuple[_Condition, ...]


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
                branches: list[dict[str, _Condition]]) -> list[dict[str, _Condition]]:
        if not obj:
            raise PatternError(f"{where or 'pattern'}: empty objects are not allowed")
        for key, value in obj.items():
            here = f"{where}.{key}" if where else key
            if key == "$or":
                branches = self._or(value, parts, here, branches)
                continue
            if in_or and key in _RESERVED_IN_OR:
                raise PatternError(f"{here}: {_quote(key)} is a reserved word and cannot be a "
                                   'field name inside "$or"')
            if isinstance(value, dict):
                branches = self._object(value, parts + (key,), here, in_or, branches)
            elif isinstance(value, list):
                condition = self._condition(value, parts + (key,), here)
                for branch in branches:
                    branch[condition.name] = condition
            else:
                raise PatternError(f"{here}: must be an object or an array, not "
                                   f"{_type_name(value)} (write [{_quote(value)}] to match it)")
        return branches

    def _or(self, value: Json, parts: tuple[str, ...], where: str,
            branches: list[dict[str, _Condition]]) -> list[dict[str, _Condition]]:
        if not isinstance(value, list) or len(value) < 2:
            raise PatternError(f'{where}: "$or" needs an array of at least two objects')
        expanded: list[dict[str, _Condition]] = []
        for i, alternative in enumerate(value):
            if not isinstance(alternative, dict):
                raise PatternError(f'{where}[{i}]: each "$or" alternative must be an object, not '
                                   f"{_type_name(alternative)}")
            copies = [dict(branch) for branch in branches]
            expanded.extend(self._object(alternative, parts, f"{where}[{i}]", True, copies))
        return expanded

    def _condition(self, values: list, parts: tuple[str, ...], where: str) -> _Condition:
        if not values:
            raise PatternError(f"{where}: empty arrays are not allowed")
        matchers: list[_Matcher] = []
        absent_ok = False
        for item in values:
            if item is None or isinstance(item, bool):
                matchers.append(_literal(item))
            elif isinstance(item, str):
                matchers.append(_exact_string(item))
            elif isinstance(item, (int, float)):
                matchers.append(_exact_number(item))
            elif isinstance(item, dict):
                parsed = _operator(item, where)
                if parsed is _ABSENT:
                    absent_ok = True
                else:
                    matchers.append(parsed)
            else:
                raise PatternError(f"{where}: match values must be strings, numbers, true, false, "
                                   "null or operator objects, not nested arrays")
        self._order += 1
        return _Condition(".".join(parts), where, self._order, tuple(matchers), absent_ok)


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
        raise PatternError(f"the pattern must be a JSON object, not {_type_name(parsed)}")
    return parsed


def _parse(pattern: str | Mapping, max_size: int) -> tuple[dict, list[Branch]]:
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
    return _parse(pattern, max_size)[0]


# --------------------------------------------------------------------------------------------
# Event navigation (exact algorithm)
# --------------------------------------------------------------------------------------------

_ARRAY = object()  # route step: "inside an array"
Membership = tuple[tuple[tuple, int], ...]  # ((array route, element index), ...)


def _leaves(event: Mapping, cond: _Condition) -> list[tuple[Any, Membership]]:
    """Every leaf value named ``cond.name`` (in document order) with the array elements it sits in.

    An array is identified by its route from the root (nested ``(parent, step)`` pairs of keys
    and ``_ARRAY`` steps), so one list object reached twice counts as two arrays, as in JSON text.
    """
    steps, size = cond.steps, len(cond.steps)
    out: list[tuple[Any, Membership]] = []
    stack: list[tuple[Any, int, tuple, Membership]] = [(event, 0, (), ())]
    pop, push = stack.pop, stack.append
    while stack:
        value, position, route, membership = pop()
        cls = value.__class__
        if cls in _SCALAR_TYPES:
            if position == size:
                out.append((value, membership))
        elif cls is dict or (cls is not list and isinstance(value, Mapping)):
            if position < size:
                for key, end in steps[position]:  # longest first, so pops come in document order
                    if key in value:
                        push((value[key], end, (route, key), membership))
        elif cls is list or isinstance(value, tuple):
            array = (route, _ARRAY)
            for index in range(len(value) - 1, -1, -1):
                push((value[index], position, array, membership + ((array, index),)))
        elif position == size:  # not a JSON type: an opaque value
            out.append((value, membership))
    return out


def _merge(chosen: dict, membership: Membership) -> dict | None:
    """``chosen`` extended by ``membership``, or None if they disagree on an array element."""
    if not membership:
        return chosen
    merged = dict(chosen)
    for array, index in membership:
        if merged.setdefault(array, index) != index:
            return None
    return merged


def _consistent(chosen: dict, membership: Membership) -> bool:
    return all(chosen.get(array, index) == index for array, index in membership)


class _BranchEvaluation:
    """The exact (slow) evaluation of one branch, also used to explain failures."""

    def __init__(self, event: Mapping, branch: Branch) -> None:
        check_budget()
        self.branch = branch
        self.leaves = [_leaves(event, cond) for cond in branch]
        self.hits = [[leaf for leaf in leaves if cond.test is not None and cond.test(leaf[0])]
                     for cond, leaves in zip(branch, self.leaves)]
        self.deepest = 0  # the furthest field (index in the branch) the search reached

    def fails_alone(self, i: int) -> bool:
        """Condition ``i`` cannot hold whatever array elements the other fields pick."""
        if self.hits[i]:
            return False
        # No value matches; absence could still hold unless a value sits outside every array.
        return not self.branch[i].absent_ok or any(not m for _, m in self.leaves[i])

    def matches(self) -> bool:
        if any(self.fails_alone(i) for i in range(len(self.branch))):
            return False
        # A field with a matching value outside every array holds whatever the others pick;
        # only the rest must agree on array elements (searched in sorted name order).
        entangled = [i for i in range(len(self.branch)) if all(m for _, m in self.hits[i])]
        return not entangled or self._search(entangled)

    def _search(self, order: list[int]) -> bool:
        """Depth-first choice of one value per field, in order, keeping array elements consistent.

        Failed sub-searches are remembered by the choices that still matter (the arrays the
        remaining fields live in) once the search could grow large.
        """
        n = len(order)
        size = 1
        for i in order:
            size *= len(self.hits[i]) + 1
        failed: set | None = set() if size > 256 else None
        relevant: list[frozenset] = [frozenset()] * (n + 1)
        if failed is not None:
            for k in range(n - 1, -1, -1):
                arrays = {array for _, m in self.leaves[order[k]] for array, _ in m}
                relevant[k] = relevant[k + 1] | arrays

        calls = 0

        def search(k: int, chosen: dict) -> bool:
            nonlocal calls
            if k == n:
                return True
            calls += 1
            if not calls & 255:
                check_budget()
            i = order[k]
            self.deepest = max(self.deepest, i)
            if failed is not None:
                key = (k, frozenset(item for item in chosen.items() if item[0] in relevant[k]))
                if key in failed:
                    return False
            if self.branch[i].absent_ok and not any(_consistent(chosen, m) for _, m in self.leaves[i]):
                if search(k + 1, chosen):
                    return True
            for _, membership in self.hits[i]:
                merged = _merge(chosen, membership)
                if merged is not None and search(k + 1, merged):
                    return True
            if failed is not None:
                failed.add(key)
            return False

        return search(0, {})


# --------------------------------------------------------------------------------------------
# Fast path: per-branch generated code for the common shapes
# --------------------------------------------------------------------------------------------

def _alternatives(cond: _Condition) -> Callable[[Mapping], bool]:
    """Does the event hold a dotted key that also spells this field (e.g. "detail.state")?"""
    segs = cond.segs
    levels = [tuple(key for key, end in steps if end > i + 1) for i, steps in enumerate(cond.steps)]

    def exists(event: Mapping) -> bool:
        node: Any = event
        for level, keys in enumerate(levels):
            if node.__class__ is not dict and not isinstance(node, Mapping):
                return False
            for key in keys:
                if key in node:
                    return True
            node = node.get(segs[level])
        return False

    return exists


def _list_scanner(cond: _Condition) -> Callable[[list], bool | None]:
    """Verdict for a field whose value is an array of scalars; None if it holds containers."""
    test, absent_ok = cond.test, cond.absent_ok

    def scan(values: list) -> bool | None:
        for value in values:
            if value.__class__ not in _SCALAR_TYPES:
                return None
            if test is not None and test(value):
                return True
        return absent_ok and not values

    return scan


def _fast_pieces(cond: _Condition, i: int) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Expression pieces (code shape) and constants testing a scalar leaf ``v`` of class ``c``."""
    if any(m.kind == "exists" for m in cond.matchers):
        return ("True",), {}
    pieces: list[str] = []
    consts: dict[str, Any] = {}
    strings = frozenset(m.arg for m in cond.matchers if m.kind == "exact")
    numbers = frozenset(m.arg for m in cond.matchers if m.kind == "exact-num")
    if strings:
        pieces.append(f"(c is str and v in S{i})")
        consts[f"S{i}"] = strings
    if numbers:
        pieces.append(f"((c is int or c is float) and v in N{i})")
        consts[f"N{i}"] = numbers
    for literal in sorted({repr(m.arg) for m in cond.matchers if m.kind == "literal"}):
        pieces.append(f"v is {literal}")
    others = tuple(m for m in cond.matchers if m.kind not in _EXACT_KINDS)
    if others:
        pieces.append(f"O{i}(v)")
        consts[f"O{i}"] = _combine(others)
    return tuple(pieces) or ("False",), consts


_UNDECIDED = object()  # the fast path met something only the exact algorithm can judge
FastVerdict = bool | int  # True, False, or a bit mask of the fields left undecided


@lru_cache(maxsize=4096)
def _fast_factory(shape: tuple) -> Callable[..., Callable[[Mapping], FastVerdict]]:
    """Build (once per shape) a factory whose product evaluates a branch without arrays.

    The generated function walks each field's path through plain objects and tests the scalar
    (or array of scalars) it finds.  It returns False as soon as a field definitely fails, True
    if all hold, and otherwise a bit mask (bit i: field i) of the fields that need the exact
    algorithm (an array of objects on the path, a dotted event key that may spell the same
    field, an unusual type).
    """
    params = ["M", "SC", "U"]
    body = ["def fast(e):", "    u = 0"]
    for i, (depth, pieces, constants, absent_ok) in enumerate(shape):
        params += [f"K{i}_{d}" for d in range(depth)] + [f"L{i}", f"A{i}", *constants]
        body.append(f"    v = e.get(K{i}_0, M)")
        for d in range(1, depth):
            body += ["    c = v.__class__",
                     f"    if c is dict: v = v.get(K{i}_{d}, M)",
                     "    elif v is M or c in SC: v = M",
                     "    else: v = U"]
        body += ["    c = v.__class__",
                 f"    if c in SC: ok = {' or '.join(pieces)}",
                 f"    elif v is M or c is dict: ok = {absent_ok}",
                 f"    elif c is list: ok = L{i}(v)",
                 "    else: ok = None",
                 f"    if ok is None: u |= {1 << i}"]
        if depth > 1:
            body += ["    elif not ok:",
                     f"        if A{i}(e): u |= {1 << i}",
                     "        else: return False"]
            if absent_ok:
                body.append(f"    elif A{i}(e): u |= {1 << i}")
        else:
            body.append("    elif not ok: return False")
    body.append("    return u or True")
    source = f"def make({', '.join(params)}):\n" + "\n".join("    " + line for line in body)
    source += "\n    return fast\n"
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - generated from a fixed template; constants are passed in
    return namespace["make"]


def _fast_cost(cond: _Condition) -> tuple[int, int]:
    """Cheap, selective conditions first: exact values on short paths fail fastest."""
    return (0 if all(m.kind in _EXACT_KINDS for m in cond.matchers) else 1), len(cond.segs)


class _FastBranch:
    """A branch with its generated fast path; ``matches`` completes it with the exact algorithm.

    Fields the fast path decided never share an array with the others (it only decides fields
    reached through plain objects), so only the undecided fields go to the exact algorithm,
    in their sorted-name order.
    """

    __slots__ = ("branch", "fast", "order")

    def __init__(self, branch: Branch) -> None:
        self.branch = branch
        self.order = tuple(sorted(branch, key=_fast_cost))  # field order inside the fast path
        shape = []
        args: dict[str, Any] = {"M": _MISSING, "SC": _SCALAR_TYPES, "U": _UNDECIDED}
        for i, cond in enumerate(self.order):
            pieces, consts = _fast_pieces(cond, i)
            shape.append((len(cond.segs), pieces, tuple(sorted(consts)), cond.absent_ok))
            args.update(consts)
            args.update({f"K{i}_{d}": seg for d, seg in enumerate(cond.segs)})
            args[f"L{i}"] = _list_scanner(cond)
            args[f"A{i}"] = _alternatives(cond)
        self.fast = _fast_factory(tuple(shape))(**args)

    def matches(self, event: Mapping) -> bool:
        verdict = self.fast(event)
        return verdict if verdict.__class__ is bool else self.complete(event, verdict)

    def complete(self, event: Mapping, undecided_mask: int) -> bool:
        """The exact verdict once the fast path left the fields in ``undecided_mask`` open."""
        order = self.order
        undecided = {order[i] for i in range(len(order)) if undecided_mask >> i & 1}
        return _BranchEvaluation(event, tuple(c for c in self.branch if c in undecided)).matches()


# --------------------------------------------------------------------------------------------
# Compiled patterns, matching and explanations
# --------------------------------------------------------------------------------------------

def _event_object(event: Mapping | str | bytes) -> Mapping | None:
    if isinstance(event, Mapping):
        return event
    if isinstance(event, (str, bytes, bytearray)):
        try:
            parsed = safejson.loads(event, what="the event")
        except safejson.InvalidJSON as exc:
            raise ValueError(f"the event is not valid JSON: {exc.reason}") from None
        return parsed if isinstance(parsed, dict) else None
    raise TypeError(f"the event must be a dict or JSON text, not {type(event).__name__}")


class CompiledPattern:
    """A validated pattern ready to match events quickly.  Immutable and thread-safe."""

    __slots__ = ("source", "branches", "_fast", "_single")

    def __init__(self, pattern: str | Mapping, *, max_size: int = API_MAX_SIZE) -> None:
        self.source, self.branches = _parse(pattern, max_size)
        self._fast = tuple(_FastBranch(b) for b in self.branches)
        self._single = self._fast[0].fast if len(self._fast) == 1 else None  # the common case

    def matches(self, event: Mapping | str | bytes) -> bool:
        """True if ``event`` (a dict, or JSON text) matches the pattern."""
        if event.__class__ is not dict:
            event = _event_object(event)
            if event is None:
                return False
        single = self._single
        if single is None:
            for branch in self._fast:
                if branch.matches(event):
                    return True
            return False
        verdict = single(event)
        return verdict if verdict.__class__ is bool else self._fast[0].complete(event, verdict)

    def __repr__(self) -> str:
        return f"CompiledPattern({canonical(self.source)})"


def compile(pattern: str | Mapping, *, max_size: int = API_MAX_SIZE) -> CompiledPattern:  # noqa: A001
    """Validate ``pattern`` and return a fast matcher (see :class:`CompiledPattern`).

    Only the API maximum (4,096 characters) is enforced by default because the 2,048 quota is
    adjustable; pass ``max_size`` to enforce an account's quota.
    """
    return CompiledPattern(pattern, max_size=max_size)


@lru_cache(maxsize=1024)
def _compiled_text(text: str) -> CompiledPattern:
    return CompiledPattern(text)


def _compiled(pattern: str | Mapping | CompiledPattern) -> CompiledPattern:
    if isinstance(pattern, CompiledPattern):
        return pattern
    if isinstance(pattern, str):
        return _compiled_text(pattern)
    return CompiledPattern(pattern)


def matches(pattern: str | Mapping | CompiledPattern, event: Mapping | str | bytes) -> bool:
    """True if ``event`` matches ``pattern`` (dict, JSON text or compiled)."""
    return _compiled(pattern).matches(event)


@dataclass(frozen=True)
class Mismatch:
    """Why an event did not match: the failing field, what the pattern wanted, what it found.

    ``path`` is the dot-joined field name as written in the pattern (``$or`` alternatives show
    as ``$or[i]``); ``wanted`` and ``got`` are short human-readable phrases; ``alternatives`` is
    the number of ``$or`` combinations tried (the explanation comes from the one that got
    furthest).  ``str()`` gives a sentence for the UI.
    """

    path: str
    wanted: str
    got: str
    alternatives: int = 1

    def __str__(self) -> str:
        sentence = f"{self.path}: wanted {self.wanted}, but the event has {self.got}"
        if self.alternatives > 1:
            sentence += f" (closest of {self.alternatives} $or alternatives)"
        return sentence


def _describe_values(values: list[Any], limit: int = 5) -> str:
    shown = [_quote(v) for v in values[:limit]]
    if len(values) > limit:
        shown.append(f"... ({len(values)} values)")
    return shown[0] if len(values) == 1 else "[" + ", ".join(shown) + "]"


def _describe_field(event: Mapping, cond: _Condition, leaves: list[tuple[Any, Membership]]) -> str:
    if leaves:
        return _describe_values([value for value, _ in leaves])
    node: Any = event
    for seg in cond.segs:
        node = node.get(seg, _MISSING) if isinstance(node, Mapping) else _MISSING
    if isinstance(node, Mapping):
        return "an object (no value of its own)"
    if isinstance(node, (list, tuple)):
        return "an empty array" if not node else "an array of objects (no value at this name)"
    return "nothing (the field is absent)"


def _explain_branch(event: Mapping, branch: Branch) -> tuple[int, Mismatch] | None:
    """(conditions satisfied, mismatch) for a failing branch; None if the branch matches."""
    evaluation = _BranchEvaluation(event, branch)
    if evaluation.matches():
        return None
    failing = [i for i in range(len(branch)) if evaluation.fails_alone(i)]
    if failing:
        i = min(failing, key=lambda k: branch[k].order)
        got = _describe_field(event, branch[i], evaluation.leaves[i])
        return len(branch) - len(failing), Mismatch(branch[i].display, branch[i].wanted, got)
    # Every field holds on its own: the values sit in different elements of a shared array,
    # or an absent field is present in the element the earlier fields were found in.
    i = min(evaluation.deepest, len(branch) - 1)
    cond = branch[i]
    got = _describe_field(event, cond, evaluation.leaves[i])
    wanted = f"{cond.wanted}, in the same array element as the other matched fields"
    return len(branch) - 1, Mismatch(cond.display, wanted, got)


def explain(pattern: str | Mapping | CompiledPattern, event: Mapping | str | bytes) -> Mismatch | None:
    """``None`` if ``event`` matches ``pattern``; otherwise a :class:`Mismatch` saying why not.

    For ``$or`` patterns the explanation comes from the alternative that satisfied the most
    fields.  An event that is not a JSON object is reported at path ``"$"``.
    """
    compiled = _compiled(pattern)
    document = _event_object(event)
    if document is None:
        return Mismatch("$", "a JSON object", "a JSON value that is not an object")
    best: tuple[int, Mismatch] | None = None
    for branch in compiled.branches:
        check_budget()
        outcome = _explain_branch(document, branch)
        if outcome is None:
            return None
        if best is None or outcome[0] > best[0]:
            best = outcome
    assert best is not None  # a pattern always has at least one branch
    mismatch = best[1]
    if len(compiled.branches) > 1:
        mismatch = Mismatch(mismatch.path, mismatch.wanted, mismatch.got, len(compiled.branches))
    return mismatch


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


# --------------------------------------------------------------------------------------------
# Rule index
# --------------------------------------------------------------------------------------------

_NUM, _BOOL, _NULL, _IP = "n", "b", "z", "ip"  # tags keeping exact keys of different types apart


def _exact_key(value: Any) -> Hashable | None:
    cls = value.__class__
    if cls is str:
        return value
    if cls is int or cls is float:
        return (_NUM, value)
    if cls is bool:
        return (_BOOL, value)
    if value is None:
        return _NULL
    return None


class _Intervals:
    """Numeric ranges -> states, answering "which ranges contain x" (centred interval tree)."""

    def __init__(self) -> None:
        self.ranges: dict[tuple, set] = {}  # (low, low_open, high, high_open) -> states
        self._tree: tuple | None = None
        self._dirty = False

    def add(self, bounds: tuple, state: Any) -> None:
        self.ranges.setdefault(bounds, set()).add(state)
        self._dirty = True

    def discard(self, bounds: tuple, state: Any) -> None:
        states = self.ranges.get(bounds)
        if states is not None:
            states.discard(state)
            if not states:
                del self.ranges[bounds]
            self._dirty = True

    def containing(self, x: float) -> Iterator[Any]:
        if self._dirty:
            self._tree = self._build(list(self.ranges))
            self._dirty = False
        node = self._tree
        while node is not None:
            center, by_low, by_high, left, right = node
            if x < center:
                for low, low_open, high, high_open in by_low:
                    if x < low or (low_open and x == low):
                        break
                    yield from self.ranges[low, low_open, high, high_open]
                node = left
            elif x > center:
                for low, low_open, high, high_open in by_high:
                    if x > high or (high_open and x == high):
                        break
                    yield from self.ranges[low, low_open, high, high_open]
                node = right
            else:
                for bounds in by_low:
                    yield from self.ranges[bounds]
                return

    def _build(self, ranges: list[tuple]) -> tuple | None:
        if not ranges:
            return None
        midpoints = sorted((low + high) / 2 for low, _, high, _ in ranges)
        center = midpoints[len(midpoints) // 2]
        left = [r for r in ranges if r[2] < center or (r[2] == center and r[3])]
        right = [r for r in ranges if r[0] > center or (r[0] == center and r[1])]
        spanning = list(set(ranges).difference(left, right))
        by_low = sorted(spanning, key=lambda r: (r[0], r[1]))
        by_high = sorted(spanning, key=lambda r: (r[2], not r[3]), reverse=True)
        return center, by_low, by_high, self._build(left), self._build(right)


class _Affixes:
    """Prefix (or, reversed, suffix) keys -> states; lookup tries each distinct key length."""

    def __init__(self, suffix: bool) -> None:
        self._suffix = suffix
        self.keys: dict[str, set] = {}  # prefix (or suffix) -> states
        self._lengths: dict[int, int] = {}
        self._sorted: list[int] = []

    def add(self, key: str, state: Any) -> None:
        if key not in self.keys:
            self.keys[key] = set()
            count = self._lengths.get(len(key), 0)
            if not count:
                bisect.insort(self._sorted, len(key))
            self._lengths[len(key)] = count + 1
        self.keys[key].add(state)

    def discard(self, key: str, state: Any) -> None:
        states = self.keys.get(key)
        if states is None:
            return
        states.discard(state)
        if states:
            return
        del self.keys[key]
        self._lengths[len(key)] -= 1
        if not self._lengths[len(key)]:
            del self._lengths[len(key)]
            self._sorted.remove(len(key))

    def lookup(self, text: str) -> Iterator[Any]:
        size = len(text)
        for length in self._sorted:
            if length > size:
                break
            states = self.keys.get(text[size - length:] if self._suffix else text[:length])
            if states:
                yield from states


class _FieldIndex:
    """From one state, the transitions on one field: which child states a value leads to."""

    def __init__(self) -> None:
        self.children: dict[Hashable, _State] = {}  # condition signature -> child
        self.exact: dict[Hashable, set] = {}
        self.folded: dict[str, set] = {}  # equals-ignore-case
        self.prefixes = _Affixes(suffix=False)
        self.suffixes = _Affixes(suffix=True)
        self.folded_prefixes = _Affixes(suffix=False)
        self.folded_suffixes = _Affixes(suffix=True)
        self.ranges = _Intervals()
        self.present: set = set()  # exists: true
        self.has_ip = 0

    def _entries(self, matcher: _Matcher) -> list[tuple[Any, Hashable]]:
        """The lookup structures (and keys) one indexable matcher is filed under."""
        kind, arg = matcher.kind, matcher.arg
        if kind in ("exact", "literal", "exact-num"):
            return [(self.exact, _exact_key(arg))]
        if kind == "exact-ip":
            text, address = arg
            return [(self.exact, text), (self.exact, (_IP, address))]
        if kind == "numeric-eq":
            return [(self.exact, (_NUM, arg))]
        if kind == "equals-ignore-case":
            return [(self.folded, arg)]
        if kind == "prefix":
            return [(self.prefixes, arg)]
        if kind == "suffix":
            return [(self.suffixes, arg)]
        if kind == "prefix-ic":
            return [(self.folded_prefixes, arg)]
        if kind == "suffix-ic":
            return [(self.folded_suffixes, arg)]
        if kind == "numeric":
            return [(self.ranges, arg)]
        if kind == "exists":
            return [(self.present, None)]
        if kind == "wildcard":
            head, tail = arg.segments[0], arg.segments[-1]
            return [(self.prefixes, head)] if head else [(self.suffixes, tail)]
        raise AssertionError(f"not indexable: {kind}")

    def file(self, matcher: _Matcher, state: _State, add: bool) -> None:
        for structure, key in self._entries(matcher):
            if structure is self.present:
                (self.present.add if add else self.present.discard)(state)
            elif isinstance(structure, dict):
                if add:
                    structure.setdefault(key, set()).add(state)
                elif key in structure:
                    structure[key].discard(state)
                    if not structure[key]:
                        del structure[key]
            else:
                (structure.add if add else structure.discard)(key, state)
        if matcher.kind == "exact-ip":
            self.has_ip += 1 if add else -1

    def lookup(self, values: list[Any]) -> Iterator[_State]:
        if self.present:
            yield from self.present
        exact, folded = self.exact, self.folded
        prefixes, suffixes = self.prefixes, self.suffixes
        folded_prefixes, folded_suffixes = self.folded_prefixes, self.folded_suffixes
        for value in values:
            states = exact.get(_exact_key(value))
            if states:
                yield from states
            cls = value.__class__
            if cls is str:
                if self.has_ip:
                    address = _as_ip(value)
                    if address is not None and (_IP, address) in exact:
                        yield from exact[_IP, address]
                if prefixes.keys:
                    yield from prefixes.lookup(value)
                if suffixes.keys:
                    yield from suffixes.lookup(value)
                if folded or folded_prefixes.keys or folded_suffixes.keys:
                    lowered = value.lower()
                    if lowered in folded:
                        yield from folded[lowered]
                    yield from folded_prefixes.lookup(lowered)
                    yield from folded_suffixes.lookup(lowered)
            elif (cls is int or cls is float) and self.ranges.ranges:
                if -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:
                    yield from self.ranges.containing(value)


class _State:
    """A node of the index: rules whose indexed conditions all held end here."""

    __slots__ = ("fields", "rules", "refs")

    def __init__(self) -> None:
        self.fields: dict[str, _FieldIndex] = {}
        self.rules: dict[Hashable, int] = {}  # rule id -> number of its branches ending here
        self.refs = 0


_INDEXABLE = frozenset({"exact", "exact-ip", "exact-num", "literal", "numeric", "numeric-eq",
                        "equals-ignore-case", "prefix", "suffix", "prefix-ic", "suffix-ic",
                        "exists"})
_FIRST_FIELDS = ("source", "detail-type", "account", "region", "resources")


def _indexable(cond: _Condition) -> bool:
    if cond.absent_ok:
        return False
    for m in cond.matchers:
        if m.kind == "wildcard":
            if not (m.arg.segments[0] or m.arg.segments[-1]):
                return False
        elif m.kind not in _INDEXABLE:
            return False
    return True


def _index_order(cond: _Condition) -> tuple:
    rank = _FIRST_FIELDS.index(cond.name) if cond.name in _FIRST_FIELDS else len(_FIRST_FIELDS)
    return rank, cond.name


class RuleIndex:
    """Find every rule whose pattern matches an event, without trying each pattern in turn.

    Like event-ruler's state machine, each ``$or`` combination of a rule becomes a path of
    states keyed by the field conditions the index can look up (exact values, prefixes,
    suffixes, case-folded values, numeric ranges, ``exists: true``; wildcards by their literal
    head or tail).  Matching walks from the root: for each field a state has transitions on, the
    event's values of that field select the next states through hash maps, sorted affix lengths
    and an interval tree.  The rules reached are candidates; each is confirmed with its compiled
    pattern, so the answer always equals trying every pattern (``anything-but``, ``cidr``,
    ``exists: false`` and similar are checked only at that step).  Conditions are chained with
    ``source``, ``detail-type``, ``account``, ``region`` and ``resources`` first, so rules share
    their leading states.  ``match`` may run concurrently; ``add``/``remove`` may not.
    """

    def __init__(self) -> None:
        self._root = _State()
        self._rules: dict[Hashable, tuple[CompiledPattern, list[list[tuple]]]] = {}
        self._names: dict[str, int] = {}  # indexed field names and their dotted prefixes

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: Hashable) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: Hashable, pattern: str | Mapping | CompiledPattern) -> None:
        """Index ``pattern`` under ``rule_id`` (replacing any earlier pattern of that id)."""
        compiled = pattern if isinstance(pattern, CompiledPattern) else CompiledPattern(pattern)
        if rule_id in self._rules:
            self.remove(rule_id)
        paths = [self._insert(rule_id, branch) for branch in compiled.branches]
        self._rules[rule_id] = (compiled, paths)

    def remove(self, rule_id: Hashable) -> None:
        """Forget ``rule_id``; unknown ids are ignored."""
        entry = self._rules.pop(rule_id, None)
        if entry is None:
            return
        for path in entry[1]:
            self._unlink(rule_id, path)

    def match(self, event: Mapping | str | bytes) -> set[Hashable]:
        """The ids of all indexed rules whose pattern matches ``event``."""
        document = _event_object(event)
        if document is None:
            return set()
        rules = self._rules
        found = set()
        for rule_id in self._candidates(document):
            check_budget()
            if rules[rule_id][0].matches(document):
                found.add(rule_id)
        return found

    def _candidates(self, document: Mapping) -> set[Hashable]:
        """Rules whose indexed conditions all hold (a superset of the matching rules)."""
        values: dict[str, list[Any]] = {}
        _flatten(document, None, self._names, values)
        candidates: set[Hashable] = set()
        seen = {self._root}
        stack = [self._root]
        while stack:
            state = stack.pop()
            if state.rules:
                candidates.update(state.rules)
            for name, transitions in state.fields.items():
                found = values.get(name)
                if found:
                    for child in transitions.lookup(found):
                        if child not in seen:
                            seen.add(child)
                            stack.append(child)
        return candidates

    # -- structure maintenance ---------------------------------------------------------------

    def _insert(self, rule_id: Hashable, branch: Branch) -> list[tuple]:
        """Link a branch's indexable conditions from the root; return the path for removal."""
        state = self._root
        state.refs += 1
        path: list[tuple] = []
        for cond in sorted(filter(_indexable, branch), key=_index_order):
            transitions = state.fields.get(cond.name)
            if transitions is None:
                transitions = state.fields[cond.name] = _FieldIndex()
            child = transitions.children.get(cond.signature)
            if child is None:
                child = transitions.children[cond.signature] = _State()
                for matcher in cond.matchers:
                    transitions.file(matcher, child, add=True)
                self._count_name(cond.name, +1)
            child.refs += 1
            path.append((state, cond, child))
            state = child
        state.rules[rule_id] = state.rules.get(rule_id, 0) + 1
        return path

    def _unlink(self, rule_id: Hashable, path: list[tuple]) -> None:
        end = path[-1][2] if path else self._root
        end.rules[rule_id] -= 1
        if not end.rules[rule_id]:
            del end.rules[rule_id]
        self._root.refs -= 1
        for parent, cond, child in path:
            child.refs -= 1
            if child.refs:
                continue
            transitions = parent.fields[cond.name]
            for matcher in cond.matchers:
                transitions.file(matcher, child, add=False)
            del transitions.children[cond.signature]
            if not transitions.children:
                del parent.fields[cond.name]
            self._count_name(cond.name, -1)

    def _count_name(self, name: str, delta: int) -> None:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            count = self._names.get(prefix, 0) + delta
            if count:
                self._names[prefix] = count
            else:
                del self._names[prefix]


def _flatten(node: Any, name: str | None, wanted: Mapping[str, int], out: dict[str, list]) -> None:
    """Collect the event's leaf values by dotted name, skipping subtrees no rule looks at."""
    cls = node.__class__
    if cls is dict or (cls is not list and cls not in _SCALAR_TYPES and isinstance(node, Mapping)):
        for key, value in node.items():
            child = key if name is None else f"{name}.{key}"
            if child in wanted:
                _flatten(value, child, wanted, out)
    elif cls is list or isinstance(node, tuple):
        for element in node:
            _flatten(element, name, wanted, out)
    elif name is not None:
        out.setdefault(name, []).append(node)
