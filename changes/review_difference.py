"""What a reviewer reads on a change's page: the difference the change makes, part by part, for any kind.

Each kind says what one spec holds in its own terms: its module's optional `review_parts(spec, *, now)`
returns a `ReviewParts` (the event pattern in words and the catalog samples it matches, a schedule
expression in words and its next runs, the targets by Id, the tags, every other setting). This module
compares the parts of the spec the change started from (the object's desired spec then; nothing for a
create) with the proposed one (nothing for a delete), once for every kind:

- the event pattern as structured JSON, with a line-by-line difference (difflib) for an edit;
- what it matches in words, and which catalog samples it matches, before and after;
- a schedule expression in words and its next runs in its time zone, before and after;
- each target as one row (added, removed, changed or unchanged), field by field;
- tags key by key, and every other setting field by field.

Nothing is cut short: values are whole, the page wraps them.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from awslang import expressions
from core import safejson

from . import kinds
from .choices import ITEM_ACTIONS, ChangeAction

RUNS_SHOWN = 5  # next runs listed before and after


@dataclass
class ReviewParts:
    """One spec as a reviewer reads it, in its kind's terms (filled by the kind's `review_parts`)."""

    pattern: Any = None  # the event pattern as JSON; its text when it is not JSON; None: no pattern
    pattern_words: list[list[str]] = field(default_factory=list)  # one list of sentences per $or alternative
    pattern_problem: str = ""  # why the pattern cannot be put in words (it is not valid)
    samples: list[str] | None = None  # the catalog's sample events it matches, by label (None: not checked)
    expression: str = ""  # a schedule expression
    timezone: str = "UTC"  # the expression's time zone
    runs: list[datetime] = field(default_factory=list)  # the next runs, aware, in `timezone`
    runs_note: str = ""  # why there is no run to list (disabled, nothing ahead)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # each target in the API's shape, by Id
    no_input: str = "None"  # what a target without any input setting receives, in words
    tags: dict[str, str] | None = None  # None: the kind has no tags
    settings: dict[str, Any] = field(default_factory=dict)  # everything else, by the API's field names

    @property
    def expression_words(self) -> str:
        return expression_in_words(self.expression)

    def marked_words(self, other: ReviewParts | None, mark: str) -> list[list[tuple[str, str]]]:
        """The sentences in words, each with `mark` when `other` (the other side of an edit) lacks it."""
        theirs = {sentence for branch in other.pattern_words for sentence in branch} if other else None
        return [[(sentence, mark if theirs is not None and sentence not in theirs else "") for sentence in branch]
                for branch in self.pattern_words]

    @property
    def pattern_text(self) -> str:
        return "" if self.pattern is None else pretty(self.pattern)


@dataclass
class Line:
    """One line of a JSON document in a line-by-line difference."""

    sign: str  # "+" added, "-" removed, " " the same on both sides
    text: str

    @property
    def word(self) -> str:
        return {"+": "added", "-": "removed"}.get(self.sign, "")


@dataclass
class FieldRow:
    """One field before and after (None: not there on that side); the values are whole texts."""

    label: str
    before: str | None
    after: str | None

    @property
    def status(self) -> str:
        if self.before is None and self.after is not None:
            return "added"
        if self.after is None and self.before is not None:
            return "removed"
        return "changed" if self.before != self.after else ""


@dataclass
class TargetRow:
    """One target: added, removed, changed (its fields say which) or unchanged."""

    id: str
    status: str
    fields: list[FieldRow]

    @property
    def changed(self) -> bool:
        return self.status == "changed"


@dataclass
class SampleRow:
    label: str
    before: bool
    after: bool

    @property
    def words(self) -> str:
        if self.before and self.after:
            return "matches, as before"
        return "newly matches" if self.after else "no longer matches"


@dataclass
class ReviewDifference:
    """The whole difference, ready for templates/changes/_review_difference.html."""

    mode: str  # "create", "edit" or "delete": which sides there are ("none": neither)
    before: ReviewParts | None
    after: ReviewParts | None
    pattern_lines: list[Line]
    samples: list[SampleRow]
    targets: list[TargetRow]
    tags: list[FieldRow] | None
    settings: list[FieldRow]

    @property
    def is_edit(self) -> bool:
        return self.mode == "edit"

    @property
    def sides(self) -> list[ReviewParts]:
        return [parts for parts in (self.before, self.after) if parts is not None]

    @property
    def columns(self) -> list[tuple[str, ReviewParts]]:
        """(heading, parts) for each side there is: Before and After for an edit."""
        if self.mode == "edit":
            return [("Before", self.before), ("After", self.after)]
        if self.mode == "create":
            return [("Proposed", self.after)]
        return [("Now (deleted by this change)", self.before)] if self.before else []

    @property
    def pattern_word_columns(self) -> list[tuple[str, ReviewParts, list[list[tuple[str, str]]]]]:
        """(heading, parts, sentences with their mark): in an edit, a sentence only one side has is
        marked "removed" (before) or "added" (after)."""
        if self.mode == "edit":
            return [("Before", self.before, self.before.marked_words(self.after, "removed")),
                    ("After", self.after, self.after.marked_words(self.before, "added"))]
        return [(label, parts, parts.marked_words(None, "")) for label, parts in self.columns]

    @property
    def has_pattern(self) -> bool:
        return any(parts.pattern is not None for parts in self.sides)

    @property
    def samples_checked(self) -> bool:
        """Every side with a pattern had its samples checked (an invalid pattern's cannot be)."""
        return all(parts.samples is not None for parts in self.sides if parts.pattern is not None)

    @property
    def pattern_changed(self) -> bool:
        return any(line.sign != " " for line in self.pattern_lines)

    @property
    def has_schedule(self) -> bool:
        return any(parts.expression for parts in self.sides)

    @property
    def schedule_changed(self) -> bool:
        if self.before is None or self.after is None:
            return False
        return (self.before.expression, self.before.timezone, self.before.runs) != (
            self.after.expression, self.after.timezone, self.after.runs)


# ---------------------------------------------------------------------------------------------
# Pieces the kinds use
# ---------------------------------------------------------------------------------------------
def expression_in_words(expression: str) -> str:
    """The expression in plain English; "" when there is none or it is not valid."""
    if not expression:
        return ""
    try:
        return expressions.describe(expression)
    except expressions.ExpressionError:
        return ""


def keyed(items: Any, key: str) -> dict[str, dict[str, Any]]:
    """The objects of a list by their `key` ("Id", "Key"); a key seen again (a draft not yet valid)
    gets "(again)" so that no item is hidden; anything that is not a list of objects: {}."""
    found: dict[str, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            name = str(item.get(key, ""))
            while name in found:
                name += " (again)"
            found[name] = item
    return found


def pretty(value: Any) -> str:
    """Indented JSON (a text holding JSON is parsed first); other text as it is."""
    if isinstance(value, str):
        try:
            value = safejson.loads(value)
        except safejson.InvalidJSON:
            return value
        if isinstance(value, str):
            return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------
def json_lines(before: Any, after: Any) -> list[Line]:
    """Both documents as pretty JSON, line by line: removed lines, then added ones, where they differ."""
    old = pretty(before).splitlines() if before is not None else []
    new = pretty(after).splitlines() if after is not None else []
    lines: list[Line] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [Line(" ", text) for text in old[i1:i2]]
            continue
        lines += [Line("-", text) for text in old[i1:i2]]
        lines += [Line("+", text) for text in new[j1:j2]]
    return lines


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
        return f"{seconds} seconds"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((hours, "hour"), (minutes, "minute"),
                                                                   (secs, "second")) if n]
    return " ".join(parts) or "0 seconds"


def retry_words(policy: Any) -> str:
    """A target's retry policy in words (the same default for rules and schedules)."""
    if not isinstance(policy, dict) or not policy:
        return "Not set: AWS retries for up to 24 hours, at most 185 times"
    attempts, age = policy.get("MaximumRetryAttempts"), policy.get("MaximumEventAgeInSeconds")
    if attempts == 0:
        return "Off (no retries)"
    parts = []
    if attempts is not None:
        parts.append(f"at most {attempts} retries")
    if age is not None:
        parts.append(f"for up to {_duration(age)} ({age} s)")
    return ", ".join(parts) or pretty(policy)


TARGET_FIELDS_NAMED = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "RoleArn", "RetryPolicy",
                       "DeadLetterConfig")


