"""The operators of the pattern language: each match value parsed into a :class:`Matcher`.

A field's array holds exact values (strings, numbers, ``true``/``false``/``null``) and operator
objects (``prefix``, ``suffix``, ``equals-ignore-case``, ``exactly``, ``wildcard``, ``numeric``,
``anything-but`` in all its forms, ``cidr``, ``exists``).  :func:`parse_operator` checks one
operator object as event-ruler does and returns its matcher: a test on one leaf value and a
description for explanations.  :func:`combine` folds a field's matchers into one test.

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

NUMERIC_LIMIT = 5_000_000_000
NUMERIC_DECIMALS = 6

Json = Any
Test = Callable[[Any], bool]


class PatternError(ValueError):
    """The pattern is not one EventBridge accepts; the message names the JSON path and reason."""


# --------------------------------------------------------------------------------------------
# Value tests (one per operator) and their descriptions
# --------------------------------------------------------------------------------------------

class _Missing:
    """Marks "no value here" during event navigation (distinct from JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()
SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
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


def as_ip(text: str) -> IpValue | None:
    """The address ``text`` spells, if it also has event-ruler's IP-address shape."""
    # No address is longer than 45 characters ("ffff:...:255.255.255.255"); checking the length
    # first also keeps the shape test linear (a long run of ":" made it quadratic).
    if len(text) > _IP_MAX_LENGTH or not (_IPV4_SHAPE.fullmatch(text) or _IPV6_SHAPE.fullmatch(text)):
        return None
    return _ip_value(text)


def quote(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, eq=False, slots=True)
class Matcher:
    """One element of a field's value list: ``kind`` and ``arg`` identify it, ``test`` runs it."""

    kind: str
    arg: Hashable
    test: Test
    description: str


def exact_string(text: str) -> Matcher:
    address = as_ip(text)
    if address is None:
        return Matcher("exact", text, lambda v: v == text and v.__class__ is str, quote(text))

    def same_address(v: Any) -> bool:
        return v.__class__ is str and (v == text or as_ip(v) == address)

    return Matcher("exact-ip", (text, address), same_address, quote(text))


def exact_number(number: int | float) -> Matcher:
    def equal(v: Any) -> bool:
        cls = v.__class__
        return (cls is int or cls is float) and v == number

    return Matcher("exact-num", number, equal, quote(number))


def literal(value: bool | None) -> Matcher:
    return Matcher("literal", value, lambda v: v is value, quote(value))


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
                    f'{where}: wildcard {quote(text)} has an invalid escape at position {i}; '
                    'a backslash may only escape "*" or "\\"')
            current.append(text[i + 1])
            i += 2
            continue
        if char == "*":
            if i + 1 < len(text) and text[i + 1] == "*":
                raise PatternError(
                    f"{where}: wildcard {quote(text)} has consecutive wildcard characters "
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

ABSENT = object()  # what {"exists": false} parses to: a flag on the condition, not a test


def type_name(value: Json) -> str:
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
                           + ", ".join(quote(k) for k in obj))


def _operand_number(value: Json, where: str, operator: str) -> int | float:
    """A number usable by ``numeric``/``anything-but``: finite, in range, <= 6 decimals."""
    if not _is_number(value):
        raise PatternError(f'{where}: the value of "{operator}" must be a number, '
                           f"not {type_name(value)}")
    if value != value or value in (float("inf"), float("-inf")) or abs(value) > NUMERIC_LIMIT:
        raise PatternError(f"{where}: {quote(value)} is outside the supported numeric range "
                           "-5e9..5e9")
    exponent = Decimal(repr(value) if isinstance(value, float) else value).normalize().as_tuple()
    if isinstance(exponent.exponent, int) and exponent.exponent < -NUMERIC_DECIMALS:
        raise PatternError(f"{where}: {quote(value)} has more than {NUMERIC_DECIMALS} digits "
                           "after the decimal point")
    return value


def _string_arg(value: Json, where: str, operator: str) -> str:
    if not isinstance(value, str):
        raise PatternError(f'{where}: "{operator}" needs a string, not {type_name(value)}')
    return value


def _affix(operator: str, value: Json, where: str) -> Matcher:
    """``prefix`` / ``suffix``, optionally wrapping ``equals-ignore-case``."""
    starts = operator == "prefix"
    if isinstance(value, dict):
        inner, text = _single_key(value, where, f'the "{operator}" value')
        if inner != "equals-ignore-case":
            raise PatternError(f'{where}: unsupported {operator} pattern {quote(inner)}; '
                               f'only {{"{operator}": {{"equals-ignore-case": "..."}}}} is allowed')
        text = _string_arg(text, where, f"{operator}/equals-ignore-case")
        _only_key(value, where)
        folded = text.lower()
        check: Test = ((lambda v: v.__class__ is str and v.lower().startswith(folded)) if starts
                       else (lambda v: v.__class__ is str and v.lower().endswith(folded)))
        return Matcher(f"{operator}-ic", folded, check, f"{operator} {quote(text)} (ignoring case)")
    text = _string_arg(value, where, operator)
    check = ((lambda v: v.__class__ is str and v.startswith(text)) if starts
             else (lambda v: v.__class__ is str and v.endswith(text)))
    return Matcher(operator, text, check, f"{operator} {quote(text)}")


