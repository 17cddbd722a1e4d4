"""Property-based tests for awslang.patterns (hypothesis).

* a pattern built from an event's own leaf values matches that event;
* ``{"anything-but": [v]}`` never matches ``v``;
* ``explain`` is empty exactly when ``matches`` is true (this also pits the generated fast path
  against the exact array-aware algorithm);
* ``validate`` raises nothing but PatternError on arbitrary JSON or text;
* ``RuleIndex.match`` equals trying every pattern, over random rule sets and events.
"""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awslang import patterns
from awslang.patterns import PatternError, RuleIndex, explain, matches, validate

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The properties whose examples are whole rule sets or patterns with events drawn for them: fewer, larger
# examples (each one is dozens of the simple ones above; together they cost the suite half a minute).
LARGE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "a.b", "items", "", "Ab"])
# Text as the console accepts it in patterns and events: any Unicode but NUL (PostgreSQL cannot store it,
# so the pattern language refuses it: docs/input-limits.md) and unpaired surrogates (not Unicode text).
STORABLE_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["a", "b", "ab", "ba", "A", "", "*", "a*b", "10.0.0.1", "10.0.0.300", "x.y"]),
    st.text(STORABLE_TEXT, max_size=6),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=16,
)
EVENTS = st.dictionaries(KEYS, JSON_VALUES, max_size=5)


def consistent_leaves(value: Any, path: tuple[str, ...], draw) -> list[tuple[tuple[str, ...], Any]]:
    """Leaves reachable when every array contributes one drawn element (array-consistent)."""
    if isinstance(value, dict):
        return [leaf for key, child in value.items() for leaf in consistent_leaves(child, path + (key,), draw)]
    if isinstance(value, list):
        if not value:
            return []
        index = draw(st.integers(min_value=0, max_value=len(value) - 1))
        return consistent_leaves(value[index], path, draw)
    return [(path, value)]


def nest(leaves: list[tuple[tuple[str, ...], Any]]) -> dict:
    pattern: dict = {}
    for path, value in leaves:
        node = pattern
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = [value]
    return pattern


@SETTINGS
@given(EVENTS, st.data())
def test_pattern_built_from_the_events_own_values_matches(event, data):
    leaves = consistent_leaves(event, (), data.draw)
    chosen = [leaf for leaf in leaves if data.draw(st.booleans())] or leaves[:1]
    if not chosen:
        return  # an event without leaves gives no pattern to build
    pattern = nest(chosen)
    assert matches(pattern, event)
    assert explain(pattern, event) is None
    assert matches(json.dumps(pattern), json.dumps(event))


# ------------------------------------------------------------------------------------------
# anything-but
# ------------------------------------------------------------------------------------------

NUMBERS_IN_RANGE = st.one_of(
    st.integers(min_value=-5 * 10**9, max_value=5 * 10**9),
    st.integers(min_value=-5 * 10**15, max_value=5 * 10**15).map(lambda n: n / 10**6),
)


@SETTINGS
@given(st.one_of(st.text(STORABLE_TEXT, max_size=10), NUMBERS_IN_RANGE), st.integers(min_value=1, max_value=3))
def test_anything_but_never_matches_the_excluded_value(value, copies):
    for values in ([{"anything-but": [value]}], [{"anything-but": value}]):
        pattern = {"detail": {"f": values}}
        assert not matches(pattern, {"detail": {"f": value}})
        assert not matches(pattern, {"detail": {"f": [value] * copies}})
    if isinstance(value, str):
        folded = {"detail": {"f": [{"anything-but": {"equals-ignore-case": [value.lower()]}}]}}
        assert not matches(folded, {"detail": {"f": value.lower()}})
        if value:
            prefixed = {"detail": {"f": [{"anything-but": {"prefix": value}}]}}
            assert not matches(prefixed, {"detail": {"f": value + "tail"}})


# ------------------------------------------------------------------------------------------
# Valid random patterns
# ------------------------------------------------------------------------------------------

