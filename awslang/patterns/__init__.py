"""Amazon EventBridge event patterns: validation, matching, explanations and a rule index.

Pure Python, importable without Django.  Public API (import it from this package):

``validate(pattern, *, max_size=2048)``
    Parse and check a pattern (dict or JSON text); raise :class:`PatternError` for every
    pattern EventBridge rejects, naming the JSON path and the reason.  Returns the parsed dict.
``compile(pattern)`` -> :class:`CompiledPattern`
    Validate once and build a fast matcher; ``.matches(event)`` accepts a dict or JSON text.
``matches(pattern, event)``
    One-shot convenience (compiled patterns are cached by their text).
``describe(pattern)`` -> ``list[list[str]]``
    What the pattern matches, in words: one sentence per field, one list per ``$or`` alternative.
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

The behaviours above, with their sources: docs/aws-behaviours.md, "Event patterns".

The package, bottom to top: ``operators`` (each operator parsed into a value test), ``parse``
(fields, ``$or`` branches, size, JSON text), ``match`` (the exact algorithm and the time budget),
``fastpath`` (generated code for the common shapes), ``compiled`` (:class:`CompiledPattern`),
``explain`` and ``index`` (:class:`RuleIndex`).
"""
from .compiled import CompiledPattern, compile, matches
from .explain import Mismatch, describe, explain
from .index import RuleIndex
from .match import MatchBudgetExceeded, check_budget, match_budget
from .operators import PatternError
from .parse import API_MAX_SIZE, DEFAULT_MAX_SIZE, MAX_OR_COMBINATIONS, canonical, pretty, validate

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
    "describe",
    "explain",
    "match_budget",
    "matches",
    "pretty",
    "validate",
]