def target_fields(target: dict[str, Any], *, no_input: str) -> dict[str, str]:
    """A target's fields in words, in the order a reviewer checks them: ARN, input, role, retry, DLQ,
    then any service parameters (ECS, SQS, HTTP …) as JSON."""
    fields = {"ARN": str(target.get("Arn") or "—")}
    transformer = target.get("InputTransformer")
    if isinstance(transformer, dict):
        fields["Input"] = "Input transformer"
        fields["Input paths"] = pretty(transformer.get("InputPathsMap") or {})
        fields["Input template"] = str(transformer.get("InputTemplate") or "")
    elif target.get("InputPath"):
        fields["Input"] = f"Part of the event: {target['InputPath']}"
    elif target.get("Input") not in (None, ""):
        fields["Input"] = pretty(target["Input"])
    else:
        fields["Input"] = no_input
    fields["Role"] = str(target.get("RoleArn") or "None")
    fields["Retry policy"] = retry_words(target.get("RetryPolicy"))
    dead_letter = target.get("DeadLetterConfig")
    fields["Dead-letter queue"] = str((dead_letter or {}).get("Arn") or "None") if isinstance(dead_letter, dict) \
        else "None"
    for key in sorted(k for k in target if k not in TARGET_FIELDS_NAMED):
        fields[key] = pretty(target[key])
    return fields