def _numeric(value: Json, where: str) -> Matcher:
    usage = '"numeric" needs an operator and a number, e.g. [">", 0, "<=", 5] or ["=", 3]'
    if not isinstance(value, list) or len(value) < 2:
        raise PatternError(f"{where}: {usage}")
    op = value[0]
    if not isinstance(op, str):
        raise PatternError(f"{where}: {usage}; {quote(op)} is not an operator")
    if op not in ("=", "<", "<=", ">", ">="):
        raise PatternError(f"{where}: unrecognised numeric operator {quote(op)} "
                           "(use =, <, <=, > or >=)")
    first = _operand_number(value[1], where, op)
    if op == "=":
        if len(value) > 2:
            raise PatternError(f'{where}: "numeric" ["=", n] takes exactly one number')
        return Matcher("numeric-eq", first, exact_number(first).test,
                        f"a number equal to {quote(first)}")
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
                raise PatternError(f"{where}: bad numeric range operator {quote(upper)}; "
                                   'the second operator must be "<" or "<="')
            high, high_open = _operand_number(value[3], where, upper), upper == "<"
    if low >= high:
        raise PatternError(f'{where}: "numeric" range is empty: the lower bound must be less '
                           "than the upper bound (one-sided ranges are bounded by -5e9..5e9)")

    parts = []
    if low > -NUMERIC_LIMIT or low_open:
        parts.append(f"{'>' if low_open else '>='} {quote(low)}")
    if high < NUMERIC_LIMIT or high_open:
        parts.append(f"{'<' if high_open else '<='} {quote(high)}")
    return Matcher("numeric", (low, low_open, high, high_open),
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


def _cidr(value: Json, where: str) -> Matcher:
    text = _string_arg(value, where, "cidr")
    if text.count("/") != 1:
        raise PatternError(f"{where}: malformed CIDR {quote(text)}; exactly one '/' is required")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise PatternError(f"{where}: malformed CIDR {quote(text)}: {exc}") from None
    version, low, high = network.version, int(network[0]), int(network[-1])

    def inside(v: Any) -> bool:
        if v.__class__ is not str:
            return False
        address = _ip_value(v)
        return address is not None and address[0] == version and low <= address[1] <= high

    return Matcher("cidr", (version, low, high), inside, f"an IP address in {text}")


_ANYTHING_BUT_FORMS = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def _anything_but(value: Json, where: str) -> Matcher:
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
                           f"{type_name(value)}")
    shown = ", ".join(quote(v) for v in excluded)
    if isinstance(excluded[0], str):
        strings = frozenset(excluded)
        return Matcher("anything-but", ("str", strings),
                        lambda v: v.__class__ is not str or v not in strings, f"anything but {shown}")
    numbers = frozenset(excluded)

    def not_excluded(v: Any) -> bool:
        cls = v.__class__
        return (cls is not int and cls is not float) or v not in numbers

    return Matcher("anything-but", ("num", numbers), not_excluded, f"anything but {shown}")


def _anything_but_form(value: dict, where: str) -> Matcher:
    form, arg = _single_key(value, where, 'the "anything-but" object')
    if form not in _ANYTHING_BUT_FORMS:
        raise PatternError(f"{where}: unsupported anything-but pattern {quote(form)} (use "
                           "prefix, suffix, equals-ignore-case or wildcard)")
    _only_key(value, where)
    texts = arg if isinstance(arg, list) else [arg]
    if not isinstance(arg, (list, str)) or not all(isinstance(t, str) for t in texts):
        raise PatternError(f'{where}: "anything-but" {form} needs a string or a list of strings')
    if form in ("prefix", "suffix") and any(t == "" for t in texts):
        raise PatternError(f'{where}: "anything-but" {form} must not be empty')
    shown = f"anything but {form} " + ", ".join(quote(t) for t in texts)
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
    return Matcher("anything-but", (form, tuple(texts)),
                    lambda v: v.__class__ is not str or not excluded(v), shown)


def parse_operator(obj: dict, where: str) -> Matcher | object:
    name, value = _single_key(obj, where, "a match expression")
    if name in ("prefix", "suffix"):
        matcher = _affix(name, value, where)
    elif name == "equals-ignore-case":
        text = _string_arg(value, where, name)
        folded = text.lower()
        matcher = Matcher("equals-ignore-case", folded,
                           lambda v: v.__class__ is str and v.lower() == folded,
                           f"{quote(text)} (ignoring case)")
    elif name == "exactly":
        text = _string_arg(value, where, name)
        matcher = Matcher("exact", text, lambda v: v == text and v.__class__ is str, quote(text))
    elif name == "wildcard":
        text = _string_arg(value, where, name)
        wildcard = _parse_wildcard(text, where)
        check = wildcard.matcher()
        matcher = Matcher("wildcard", wildcard, lambda v: v.__class__ is str and check(v),
                           f"wildcard {quote(text)}")
    elif name == "numeric":
        matcher = _numeric(value, where)
    elif name == "anything-but":
        matcher = _anything_but(value, where)
    elif name == "cidr":
        matcher = _cidr(value, where)
    elif name == "exists":
        if not isinstance(value, bool):
            raise PatternError(f'{where}: "exists" must be true or false, not {type_name(value)}')
        _only_key(obj, where)
        return Matcher("exists", True, lambda v: True, "the field to exist") if value else ABSENT
    else:
        raise PatternError(f"{where}: unrecognised match type {quote(name)}")
    _only_key(obj, where)
    return matcher


EXACT_KINDS = frozenset({"exact", "exact-num", "literal"})


def combine(matchers: tuple[Matcher, ...]) -> Test | None:
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
    others = tuple(m.test for m in matchers if m.kind not in EXACT_KINDS)

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
