"""Audit pages: the global list, one event, one object's history; CSV / JSON Lines export of a list.

Thin views: parse the query string, call a selector, render. Lists are keyset pages (Newer/Older,
`?before=<id>` / `?after=<id>`); `?format=csv` or `?format=jsonl` on a list URL streams the whole
filtered set instead (every page, not just the one shown).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView

from accounts.permissions import ALL, environments_where, restrict, user_can

from . import selectors
from .choices import AuditAction as A, ObjectType
from .export import FORMATS, export_response
from .filtersets import AuditEventFilterSet
from .links import has_object_page
from .selectors import (
    EventPage, audit_chain_neighbours, audit_event_detail, audit_event_list, audit_event_page, audit_object_link,
    audit_object_timeline,
)
from .services import audit_event_hash_matches

VIEW = "audit.view_auditevent"
MAX_ID = 2**63 - 1

ACTION_COLORS = {
    A.DRAFT_SAVED: "light", A.DRAFT_DISCARDED: "light", A.SUBMITTED: "primary", A.APPROVED: "success",
    A.REJECTED: "danger", A.WITHDRAWN: "secondary", A.STALE: "warning", A.APPLY_STARTED: "info",
    A.API_CALL: "info", A.APPLIED: "success", A.APPLY_FAILED: "danger", A.COMMENTED: "light",
    A.DRIFT_DETECTED: "warning", A.DRIFT_CLEARED: "success", A.SIGNED_IN: "secondary",
    A.SIGN_IN_FAILED: "danger", A.SIGNED_OUT: "secondary", A.USER_CHANGED: "dark", A.GROUP_CHANGED: "dark",
    A.ENVIRONMENT_CHANGED: "dark",
}


def _readable(queryset, user):
    """Events of the environments `user` may read; events about no environment (users, sign-ins) only for
    those who read every environment. (environment_id is indexed with id, so pages stay keyset pages.)"""
    return restrict(queryset, user, VIEW, field="environment_id")


def _cursor(request) -> tuple[int | None, int | None, list[str]]:
    """?before=<id> or ?after=<id> (event numbers). A bad value is ignored, with words saying so."""
    values, problems = {}, []
    for name in ("before", "after"):
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        if _is_number(raw) and 0 < int(raw) <= MAX_ID:
            values[name] = int(raw)
        else:
            problems.append(f"“{name}={raw[:40]}” is not an event number; showing the newest events.")
    if "before" in values and "after" in values:
        problems.append("Use either before or after, not both; showing the events before the given one.")
        values.pop("after")
    return values.get("before"), values.get("after"), problems


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _filter_errors(filterset) -> list[str]:
    """Invalid filter values in words ("From: Enter a valid date."); the filter is left out."""
    fields = filterset.form.fields
    return [f"{fields[name].label if name in fields else 'Filters'}: {error}"
            for name, errors in filterset.form.errors.items() for error in errors]


def _format(request) -> str | None:
    return request.GET.get("format") or None


def _bad_format(fmt: str):
    return HttpResponseBadRequest(f"Unknown export format “{fmt[:20]}”: use format=csv or format=jsonl.",
                                  content_type="text/plain; charset=utf-8")


def _with_links(request, page: EventPage) -> EventPage:
    """The Newer/Older links keep the filters and replace the cursor."""
    params = request.GET.copy()
    for key in ("before", "after", "format"):
        params.pop(key, None)
    if page.newer is not None:
        newer = params.copy()
        newer["after"] = page.newer
        page.newer_url = f"?{newer.urlencode()}"
    if page.older is not None:
        older = params.copy()
        older["before"] = page.older
        page.older_url = f"?{older.urlencode()}"
    _decorate(page.events)
    return page


def _url_pattern(name: str, arguments: int) -> str:
    """A URL with `{}` where its arguments go: one reverse() per page instead of three per row."""
    marks = [f"9{i}9{i}9{i}9" for i in range(arguments)]
    url = reverse(name, args=marks)
    for mark in marks:
        url = url.replace(mark, "{}")
    return url


def _decorate(events) -> None:
    """Colour and links for each row, computed once per page."""
    detail = _url_pattern("audit:event_detail", 1)
    history = _url_pattern("audit:object_history", 2)
    change = _url_pattern("changes:change_detail", 1)
    for event in events:
        event.color = ACTION_COLORS.get(event.action, "secondary")
        event.url = detail.format(event.pk)
        event.history_url = history.format(event.object_type, event.object_id) if _is_number(event.object_id) else ""
        has_change = event.related_type == ObjectType.CHANGE and _is_number(event.related_id)
        event.change_history_url = history.format(ObjectType.CHANGE, event.related_id) if has_change else ""
        event.change_url = change.format(event.related_id) if has_change else ""


def _export_links(request) -> dict[str, str]:
    params = request.GET.copy()
    for key in ("before", "after", "format"):
        params.pop(key, None)
    links = {}
    for fmt in FORMATS:
        params["format"] = fmt
        links[fmt] = f"?{params.urlencode()}"
    return links


def _newest_url(request) -> str:
    params = request.GET.copy()
    for key in ("before", "after", "format"):
        params.pop(key, None)
    return f"?{params.urlencode()}" if params else request.path


class AuditEventListView(PermissionRequiredMixin, View):
    """Every event, newest first, filtered; keyset pages; `?format=csv|jsonl` exports the filtered set."""

    permission_required = VIEW
    raise_exception = True
    template_name = "audit/event_list.html"

    def get(self, request):
        filterset = AuditEventFilterSet(request.GET or None, queryset=_readable(audit_event_list(), request.user))
        limited = environments_where(request.user, VIEW) is not ALL
        queryset = filterset.qs
        errors = _filter_errors(filterset)
        fmt = _format(request)
        if fmt is not None:
            if fmt not in FORMATS:
                return _bad_format(fmt)
            if errors:
                return HttpResponseBadRequest("Nothing exported. " + " ".join(errors),
                                              content_type="text/plain; charset=utf-8")
            parts = [f"{k}-{v}" for k, v in filterset.active.items() if k in ("action", "object_type", "actor",
                                                                                "date_from", "date_to")]
            return export_response(queryset, fmt=fmt, stem="audit-events", parts=parts)
        before, after, problems = _cursor(request)
        for problem in [f"Ignored {error}" for error in errors] + problems:
            messages.warning(request, problem)
        page = audit_event_page(queryset, before=before, after=after, size=selectors.PAGE_SIZE,
                                window=selectors.SCAN_WINDOW if filterset.needs_window or limited else None,
                                id_lo=filterset.id_lo, id_hi=filterset.id_hi)
        context = {"filter": filterset, "page": _with_links(request, page), "exports": _export_links(request),
                   "newest_url": _newest_url(request), "filtered": bool(filterset.active)}
        template = self.template_name
        if request.htmx and not request.htmx.boosted:
            template = f"{self.template_name}#results"
        return render(request, template, context)


class AuditEventDetailView(PermissionRequiredMixin, DetailView):
    """One event: who, when, from where, what, the difference, the data, and its place in the chain."""

    permission_required = VIEW
    raise_exception = True
    template_name = "audit/event_detail.html"
    context_object_name = "event"

    def get_queryset(self):
        return audit_event_detail()

    def get_object(self, queryset=None):
        event = super().get_object(queryset)
        if not (environments_where(self.request.user, VIEW) is ALL
                or (event.environment_id is not None and user_can(self.request.user, VIEW, event.environment_id))):
            raise PermissionDenied("This event is about an environment you have no role in.")
        return event

    def get_context_data(self, **kwargs):
        event = self.object
        previous, following = audit_chain_neighbours(event)
        history_type = event.object_type if _is_number(event.object_id) else None
        return super().get_context_data(
            object_url=audit_object_link(event.object_type, event.object_id),
            object_has_page=has_object_page(event.object_type),
            related_url=audit_object_link(event.related_type, event.related_id) if event.related_type else None,
            environment_url=audit_object_link(ObjectType.ENVIRONMENT, event.environment_id or ""),
            history_url=reverse("audit:object_history", args=[history_type, event.object_id]) if history_type else None,
            related_history_url=(reverse("audit:object_history", args=[event.related_type, event.related_id])
                                 if event.related_type and _is_number(event.related_id) else None),
            hash_ok=audit_event_hash_matches(event),
            previous=previous, following=following,
            previous_ok=previous is None or previous.hash == event.prev_hash,
            following_ok=following is None or following.prev_hash == event.hash,
            color=ACTION_COLORS.get(event.action, "secondary"), **kwargs)


class ObjectHistoryView(PermissionRequiredMixin, View):
    """One rule's or schedule's (or any object's) timeline: its events and its change requests' events."""

    permission_required = VIEW
    raise_exception = True
    template_name = "audit/object_history.html"

    def get(self, request, object_type, object_id):
        if object_type not in ObjectType.values or object_id > MAX_ID:
            raise Http404("No such object.")
        queryset = _readable(audit_object_timeline(object_type, object_id), request.user)
        fmt = _format(request)
        if fmt is not None:
            if fmt not in FORMATS:
                return _bad_format(fmt)
            return export_response(queryset, fmt=fmt, stem=f"audit-{object_type}-{object_id}-history")
        before, after, problems = _cursor(request)
        for problem in problems:
            messages.warning(request, problem)
        page = _with_links(request, audit_event_page(queryset, before=before, after=after, size=selectors.PAGE_SIZE))
        name = next((e.object_repr for e in page.events if e.object_repr), "")
        context = {"page": page, "object_type": object_type, "object_type_label": ObjectType(object_type).label,
                   "object_id": object_id, "object_name": name or f"#{object_id}",
                   "object_url": audit_object_link(object_type, str(object_id)),
                   "object_has_page": has_object_page(object_type),
                   "exports": _export_links(request), "newest_url": _newest_url(request)}
        return render(request, self.template_name, context)