WORDS = st.sampled_from(["a", "b", "ab", "A", "", "10.0.0.1", "x.y"])
OPERATORS = st.one_of(
    WORDS, st.none(), st.booleans(), st.sampled_from([0, 1, 1.5, -2, 10**13]),
    st.builds(lambda w: {"prefix": w}, WORDS), st.builds(lambda w: {"suffix": w}, WORDS),
    st.builds(lambda w: {"prefix": {"equals-ignore-case": w}}, WORDS),
    st.builds(lambda w: {"suffix": {"equals-ignore-case": w}}, WORDS),
    st.builds(lambda w: {"equals-ignore-case": w}, WORDS),
    st.builds(lambda w: {"exactly": w}, WORDS),
    st.sampled_from([
        {"anything-but": "a"}, {"anything-but": ["a", "b"]}, {"anything-but": 1}, {"anything-but": [0, 1.5]},
        {"anything-but": {"prefix": "a"}}, {"anything-but": {"suffix": ["b", "a"]}},
        {"anything-but": {"equals-ignore-case": "A"}}, {"anything-but": {"wildcard": "a*"}},
        {"numeric": [">", 0]}, {"numeric": [">=", 0, "<", 2]}, {"numeric": ["=", 1]}, {"numeric": ["<=", 1.5]},
        {"numeric": [">", -3, "<=", 0]}, {"exists": True}, {"exists": False},
        {"cidr": "10.0.0.0/24"}, {"cidr": "::/0"},
        {"wildcard": "a*"}, {"wildcard": "*b"}, {"wildcard": "*"}, {"wildcard": "a*b"}, {"wildcard": "\\*"},
    ]),
)
VALUE_LISTS = st.lists(OPERATORS, min_size=1, max_size=3)
FIELDS = st.sampled_from(["a", "b", "c", "a.b", "items"])


def objects(children):
    plain = st.dictionaries(FIELDS, children, min_size=1, max_size=3)
    with_or = st.builds(lambda base, alternatives: {**base, "$or": alternatives},
                        st.dictionaries(FIELDS, children, max_size=2),
                        st.lists(st.dictionaries(FIELDS, children, min_size=1, max_size=2), min_size=2, max_size=3))
    return plain | with_or


PATTERN_VALUES = st.recursive(VALUE_LISTS, objects, max_leaves=6)
PATTERNS = objects(PATTERN_VALUES)

EVENT_SCALARS = st.one_of(WORDS, st.none(), st.booleans(), st.sampled_from([0, 1, 1.5, -2, 2, 10**13, 6e9]),
                          st.sampled_from(["abba", "Ab", "10.0.0.9", "::1", "a\\b", "a*"]))
PATTERNED_EVENTS = st.recursive(
    EVENT_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(FIELDS, children, max_size=4),
    max_leaves=12,
).filter(lambda e: isinstance(e, dict))


_OMIT = object()
_SATISFY = {  # a value each sampled operator accepts
    '{"numeric": [">", 0]}': 1, '{"numeric": [">=", 0, "<", 2]}': 0, '{"numeric": ["=", 1]}': 1.0,
    '{"numeric": ["<=", 1.5]}': 1.5, '{"numeric": [">", -3, "<=", 0]}': -2, '{"exists": true}': None,
    '{"exists": false}': _OMIT, '{"cidr": "10.0.0.0/24"}': "10.0.0.7", '{"cidr": "::/0"}': "::1",
    '{"wildcard": "a*"}': "abc", '{"wildcard": "*b"}': "ab", '{"wildcard": "*"}': "",
    '{"wildcard": "a*b"}': "a*b", '{"wildcard": "\\\\*"}': "*",
}


def satisfying(item: Any) -> Any:
    """A value ``item`` (one element of a pattern's value list) accepts, or _OMIT for absence."""
    if not isinstance(item, dict):
        return item
    (name, arg), = item.items()
    if name == "anything-but":
        return "zzz"
    if name in ("prefix", "suffix"):
        word = arg["equals-ignore-case"].upper() if isinstance(arg, dict) else arg
        return word + "z" if name == "prefix" else "z" + word
    if name in ("equals-ignore-case", "exactly"):
        return arg.upper() if name == "equals-ignore-case" else arg
    return _SATISFY[json.dumps(item)]


