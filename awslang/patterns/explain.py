"""Why an event does not match a pattern: the first failing field, what was wanted, what was found.

Part of :mod:`awslang.patterns`; import the public API from the package.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .compiled import CompiledPattern, as_compiled
from .match import BranchEvaluation, Membership, check_budget, event_object
from .operators import MISSING, quote
from .parse import Branch, Condition


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
    shown = [quote(v) for v in values[:limit]]
    if len(values) > limit:
        shown.append(f"... ({len(values)} values)")
    return shown[0] if len(values) == 1 else "[" + ", ".join(shown) + "]"


def _describe_field(event: Mapping, cond: Condition, leaves: list[tuple[Any, Membership]]) -> str:
    if leaves:
        return _describe_values([value for value, _ in leaves])
    node: Any = event
    for seg in cond.segs:
        node = node.get(seg, MISSING) if isinstance(node, Mapping) else MISSING
    if isinstance(node, Mapping):
        return "an object (no value of its own)"
    if isinstance(node, (list, tuple)):
        return "an empty array" if not node else "an array of objects (no value at this name)"
    return "nothing (the field is absent)"


def _explain_branch(event: Mapping, branch: Branch) -> tuple[int, Mismatch] | None:
    """(conditions satisfied, mismatch) for a failing branch; None if the branch matches."""
    evaluation = BranchEvaluation(event, branch)
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
    compiled = as_compiled(pattern)
    document = event_object(event)
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


_OPTION_WORDS = {"the field to exist": "present", "the field to be absent": "absent"}


def _option_phrase(description: str) -> str:
    """One accepted value, as the object of "<field> is …"."""
    if description in _OPTION_WORDS:
        return _OPTION_WORDS[description]
    if description.startswith(("prefix ", "suffix ")):
        return f"a text with {description}"
    if description.startswith("wildcard "):
        return f"a text matching {description}"
    return description


def _condition_sentence(cond: Condition) -> str:
    options = [_option_phrase(m.description) for m in cond.matchers]
    if cond.absent_ok:
        options.append("absent")
    return f"{cond.display} is {' or '.join(options)}"


_FIRST = {"source": 0, "detail-type": 1}  # what kind of event: read first, whatever the key order


def describe(pattern: str | Mapping | CompiledPattern) -> list[list[str]]:
    """What a pattern matches, in words: one list of sentences per ``$or`` alternative, one sentence
    per field (``source is "aws.s3"``): ``source`` and ``detail-type`` first, then the other fields in
    the order the pattern names them.

    The same phrases :func:`explain` uses for "wanted", so a reviewer reads a pattern the way the
    Sandbox explains a mismatch.  Raises :class:`PatternError` for an invalid pattern.
    """
    compiled = as_compiled(pattern)
    return [[_condition_sentence(cond) for cond in sorted(branch, key=lambda c: (_FIRST.get(c.name, 2), c.order))]
            for branch in compiled.branches]
