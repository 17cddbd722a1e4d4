"""The rule index: many rules, one event, every matching rule without trying each pattern.

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from .compiled import CompiledPattern
from .match import check_budget, event_object
from .operators import NUMERIC_LIMIT, SCALAR_TYPES, Matcher, as_ip
from .parse import Branch, Condition


_NUM, _BOOL, _NULL, _IP = "n", "b", "z", "ip"  # tags keeping exact keys of different types apart
# Matcher kinds filed under their own argument, and the _FieldIndex structure that holds them.
_FILED_BY_ARG = {"equals-ignore-case": "folded", "prefix": "prefixes", "suffix": "suffixes",
                 "prefix-ic": "folded_prefixes", "suffix-ic": "folded_suffixes", "numeric": "ranges"}


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

    def _entries(self, matcher: Matcher) -> list[tuple[Any, Hashable]]:
        """The lookup structures (and keys) one indexable matcher is filed under."""
        kind, arg = matcher.kind, matcher.arg
        if kind in ("exact", "literal", "exact-num"):
            return [(self.exact, _exact_key(arg))]
        if kind == "exact-ip":
            text, address = arg
            return [(self.exact, text), (self.exact, (_IP, address))]
        if kind == "numeric-eq":
            return [(self.exact, (_NUM, arg))]
        if kind in _FILED_BY_ARG:
            return [(getattr(self, _FILED_BY_ARG[kind]), arg)]
        if kind == "exists":
            return [(self.present, None)]
        if kind == "wildcard":
            head, tail = arg.segments[0], arg.segments[-1]
            return [(self.prefixes, head)] if head else [(self.suffixes, tail)]
        raise AssertionError(f"not indexable: {kind}")

    def file(self, matcher: Matcher, state: _State, add: bool) -> None:
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
                    address = as_ip(value)
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


def _indexable(cond: Condition) -> bool:
    if cond.absent_ok:
        return False
    for m in cond.matchers:
        if m.kind == "wildcard":
            if not (m.arg.segments[0] or m.arg.segments[-1]):
                return False
        elif m.kind not in _INDEXABLE:
            return False
    return True


def _index_order(cond: Condition) -> tuple:
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
        document = event_object(event)
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
    if cls is dict or (cls is not list and cls not in SCALAR_TYPES and isinstance(node, Mapping)):
        for key, value in node.items():
            child = key if name is None else f"{name}.{key}"
            if child in wanted:
                _flatten(value, child, wanted, out)
    elif cls is list or isinstance(node, tuple):
        for element in node:
            _flatten(element, name, wanted, out)
    elif name is not None:
        out.setdefault(name, []).append(node)
