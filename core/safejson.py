"""The one place where JSON text typed by a person is parsed.

Plain `json.loads` on untrusted text fails in ways a form cannot report: 10,000 nested brackets
raise RecursionError, a 5,000-digit number raises a ValueError without a position, `1e999` becomes
infinity, `"\\ud800"` gives a lone surrogate that cannot be encoded as UTF-8 (so neither stored nor
hashed), and `"\\u0000"` gives a NUL that PostgreSQL refuses in json and text columns.

`loads` refuses all of these with one exception, `InvalidJSON`, whose message names the field
and is fit to show under it. `text_problem` says the same for plain text (names, descriptions,
comments). This module does not import Django.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["InvalidJSON", "MAX_DEPTH", "MAX_NUMBER_DIGITS", "loads", "scrub_json_text", "scrub_text", "text_problem",
           "value_problem"]

# Nesting deeper than this is refused before parsing. AWS documents no depth for event patterns or
# target input; real events and payloads stay within a dozen levels, and every part of the console
# that walks a document (matcher, transformer, diff, templates) stays far from Python's stack limit.
MAX_DEPTH = 100
MAX_NUMBER_DIGITS = 400  # a JSON number longer than this is not a number anyone typed on purpose

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidJSON(ValueError):
    """JSON text that cannot be accepted; str() is the message for the field, `reason` the part after "what"."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


def _refuse(what: str, verb: str, reason: str) -> InvalidJSON:
    return InvalidJSON(f"{what} {verb}: {reason}", reason)


def text_problem(value: str, what: str = "The text") -> str | None:
    """Why `value` cannot be stored as text (a lone surrogate or a NUL character), or None."""
    if "\x00" in value:
        return f"{what} contains a NUL character (\\u0000), which cannot be stored; remove it."
    match = _SURROGATE.search(value)
    if match:
        return (f"{what} contains an unpaired surrogate (\\u{ord(match.group()):04x}) at character "
                f"{match.start() + 1}; that is not a valid Unicode character.")
    return None


def _depth_problem(text: str, max_depth: int) -> int | None:
    """The position where nesting first goes past `max_depth` (strings skipped), or None. No recursion."""
    if text.count("[") + text.count("{") <= max_depth:
        return None
    depth, stripped = 0, _STRING.sub('""', text)
    for match in _BRACKET.finditer(stripped):
        depth += 1 if match.group() in "[{" else -1
        if depth > max_depth:
            return match.start()
    return None


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise InvalidJSON(f"a number has {len(digits.lstrip('-')):,} digits (at most {MAX_NUMBER_DIGITS} "
                          f"are accepted)")
    return int(digits)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise InvalidJSON(f"a number is {len(text):,} characters long (at most {MAX_NUMBER_DIGITS} are accepted)")
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON(f"the number {text[:40]} is too large to represent")
    return value


def _parse_constant(name: str) -> None:
    raise InvalidJSON(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


def value_problem(value: Any, what: str = "The JSON") -> str | None:
    """Why a parsed JSON value cannot be stored (NUL or lone surrogate in a key or string), or None.

    Iterative, so it is safe on any depth.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item, f"{what} has a string that")
        elif isinstance(item, dict):
            problem = next((text_problem(k, f"{what} has a key that") for k in item if text_problem(k)), None)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            problem = None
        else:
            problem = None
        if problem:
            return problem
    return None


def loads(text: str | bytes, *, what: str = "The JSON", max_chars: int | None = None, limit_words: str = "",
          max_depth: int = MAX_DEPTH) -> Any:
    """Parse `text` or raise InvalidJSON with a message such as "The event is not valid JSON: …".

    `max_chars` refuses longer text first (`limit_words` says whose limit it is, e.g. AWS's).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _refuse(what, "is not accepted", f"it is not UTF-8 text (byte {exc.start + 1}).") from None
    if not isinstance(text, str):
        raise _refuse(what, "is not accepted", "it must be JSON text.")
    if max_chars is not None and len(text) > max_chars:
        raise _refuse(what, "is too long", f"it must have length less than or equal to {max_chars:,}"
                      f"{f' ({limit_words})' if limit_words else ''}; it has {len(text):,} characters.")
    raw = text_problem(text, "it")
    if raw:
        raise _refuse(what, "is not accepted", raw)
    deep = _depth_problem(text, max_depth)
    if deep is not None:
        raise _refuse(what, "is not accepted", f"it is nested more than {max_depth} levels deep (at character "
                      f"{deep + 1}); flatten it.")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except InvalidJSON as exc:
        raise _refuse(what, "is not accepted", f"{exc}.") from None
    except json.JSONDecodeError as exc:
        raise _refuse(what, "is not valid JSON", f"{exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except (ValueError, RecursionError) as exc:  # belt and braces: never anything but InvalidJSON
        raise _refuse(what, "is not valid JSON", f"{exc}.") from None
    problem = value_problem(value, "it")
    if problem:
        raise _refuse(what, "is not accepted", problem)
    return value


_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def scrub_text(value: str) -> str:
    """`value` with NUL and unpaired surrogates replaced by U+FFFD (for what must be stored whatever it holds)."""
    return _SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd")) if isinstance(value, str) else value


def scrub_json_text(text: str) -> str:
    """JSON text (as json.dumps(ensure_ascii=False) writes it) with NUL escapes and unpaired surrogates
    replaced by U+FFFD, so the value can be hashed as UTF-8 and stored by PostgreSQL."""
    return _ESCAPED_NUL.sub("\\1\ufffd", _SURROGATE.sub("\ufffd", text))
