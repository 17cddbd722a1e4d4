"""Pages of batch changes (changes.batch): the confirmation page of the lists' bulk actions, and what a
batch change's own page shows (counts, the per-object list, the progress bar).

A kind's pages subclass `BatchConfirmView` with its list's filterset and selector:

    class RuleBatchView(RulePages, BatchConfirmView):
        filterset_class = RuleFilterSet

URL: `<app>:<model>_batch` with the action slug (adopt, release, reapply, accept). The selection is
what the list's batch form sends: the checked rows (`pk`, repeated), or with `scope=all` everything
the list's filter shows (the filter's own query string). GET says what will happen (eligible and left
out, per environment; the CloudFormation confirmation when a stack owns any of them); POST creates
one change per environment and opens it.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from accounts.permissions import SUBMIT, restrict, user_can
from core.params import int_param

from . import approvals, kinds
from .batch import SKIP_REASONS, NothingEligible, batch_counts, batch_create, batch_preview, summary
from .choices import BATCH_ACTIONS, ITEM_ACTIONS, ChangeAction, ChangeState, ItemState
from .models import ChangeRequest
from .services import NotAllowed

__all__ = ["BatchConfirmView", "BatchProgressView", "batch_page_context", "ACTION_SLUGS", "SELECTION_MAX"]

ACTION_SLUGS = {action.value: action for action in BATCH_ACTIONS}
ITEMS_PER_PAGE = 100
SELECTION_MAX = 500  # checked rows in one request (a list page shows at most 100)
WHAT = {
    ChangeAction.ADOPT: "EventConsole starts managing them as they are in AWS now: what AWS has becomes the "
                        "desired spec, version 1. No AWS call is made.",
    ChangeAction.RELEASE: "EventConsole stops managing them; AWS is left as it is. Adopt them again to manage "
                          "them later.",
    ChangeAction.REAPPLY: "Each object's desired spec is applied to AWS again (re-created if it is missing), "
                          "with the calls planned below for each.",
    ChangeAction.ACCEPT: "What AWS has becomes each object's desired spec; an object missing in AWS is removed "
                         "from EventConsole. No AWS call is made.",
}
ELIGIBLE = {ChangeAction.ADOPT: "unmanaged objects no AWS service owns",
            ChangeAction.RELEASE: "managed objects",
            ChangeAction.REAPPLY: "managed objects that are drifted or missing in AWS",
            ChangeAction.ACCEPT: "managed objects that are drifted or missing in AWS"}
CARRIED = ("page", "pk", "scope", "sort", "per_page", "confirm_stacks", "csrfmiddlewaretoken")


def carried_params(querydict) -> list[tuple[str, str]]:
    """The list filter's query parameters, to carry through the confirmation page."""
    return [(key, value) for key, values in querydict.lists() if key not in CARRIED for value in values]


