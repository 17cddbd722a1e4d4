"""Compiled patterns: validated once, matched many times (the generated fast path, then the
exact algorithm for what it leaves open).

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from .fastpath import FastBranch
from .match import event_object
from .parse import API_MAX_SIZE, canonical, parse_pattern


class CompiledPattern:
    """A validated pattern ready to match events quickly.  Immutable and thread-safe."""

    __slots__ = ("source", "branches", "_fast", "_single")

    def __init__(self, pattern: str | Mapping, *, max_size: int = API_MAX_SIZE) -> None:
        self.source, self.branches = parse_pattern(pattern, max_size)
        self._fast = tuple(FastBranch(b) for b in self.branches)
        self._single = self._fast[0].fast if len(self._fast) == 1 else None  # the common case

    def matches(self, event: Mapping | str | bytes) -> bool:
        """True if ``event`` (a dict, or JSON text) matches the pattern."""
        if event.__class__ is not dict:
            event = event_object(event)
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


def as_compiled(pattern: str | Mapping | CompiledPattern) -> CompiledPattern:
    if isinstance(pattern, CompiledPattern):
        return pattern
    if isinstance(pattern, str):
        return _compiled_text(pattern)
    return CompiledPattern(pattern)


def matches(pattern: str | Mapping | CompiledPattern, event: Mapping | str | bytes) -> bool:
    """True if ``event`` matches ``pattern`` (dict, JSON text or compiled)."""
    return as_compiled(pattern).matches(event)