def event_like(pattern: dict, draw) -> dict:
    """An event shaped like ``pattern``, its fields mostly satisfied, sometimes inside arrays."""
    event: dict = {}
    for key, value in pattern.items():
        if key == "$or":
            for alternative in value:
                if draw(st.integers(0, 3)):
                    event.update(event_like(alternative, draw))
            continue
        if draw(st.integers(0, 15)) == 0:
            continue  # leave the field out
        if isinstance(value, dict):
            nested = [event_like(value, draw) for _ in range(draw(st.integers(1, 2)))]
            event[key] = nested if draw(st.booleans()) else nested[0]
            continue
        if draw(st.integers(0, 4)):
            chosen = [satisfying(draw(st.sampled_from(value)))]
        else:
            chosen = [draw(EVENT_SCALARS) for _ in range(draw(st.integers(1, 2)))]
        chosen = [v for v in chosen if v is not _OMIT]
        if chosen:
            event[key] = chosen if len(chosen) > 1 or not draw(st.integers(0, 4)) else chosen[0]
    return event


@LARGE
@given(PATTERNS, st.lists(PATTERNED_EVENTS, max_size=2), st.data())
def test_explain_is_empty_exactly_when_the_pattern_matches(pattern, random_events, data):
    compiled = patterns.compile(pattern)
    events = random_events + [event_like(pattern, data.draw) for _ in range(3)]
    for event in events:
        verdict = compiled.matches(event)
        assert (explain(compiled, event) is None) == verdict
        assert compiled.matches(json.dumps(event)) == verdict


# ------------------------------------------------------------------------------------------
# validate on arbitrary input
# ------------------------------------------------------------------------------------------

NOISE_KEYS = st.one_of(
    st.sampled_from(["$or", "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists",
                     "cidr", "wildcard", "exactly", "detail", "source", "a.b", ""]),
    st.text(max_size=5),
)
NOISE_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.sampled_from(["*", "**", "a**b", "\\", "\\*", "a\\b", "10.0.0.0/8", "::/200", "/", ">", "<=", "=", "<",
                     ">=", "1.2.3.4", 5e9, -5e9, 0.1234567, 1e400]),
    st.text(max_size=6),
)
NOISE = st.recursive(
    NOISE_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(NOISE_KEYS, children, max_size=3),
    max_leaves=25,
)


@settings(max_examples=1000, deadline=None)
@given(NOISE)
def test_validate_raises_only_pattern_errors(value):
    for candidate in (value, json.dumps(value)):
        try:
            validate(candidate)
        except PatternError:
            continue
        compiled = patterns.compile(candidate)
        assert isinstance(compiled.matches({"detail": value} if isinstance(value, dict) else {}), bool)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_validate_raises_only_pattern_errors_on_text(text):
    try:
        validate(text)
    except PatternError:
        pass


# ------------------------------------------------------------------------------------------
# RuleIndex against brute force
# ------------------------------------------------------------------------------------------

@settings(LARGE, max_examples=80)  # each example draws up to 10 whole patterns: generating them is most of the cost
@given(st.lists(PATTERNS, min_size=1, max_size=10), st.lists(PATTERNED_EVENTS, max_size=2), st.data())
def test_rule_index_equals_brute_force(rule_patterns, random_events, data):
    index = RuleIndex()
    compiled = {}
    for rule_id, pattern in enumerate(rule_patterns):
        index.add(rule_id, pattern)
        compiled[rule_id] = patterns.compile(pattern)
    for rule_id in data.draw(st.sets(st.sampled_from(sorted(compiled)))):
        index.remove(rule_id)
        del compiled[rule_id]
    events = random_events + [event_like(data.draw(st.sampled_from(rule_patterns)), data.draw)
                              for _ in range(3)]
    for event in events:
        expected = {rule_id for rule_id, pattern in compiled.items() if pattern.matches(event)}
        assert index.match(event) == expected
