"""The exact matching algorithm, and the time budget for matching while a person waits.

:class:`BranchEvaluation` judges one branch against an event: it collects each field's leaf
values with the array elements they sit in and searches for one choice per field that keeps
shared arrays consistent.  It is always right and sometimes slow; the
generated fast path (:mod:`.fastpath`) hands it only what it cannot decide.

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from core import safejson

from .operators import SCALAR_TYPES
from .parse import Branch, Condition


# --------------------------------------------------------------------------------------------
# Time budget for matching done while a person waits (sandbox, "which rules match", Test pattern)
# --------------------------------------------------------------------------------------------

class MatchBudgetExceeded(RuntimeError):
    """Matching ran past the time budget set with :func:`match_budget`."""


_deadline: ContextVar[float | None] = ContextVar("awslang_patterns_deadline", default=None)


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
# Event navigation (exact algorithm)
# --------------------------------------------------------------------------------------------

_ARRAY = object()  # route step: "inside an array"
Membership = tuple[tuple[tuple, int], ...]  # ((array route, element index), ...)


def _leaves(event: Mapping, cond: Condition) -> list[tuple[Any, Membership]]:
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
        if cls in SCALAR_TYPES:
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


class BranchEvaluation:
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


def event_object(event: Mapping | str | bytes) -> Mapping | None:
    """The event to match: a mapping as given, JSON text parsed; None for JSON that is not an object."""
    if isinstance(event, Mapping):
        return event
    if isinstance(event, (str, bytes, bytearray)):
        try:
            parsed = safejson.loads(event, what="the event")
        except safejson.InvalidJSON as exc:
            raise ValueError(f"the event is not valid JSON: {exc.reason}") from None
        return parsed if isinstance(parsed, dict) else None
    raise TypeError(f"the event must be a dict or JSON text, not {type(event).__name__}")