def _rows(before: dict[str, str] | None, after: dict[str, str] | None) -> list[FieldRow]:
    before, after = before or {}, after or {}
    labels = list(before) + [label for label in after if label not in before]
    return [FieldRow(label, before.get(label), after.get(label)) for label in labels]


def target_rows(before: ReviewParts | None, after: ReviewParts | None) -> list[TargetRow]:
    old = before.targets if before else {}
    new = after.targets if after else {}
    rows = []
    for target_id in list(new) + [i for i in old if i not in new]:
        fields = _rows(target_fields(old[target_id], no_input=before.no_input) if target_id in old else None,
                       target_fields(new[target_id], no_input=after.no_input) if target_id in new else None)
        if target_id not in old:
            status = "added"
        elif target_id not in new:
            status = "removed"
        else:
            status = "changed" if any(row.status for row in fields) else "unchanged"
        rows.append(TargetRow(target_id, status, fields))
    return rows


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested objects as dotted field names; every other value as whole text (lists as JSON)."""
    if isinstance(value, dict) and value:
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)}


def sample_rows(before: ReviewParts | None, after: ReviewParts | None) -> list[SampleRow]:
    old = set(before.samples or []) if before else set()
    new = set(after.samples or []) if after else set()
    order = ((after.samples or []) if after else []) + ((before.samples or []) if before else [])
    return [SampleRow(label, label in old, label in new) for label in dict.fromkeys(order)]


def compare(before: ReviewParts | None, after: ReviewParts | None) -> ReviewDifference:
    """The difference between two specs' parts (either may be None: a create, a delete)."""
    mode = ("none" if after is None else "create") if before is None else "delete" if after is None else "edit"
    has_tags = any(parts.tags is not None for parts in (before, after) if parts is not None)
    return ReviewDifference(
        mode=mode, before=before, after=after,
        pattern_lines=json_lines(before.pattern if before else None, after.pattern if after else None),
        samples=sample_rows(before, after), targets=target_rows(before, after),
        tags=_rows(before.tags if before else None, after.tags if after else None) if has_tags else None,
        settings=_rows(_flatten(before.settings) if before and before.settings else None,
                       _flatten(after.settings) if after and after.settings else None))


# ---------------------------------------------------------------------------------------------
# A change request's difference
# ---------------------------------------------------------------------------------------------
def _canonical(handler, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The spec with AWS's defaults filled in, so a default left out is no difference; as typed when a
    draft's spec is too broken for that (the page still shows it)."""
    if spec is None:
        return None
    try:
        return handler.canonical(spec)
    except (TypeError, ValueError, AttributeError, KeyError):
        return spec


def review_difference(change, *, now: datetime) -> ReviewDifference | None:
    """What `change` changes, from the spec it started from to the one it proposes; None for a batch
    change (its objects are its items) or a kind without `review_parts`."""
    handler = kinds.handler_for(change.kind)
    review_parts = getattr(handler, "review_parts", None)
    if review_parts is None or change.action in ITEM_ACTIONS:
        return None
    before = _canonical(handler, change.base_spec) if change.base_spec else None
    after = None if change.action == ChangeAction.DELETE else _canonical(handler, change.spec or {})
    return compare(review_parts(before, now=now) if before is not None else None,
                   review_parts(after, now=now) if after is not None else None)
