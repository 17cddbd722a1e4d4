"""Which environments must approve a change, and how far each one is.

A change needs its own environment's approvals. When its spec names an AWS resource (an ARN) whose
account and Region are another managed environment's, the change reaches into that environment
too, and needs that environment's approvals as well, from people who hold the reviewer role
there. A Sandbox rule forwarding every event to the Production bus
(arn:aws:events:eu-west-1:123456789012:event-bus/default) needs a Production reviewer.

What counts as reaching:
- every ARN in the spec (targets, dead-letter queues, an event bus given by ARN, ARNs inside a
  target's input), except the event pattern (which only describes events) and tags;
- an ARN must carry both a Region and an account: IAM roles and S3 buckets (no Region), and
  EventBridge Scheduler's universal targets (arn:aws:scheduler:::aws-sdk:…, no Region and no
  account: the call is made in the schedule's own account and Region) reach no other environment
  by themselves; ARNs named in their input still count;
- an environment without an account ID cannot be recognised, so nothing reaches it.

Nothing here talks to AWS or writes anything: callers (changes.services, the change page) decide.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from accounts.permissions import REVIEW, user_can

from .choices import ReviewDecision

ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):[^\s\"',]+")
IGNORED_KEYS = {"EventPattern", "Tags"}


@dataclass
class Requirement:
    environment: object
    needed: int
    reason: str  # "" for the change's own environment
    arns: list[str] = field(default_factory=list)
    approved_by: list = field(default_factory=list)

    @property
    def met(self) -> bool:
        return len(self.approved_by) >= self.needed

    @property
    def count(self) -> int:
        return len(self.approved_by)


def _strings(value):
    """Every string in a JSON-like value, except under IGNORED_KEYS (iterative: any depth is fine)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(v for k, v in reversed(list(item.items())) if k not in IGNORED_KEYS)
        elif isinstance(item, list):
            stack.extend(reversed(item))


def spec_arns(spec) -> list[tuple[str, str, str]]:
    """[(arn, region, account)] named in `spec`, in order, without repeats."""
    found: dict[str, tuple[str, str, str]] = {}
    for text in _strings(spec or {}):
        for match in ARN.finditer(text):
            found.setdefault(match.group(0), (match.group(0), match.group(1), match.group(2)))
    return list(found.values())


def reached_environments(change, environments=None) -> list[tuple[object, list[str]]]:
    """[(environment, [arns])]: the other managed environments the change's spec reaches.

    `environments` (every environment, loaded once) saves a query per change in a loop.
    """
    from environments.models import Environment

    arns = spec_arns(change.spec)
    if not arns:
        return []
    places = {(region, account) for _, region, account in arns}
    if environments is None:
        environments = Environment.objects.exclude(account_id="").order_by("name")
    reached = []
    for environment in environments:
        if environment.pk == change.environment_id or not environment.account_id:
            continue
        if (environment.region, environment.account_id) in places:
            reached.append((environment, [arn for arn, region, account in arns
                                          if (region, account) == (environment.region, environment.account_id)]))
    return reached


def own_needed(environment) -> int:
    return environment.approvals_required


def requirements(change, *, reviews=None) -> list[Requirement]:
    """One row per environment that must approve: the change's own first, then those it reaches.

    An approval counts for every environment where its reviewer holds the reviewer role (never the
    author's). `reviews` may be given (already loaded); else they are read.
    """
    own = change.environment
    rows = [Requirement(own, own_needed(own), "")]
    for environment, arns in reached_environments(change):
        rows.append(Requirement(environment, environment.approvals_required,
                                f"targets reach {environment.name} ({environment.region}, {environment.account_id})",
                                arns=arns))
    if reviews is None:
        reviews = change.reviews.select_related("reviewer")
    approvers = [r.reviewer for r in reviews if r.decision == ReviewDecision.APPROVE and r.reviewer_id != change.author_id]
    for row in rows:
        row.approved_by = [user for user in approvers if user_can(user, REVIEW, row.environment)]
    return rows


def needs_review(rows: list[Requirement]) -> bool:
    return any(row.needed > 0 for row in rows)


def all_met(rows: list[Requirement]) -> bool:
    return all(row.met for row in rows)


def may_approve(user, rows: list[Requirement]) -> bool:
    """A reviewer in at least one environment whose approval is needed."""
    return any(row.needed > 0 and user_can(user, REVIEW, row.environment) for row in rows)


