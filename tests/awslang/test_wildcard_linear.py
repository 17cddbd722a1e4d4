"""Wildcard matching: the same answers as a brute-force oracle, and no backtracking blow-up.

The oracle below is independent of awslang.patterns: it reads the wildcard text itself (``\\*`` is a
literal star, ``\\\\`` a literal backslash, any other ``*`` matches any run of characters) and
decides by dynamic programming over (pattern token, text position).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awslang.patterns import PatternError, RuleIndex, compile, matches

ROOT = Path(__file__).resolve().parents[2]
STAR = object()


def _tokens(wildcard: str) -> list:
    out, i = [], 0
    while i < len(wildcard):
        if wildcard[i] == "\\":
            out.append(wildcard[i + 1])
            i += 2
        else:
            out.append(STAR if wildcard[i] == "*" else wildcard[i])
            i += 1
    return out


def oracle(wildcard: str, text: str) -> bool:
    tokens = _tokens(wildcard)
    # ok[j]: the tokens read so far match text[:j]
    ok = [True] + [False] * len(text)
    for token in tokens:
        new = [False] * (len(text) + 1)
        for j in range(len(text) + 1):
            if token is STAR:
                new[j] = ok[j] or (j > 0 and new[j - 1])
            else:
                new[j] = j > 0 and ok[j - 1] and text[j - 1] == token
        ok = new
    return ok[len(text)]


def wildcard_matches(wildcard: str, value) -> bool:
    return matches({"f": [{"wildcard": wildcard}]}, {"f": value})


# Cases from the EventBridge documentation's wildcard examples and event-ruler's wildcard tests.
FIXED = [
    ("dir/*.png", "dir/photo.png", True),
    ("dir/*.png", "dir/photo.jpg", False),
    ("dir/*.png", "dir/a/b/c.png", True),
    ("*.png", ".png", True),
    ("arn:aws:events:us-east-1:*:event-bus/*", "arn:aws:events:us-east-1:123456789012:event-bus/default", True),
    ("arn:aws:events:us-east-1:*:event-bus/*", "arn:aws:events:eu-west-1:123456789012:event-bus/default", False),
    ("*", "", True),
    ("a*", "a", True),
    ("*a", "", False),
    ("*ab*ab*", "abab", True),
    ("*ab*ab*", "aba", False),
    ("a*bc*d", "abcbcd", True),
    ("a*bc*d", "abdbcd", True),
    ("a*bc*d", "abcd", True),
    ("a*bc*d", "abd", False),
    ("*aa*aa", "aaa", False),
    ("*aa*aa", "aaaa", True),
    ("x*yz*yz*", "xyzyz", True),
    ("x*yz*yz*", "xyzy", False),
    ("\\*", "*", True),
    ("\\*", "a", False),
    ("a\\**b", "a*xb", True),
    ("a\\**b", "axb", False),
    ("\\\\*", "\\anything", True),
    ("*\\\\", "ends\\", True),
    ("é*ü", "éaü", True),
    ("*😀*", "a😀b", True),
]


@pytest.mark.parametrize(("wildcard", "text", "expected"), FIXED)
def test_fixed_cases(wildcard, text, expected):
    assert oracle(wildcard, text) is expected  # the oracle agrees with the documented answer
    assert wildcard_matches(wildcard, text) is expected


def test_anything_but_wildcard_is_the_negation():
    for wildcard, text, expected in FIXED:
        got = matches({"f": [{"anything-but": {"wildcard": wildcard}}]}, {"f": text})
        assert got is (not expected), (wildcard, text)


def test_wildcard_in_the_rule_index_agrees():
    index = RuleIndex()
    for number, (wildcard, _, _) in enumerate(FIXED):
        index.add(number, {"f": [{"wildcard": wildcard}]})
    for wildcard, text, expected in FIXED:
        number = next(i for i, case in enumerate(FIXED) if case[0] == wildcard)
        assert (number in index.match({"f": text})) is oracle(wildcard, text)


WILDCARD_PIECES = st.sampled_from(["a", "b", "ab", "*", "\\*", "\\\\"])


@st.composite
def wildcards(draw):
    pieces = draw(st.lists(WILDCARD_PIECES, max_size=8))
    text = "".join(pieces)
    return text.replace("**", "*")  # consecutive stars are refused by the pattern language


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wildcards(), st.text(alphabet="ab*\\", max_size=10))
def test_matcher_equals_the_oracle(wildcard, text):
    try:
        compile({"f": [{"wildcard": wildcard}]})
    except PatternError:
        assert "**" in wildcard  # only the refused form may fail
        return
    assert wildcard_matches(wildcard, text) is oracle(wildcard, text)


def test_consecutive_stars_are_refused():
    with pytest.raises(PatternError, match="consecutive wildcard characters"):
        compile({"f": [{"wildcard": "a**b"}]})


WORST_CASES = r"""
from awslang.patterns import matches, explain
cases = [
    # the issue's shapes: many stars around one repeated letter, the value almost matching
    ("*a*a*a*a*a" + "b" * 41, "a" * 136),          # 51 characters against 136
    ("*a*a*a*ab", "a" * 400),                      # 4 wildcards against 400 characters
    ("*a*a*a*ab", "a" * 262_000),                  # ... against a value of the 256 KB event limit
    ("*" + "a*" * 40 + "b", "a" * 262_000),
    ("*ab*ab*ab*ab*c", "ab" * 131_000),
]
for wildcard, text in cases:
    pattern = {"f": [{"wildcard": wildcard}]}
    assert matches(pattern, {"f": text}) is False
    assert matches({"f": [{"anything-but": {"wildcard": wildcard}}]}, {"f": text}) is True
    assert explain(pattern, {"f": text}) is not None
print("done")
"""


def test_worst_cases_finish():
    """Before segment matching these took 8 s, 49 s and (for 256 KB) far longer than the deadline."""
    done = subprocess.run([sys.executable, "-c", WORST_CASES], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
