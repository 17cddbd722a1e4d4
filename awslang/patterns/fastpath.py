"""The fast path: per-branch Python code generated for the common shapes of pattern and event.

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .match import BranchEvaluation
from .operators import EXACT_KINDS, MISSING, SCALAR_TYPES, combine
from .parse import Branch, Condition


def _alternatives(cond: Condition) -> Callable[[Mapping], bool]:
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


def _list_scanner(cond: Condition) -> Callable[[list], bool | None]:
    """Verdict for a field whose value is an array of scalars; None if it holds containers."""
    test, absent_ok = cond.test, cond.absent_ok

    def scan(values: list) -> bool | None:
        for value in values:
            if value.__class__ not in SCALAR_TYPES:
                return None
            if test is not None and test(value):
                return True
        return absent_ok and not values

    return scan


def _fast_pieces(cond: Condition, i: int) -> tuple[tuple[str, ...], dict[str, Any]]:
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
    others = tuple(m for m in cond.matchers if m.kind not in EXACT_KINDS)
    if others:
        pieces.append(f"O{i}(v)")
        consts[f"O{i}"] = combine(others)
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


def _fast_cost(cond: Condition) -> tuple[int, int]:
    """Cheap, selective conditions first: exact values on short paths fail fastest."""
    return (0 if all(m.kind in EXACT_KINDS for m in cond.matchers) else 1), len(cond.segs)


class FastBranch:
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
        args: dict[str, Any] = {"M": MISSING, "SC": SCALAR_TYPES, "U": _UNDECIDED}
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
        return BranchEvaluation(event, tuple(c for c in self.branch if c in undecided)).matches()