def may_reject(user, rows: list[Requirement]) -> bool:
    return any(user_can(user, REVIEW, row.environment) for row in rows)


def summary(rows: list[Requirement]) -> str:
    """'Sandbox 1 of 1, Production 0 of 1'."""
    return ", ".join(f"{row.environment.name} {min(row.count, row.needed)} of {row.needed}"
                     for row in rows if row.needed > 0)


def progress_words(rows: list[Requirement]) -> str:
    """How far the approvals are, as a person writes it: "1 of 2 approvals"; with several environments to
    approve, each named ("Sandbox 1 of 1 approval, Production 0 of 2 approvals"); "Sandbox needs no approval"
    when none is needed (never "0 of 0")."""
    needing = [row for row in rows if row.needed > 0]
    if not needing:
        return f"{rows[0].environment.name} needs no approval" if rows else "no approval needed"

    def words(row: Requirement) -> str:
        return f"{min(row.count, row.needed)} of {row.needed} approval{'s' if row.needed != 1 else ''}"

    if len(needing) == 1 and not needing[0].reason:
        return words(needing[0])
    return ", ".join(f"{row.environment.name} {words(row)}" for row in needing)


def explain(row: Requirement) -> str:
    """'targets reach Production (eu-west-1, 123456789012): 1 approval from a Production reviewer needed'."""
    needed = f"{row.needed} approval{'s' if row.needed != 1 else ''} from a {row.environment.name} reviewer needed"
    if row.needed == 0:
        needed = f"{row.environment.name} needs no approval"
    return f"{row.reason}: {needed}" if row.reason else needed


def reached_environment_ids(change, environments=None) -> set[int]:
    return {environment.pk for environment, _ in reached_environments(change, environments)}



def may_view(user, change) -> bool:
    """Anyone who may read the change's environment, and the reviewers of an environment it reaches."""
    from accounts.permissions import user_can as can

    if can(user, "changes.view_changerequest", change.environment_id):
        return True
    return any(can(user, REVIEW, environment) for environment, _ in reached_environments(change))


def visible_changes(queryset, user):
    """`queryset` limited to the changes `user` may see (at most two queries, whatever the number of rows).

    Besides the changes of the environments they may read, reviewers see the submitted changes of
    other environments that reach one where they review.
    """
    from django.db.models import Q

    from accounts.permissions import ALL, environments_where

    from .choices import ChangeState
    from .models import ChangeRequest

    readable = environments_where(user, "changes.view_changerequest")
    if readable is ALL:
        return queryset
    reviewing = environments_where(user, REVIEW)
    extra = []
    if reviewing:
        waiting = (ChangeRequest.objects.filter(state=ChangeState.SUBMITTED).exclude(environment_id__in=sorted(readable))
                   .only("id", "spec", "environment_id"))
        from environments.models import Environment

        everywhere = list(Environment.objects.exclude(account_id=""))
        extra = [c.pk for c in waiting if reached_environment_ids(c, everywhere) & set(reviewing)]
    return queryset.filter(Q(environment_id__in=sorted(readable)) | Q(pk__in=extra))


def waiting_for_review(queryset, user):
    """`queryset` limited to the submitted changes `user` could approve now: not their own, not yet reviewed
    by them, in an environment where they review or reaching one (two queries at most, whatever the rows)."""
    from django.db.models import Q

    from accounts.permissions import ALL, environments_where

    from .choices import ChangeState
    from .models import ChangeRequest

    waiting = (queryset.filter(state=ChangeState.SUBMITTED).exclude(author=user)
               .exclude(reviews__reviewer=user))
    reviewing = environments_where(user, REVIEW)
    if reviewing is ALL:
        return waiting
    if not reviewing:
        return waiting.none()
    from environments.models import Environment

    everywhere = list(Environment.objects.exclude(account_id=""))
    elsewhere = (ChangeRequest.objects.filter(state=ChangeState.SUBMITTED).exclude(environment_id__in=sorted(reviewing))
                 .only("id", "spec", "environment_id"))
    reaching = [c.pk for c in elsewhere if reached_environment_ids(c, everywhere) & set(reviewing)]
    return waiting.filter(Q(environment_id__in=sorted(reviewing)) | Q(pk__in=reaching))