class BatchConfirmView(PermissionRequiredMixin, View):
    """GET: what a bulk action would do to the selection; POST: do it (one change per environment)."""

    permission_required = SUBMIT
    raise_exception = True
    filterset_class = None
    template_name = "changes/batch_confirm.html"

    def action_of(self, slug: str) -> str:
        if slug not in ACTION_SLUGS:
            raise Http404("No such bulk action.")
        return ACTION_SLUGS[slug]

    def selection(self, params):
        """The selected objects this user may see, and how they were chosen (for the page)."""
        queryset = restrict(self.objects(), self.request.user, self.view_permission)
        if params.get("scope") == "all":
            filterset = self.filterset_class(params, queryset=queryset, request=self.request)
            return (filterset.qs if filterset.is_valid() else queryset.none()), "all"
        pks = [pk for pk in (int_param(v) for v in params.getlist("pk")[:SELECTION_MAX]) if pk]
        return queryset.filter(pk__in=pks), "checked"

    def groups(self, action: str, params, *, confirmed: bool):
        """Per environment of the selection: (environment, preview, may submit there, its objects)."""
        from environments.models import Environment

        queryset, _ = self.selection(params)
        env_ids = sorted(set(queryset.order_by().values_list("environment_id", flat=True).distinct()))
        rows = []
        for environment in Environment.objects.filter(pk__in=env_ids).order_by("name"):
            objects = queryset.filter(environment=environment)
            preview = batch_preview(kind=self.kind, action=action, environment=environment, objects=objects,
                                    confirmed_stacks=confirmed)
            rows.append((environment, preview, user_can(self.request.user, SUBMIT, environment), objects))
        return rows

    def get(self, request, action):
        action = self.action_of(action)
        params = request.GET
        groups = [row[:3] for row in self.groups(action, params, confirmed=False)]
        _, scope = self.selection(params)
        model = self.model
        stacks = sorted({name for _, preview, _ in groups for name in preview.stacks})
        return render(request, self.template_name, {
            "action": action, "action_label": ChangeAction(action).label, "what": WHAT[action],
            "eligible_means": ELIGIBLE[action], "groups": groups, "scope": scope, "stacks": stacks,
            "pks": params.getlist("pk")[:SELECTION_MAX], "carried": carried_params(params),
            "eligible": sum(len(p.eligible) for _, p, may in groups if may),
            "needs_confirmation": sum(p.needs_confirmation for _, p, may in groups if may),
            "kind": self.kind, "kind_label": model._meta.verbose_name, "kind_plural": model._meta.verbose_name_plural,
            "urls": self.url_names(), "list_query": urlencode(carried_params(params)),
            "skip_reasons": SKIP_REASONS,
        })

    def post(self, request, action):
        action = self.action_of(action)
        params = request.POST
        confirmed = params.get("confirm_stacks") == "1"
        created, problems = [], []
        for environment, preview, may, objects in self.groups(action, params, confirmed=confirmed):
            if not may:
                continue
            try:
                created.append(batch_create(kind=self.kind, action=action, environment=environment,
                                            author=request.user, objects=objects, confirmed_stacks=confirmed))
            except (NothingEligible, NotAllowed, ValueError) as exc:
                problems.append(f"{environment.name}: {exc}")
        for problem in problems:
            messages.error(request, problem)
        if not created:
            if not problems:
                messages.error(request, f"Nothing to {ChangeAction(action).label.lower()} in this selection.")
            back = reverse(self.url_names()["batch"], args=[action])
            query = urlencode([*(("pk", pk) for pk in params.getlist("pk")[:SELECTION_MAX]), *carried_params(params)]
                              + ([("scope", "all")] if params.get("scope") == "all" else []))
            return redirect(f"{back}?{query}" if query else back)
        for change in created:
            waiting = change.state == ChangeState.SUBMITTED
            messages.success(request, f"Change #{change.pk}: {ChangeAction(action).label.lower()} "
                                      f"{change.object_name} in {change.environment.name}: "
                                      + ("waiting for review." if waiting else "sent to the workers."))
        if len(created) == 1:
            return redirect(created[0])
        return redirect(f"{reverse('changes:review_list')}?show=open")


# ---------------------------------------------------------------------------------------------
# A batch change's page (changes.views.ChangeDetailView adds this to its context)
# ---------------------------------------------------------------------------------------------
def _plan_counts(change: ChangeRequest) -> dict[str, int]:
    """Re-apply: how many objects need calls, how many are already as desired (from the plans)."""
    counts = {"calls": 0, "none": 0}
    if change.action != ChangeAction.REAPPLY:
        return counts
    for plan in change.items.values_list("plan", flat=True).iterator(chunk_size=2000):
        counts["calls" if plan else "none"] += 1
    return counts


def progress_context(change: ChangeRequest) -> dict:
    counts = batch_counts(change)
    total = counts["total"] or 1
    return {"change": change, "counts": counts, "summary": summary(counts),
            "percent": int(100 * counts["done"] / total),
            "running": change.state in (ChangeState.APPROVED, ChangeState.APPLYING)}


def batch_page_context(change: ChangeRequest, request) -> dict:
    """Counts, the per-object list (100 a page, optionally one item state) and the progress."""
    state = request.GET.get("items", "")
    items = change.items.order_by("id")
    if state in ItemState.values:
        items = items.filter(state=state)
    page = Paginator(items, ITEMS_PER_PAGE).get_page(int_param(request.GET.get("page"), 1))
    kind = kinds.get(change.kind)
    return {"batch": True, "item_page": page, "item_state": state, "item_states": ItemState.choices,
            "plan_counts": _plan_counts(change), "object_url": f"{kind.url_namespace}:{kind.model_class._meta.model_name}_detail",
            "batch_info": (change.wizard or {}).get("batch", {}), "skip_reasons": SKIP_REASONS,
            **progress_context(change)}


class BatchProgressView(PermissionRequiredMixin, View):
    """GET (htmx, every second while it applies): the progress bar of a batch change. Once it has
    finished, the page is reloaded (HX-Refresh) so that the results show."""

    permission_required = "changes.view_changerequest"
    raise_exception = True

    def get(self, request, pk):
        change = get_object_or_404(ChangeRequest.objects.select_related("environment"), pk=pk)
        if not approvals.may_view(request.user, change) or change.action not in ITEM_ACTIONS:
            raise Http404
        context = progress_context(change)
        response: HttpResponse = render(request, "changes/_batch_progress.html", context)
        if not context["running"] and request.htmx:
            response["HX-Refresh"] = "true"
        return response
