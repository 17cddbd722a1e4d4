"""The inventory search page (every environment, every kind, managed or not) and its CSV / JSON Lines exports."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.params import int_param
from core.tables import MAX_PER_PAGE

from .search import EXPORT_COLUMNS, Result, SearchForm, inventory_search, visible_environments

PER_PAGE = 50
EXPORT_BATCH = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs such a cell as a formula


@require_GET
def search(request):
    """GET: the search form and a page of results (the results alone for htmx); `?format=csv|jsonl` exports
    every matching row."""
    user = request.user
    if not visible_environments(user).exists():
        raise PermissionDenied("Your role does not let you see rules or schedules in any environment.")
    form = SearchForm(request.GET or None, user=user)
    valid = form.is_valid() if form.is_bound else True
    params = form.cleaned_data if form.is_bound and valid else {}
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in EXPORTS:
            return HttpResponseBadRequest(f"Unknown export format “{fmt[:20]}”: use format=csv or format=jsonl.",
                                          content_type="text/plain; charset=utf-8")
        if not valid:
            return HttpResponseBadRequest("Fix the search first: " + "; ".join(
                f"{form.fields[name].label if name in form.fields else 'Search'}: {error}"
                for name, errors in form.errors.items() for error in errors), content_type="text/plain; charset=utf-8")
        return export_response(inventory_search(user, params), fmt=fmt)
    page = None
    if valid:
        size = int_param(request.GET.get("per_page", ""))
        size = min(size, MAX_PER_PAGE) if size else PER_PAGE
        paginator = Paginator(inventory_search(user, params), size)
        page = paginator.get_page(request.GET.get("page"))
        page.results = [Result.of(row) for row in page.object_list]
    params_without_page = request.GET.copy()
    for key in ("page", "format"):
        params_without_page.pop(key, None)
    context = {"form": form, "page_obj": page, "is_paginated": bool(page and page.has_other_pages()),
               "query": params_without_page.urlencode()}
    template = "inventory/search.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


class _Echo:
    def write(self, value):
        return value


def _rows(queryset) -> Iterator[list[dict]]:
    batch = []
    for row in queryset.iterator(chunk_size=EXPORT_BATCH):
        batch.append(Result.of(row).as_record())
        if len(batch) == EXPORT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_csv(queryset) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for batch in _rows(queryset):
        yield "".join(writer.writerow([_cell(row[c]) for c in EXPORT_COLUMNS]) for row in batch)


def export_jsonl(queryset) -> Iterator[str]:
    for batch in _rows(queryset):
        yield "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch)


EXPORTS = {"csv": (export_csv, "text/csv; charset=utf-8"), "jsonl": (export_jsonl, "application/jsonl; charset=utf-8")}


def export_response(queryset, *, fmt: str):
    writer, content_type = EXPORTS[fmt]
    response = StreamingHttpResponse(writer(queryset), content_type=content_type)
    name = f"inventory-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
