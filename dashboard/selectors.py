"""What needs the signed-in person: the dashboard's lists and counts, each limited to what they may see.

Every list is bounded (the LIST_SIZE oldest or soonest, with a "see all" link to the filtered list) and
every count is one aggregate query, so the number of queries does not grow with the number of objects,
changes or audit events (bench/bench_dashboard.py measures it at 10,000 objects and 1,000,000 events).

Schedules running in the next 24 hours read the stored `next_run` column (kept by apply and poll; see
schedules.selectors.schedules_upcoming): one indexed query for the soonest few, and only those few have
their next run recomputed, when a run passed since the last poll.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Window
from django.urls import reverse

from accounts.permissions import ALL, REVIEW, SUBMIT, environments_where
from changes import approvals, kinds
from changes.choices import ChangeState, PENDING_STATES, SYNC_COLORS, SyncStatus
from changes.models import ChangeRequest
from environments.models import Environment
from schedules.runs import next_run_of, spec_of
from schedules.selectors import schedules_upcoming, schedules_upcoming_count

__all__ = ["LIST_SIZE", "UPCOMING_WINDOW", "Dashboard", "dashboard_for"]

LIST_SIZE = 10
UPCOMING_WINDOW = timedelta(hours=24)
MY_STATES = (ChangeState.DRAFT,) + PENDING_STATES  # my drafts, and my changes waiting, applying or failed
DRIFT_STATES = (SyncStatus.DRIFTED, SyncStatus.MISSING)
VIEW_CHANGES = "changes.view_changerequest"


@dataclass
class Section:
    """A bounded list with the number of rows it stands for and where to see them all."""

    items: list
    total: int
    see_all: str = ""

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class KindCounts:
    label: str  # "Rules"
    total: int
    statuses: list[tuple[str, str, str, int, str]]  # (status, label, colour, count, list URL)


@dataclass
class EnvironmentCounts:
    environment: Environment
    kinds: list[KindCounts] = field(default_factory=list)


@dataclass
class Dashboard:
    environments: list[Environment]
    reviewing: Section | None  # None: this person reviews nowhere
    mine: Section | None  # None: this person submits nowhere
    mine_by_state: dict[str, int]
    failed: Section
    drifted: list[tuple[kinds.Kind, Section]]
    upcoming: Section
    counts: list[EnvironmentCounts]


def _within(queryset, ids, field_name: str = "environment_id"):
    """`queryset` limited to the environments `ids` (ALL: every one)."""
    if ids is ALL:
        return queryset
    return queryset.filter(**{f"{field_name}__in": sorted(ids)})


def _section(queryset, see_all: str) -> Section:
    """The first LIST_SIZE rows, and how many there are, in one query: each row carries the count of them all
    (COUNT(*) OVER (), computed before the LIMIT); no row means none."""
    rows = list(queryset.annotate(section_total=Window(Count("id")))[:LIST_SIZE])
    return Section(rows, rows[0].section_total if rows else 0, see_all)


def _changes():
    """Change requests as the lists show them: their JSON (spec, plan, form inputs) is never read here."""
    return ChangeRequest.objects.select_related("environment", "author").defer("spec", "base_spec", "wizard", "plan")


def _list_url(kind: kinds.Kind) -> str:
    return reverse(f"{kind.url_namespace}:{kind.model_class._meta.model_name}_list")


def _waiting_for_review(user) -> Section | None:
    if not environments_where(user, REVIEW):
        return None
    waiting = approvals.waiting_for_review(_changes(), user).order_by("submitted_at", "id")
    return _section(waiting, reverse("changes:review_list") + "?waiting=true")


def _mine(user) -> tuple[Section | None, dict[str, int]]:
    if not environments_where(user, SUBMIT):
        return None, {}
    # Not joined to the author (it is `user`): the join would lead the database to read every change the person
    # ever made through the author index, where (author, state) finds the few open ones.
    mine = _changes().select_related(None).select_related("environment").filter(author=user, state__in=MY_STATES)
    by_state = dict(mine.order_by().values_list("state").annotate(n=Count("id")))
    items = list(mine.order_by("-last_updated", "-id")[:LIST_SIZE])
    return Section(items, sum(by_state.values()), reverse("changes:review_list") + "?mine=true"), by_state


def _failed(readable) -> Section:
    failed = _within(_changes().filter(state=ChangeState.FAILED), readable).order_by("-last_updated", "-id")
    return _section(failed, reverse("changes:review_list") + "?state=failed")


def _drifted(user) -> list[tuple[kinds.Kind, Section]]:
    found = []
    for kind in kinds.all_kinds():
        visible = environments_where(user, kind.view_permission)
        rows = _within(kind.model_class.objects.filter(sync_status__in=DRIFT_STATES), visible)
        rows = rows.select_related("environment").only("id", "name", "sync_status", "last_polled", "environment__name")
        found.append((kind, _section(rows.order_by("-last_polled", "-id"), _list_url(kind) + "?status=drifted")))
    return found


def _upcoming(user, now: datetime) -> Section:
    """The soonest schedules to run in the next 24 hours, and how many run in them; a next run stored before a
    run passed is recomputed (for the few read only), and dropped if it now falls after the window. The total
    counts the stored runs inside the window (one indexed count) and those recomputed into it."""
    until = now + UPCOMING_WINDOW
    visible = environments_where(user, "schedules.view_schedule")
    environment_ids = None if visible is ALL else visible
    rows = schedules_upcoming(until=until, limit=LIST_SIZE * 2, environment_ids=environment_ids)
    items, recomputed = [], 0
    for schedule in rows:
        moment = schedule.next_run
        if moment is not None and moment <= now:
            moment = next_run_of(spec_of(schedule), now=now, anchor=schedule.last_applied)
            recomputed += moment is not None and now < moment <= until
        if moment is not None and now < moment <= until:
            schedule.upcoming_run = moment
            items.append(schedule)
    items.sort(key=lambda s: s.upcoming_run)
    total = schedules_upcoming_count(after=now, until=until, environment_ids=environment_ids) + recomputed
    return Section(items[:LIST_SIZE], max(total, len(items)), reverse("schedules:upcoming"))


def _counts(user, environments: list[Environment]) -> list[EnvironmentCounts]:
    """Per environment, each kind's objects by sync status: one aggregate query per kind."""
    labels = dict(SyncStatus.choices)
    table = {environment.pk: EnvironmentCounts(environment) for environment in environments}
    for kind in kinds.all_kinds():
        visible = environments_where(user, kind.view_permission)
        grouped: dict[int, dict[str, int]] = {}
        rows = _within(kind.model_class.objects.all(), visible).order_by()
        for env_id, status, n in rows.values_list("environment_id", "sync_status").annotate(n=Count("id")):
            grouped.setdefault(env_id, {})[status] = n
        url = _list_url(kind)
        for env_id, entry in table.items():
            if visible is not ALL and env_id not in visible:
                continue
            by_status = grouped.get(env_id, {})
            statuses = [(status, labels[status], SYNC_COLORS.get(status, "secondary"), by_status[status],
                         f"{url}?environment={env_id}&status={status}&managed=all")
                        for status in labels if by_status.get(status)]
            entry.kinds.append(KindCounts(kind.model_class._meta.verbose_name_plural.capitalize(),
                                          sum(by_status.values()), statuses))
    return list(table.values())


def dashboard_for(user, *, now: datetime) -> Dashboard:
    """Everything the dashboard shows `user`, in a number of queries that does not depend on the data."""
    readable = environments_where(user, VIEW_CHANGES)
    environments = list(_within(Environment.objects.order_by("is_production", "name"),
                                environments_where(user, "environments.view_environment"), "pk"))
    mine, by_state = _mine(user)
    return Dashboard(environments=environments, reviewing=_waiting_for_review(user), mine=mine,
                     mine_by_state=by_state, failed=_failed(readable), drifted=_drifted(user),
                     upcoming=_upcoming(user, now), counts=_counts(user, environments))


def state_words(by_state: dict[str, Any]) -> list[tuple[str, str, int]]:
    """[(state, label, count)] in the states' own order, for "2 drafts, 1 failed"."""
    labels = dict(ChangeState.choices)
    return [(state, labels[state], by_state[state]) for state in MY_STATES if by_state.get(state)]
