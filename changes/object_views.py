"""The pages every managed kind has, netbox-style: list, create, detail (Overview | History), delete.

A kind's views subclass these with its own mixin naming its registered kind (changes.kinds: model,
URL namespace, first step of its flow) and view permission, and fill the blocks of the generic templates
(templates/generic/object_list.html, object_detail.html, object_confirm_delete.html):

    class RulePages(KindPagesMixin):
        kind, view_permission = "rule", "rules.view_rule"

    class RuleListView(RulePages, ManagedObjectListView):
        table_class, filterset_class = RuleTable, RuleFilterSet

URL names follow one pattern: `<app>:<model>_list`, `_add`, `_detail`, `_delete`, `_action`, and
`<app>:draft_step`, `<app>:draft_discard`.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Q
from django.shortcuts import redirect
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from accounts.permissions import SUBMIT, restrict, user_can
from core.params import int_param
from core.tables import CheckedPaginationMixin, status_badge

from . import kinds
from .choices import BATCH_ACTIONS, ChangeAction, ChangeState, OPEN_STATES
from .models import ChangeRequest
from .selectors import drafts_of, environment_default, environments_for_new_changes, object_history
from .services import change_request_draft_create
from .views import environment_for_new_draft, object_readable, unmanaged_refused

__all__ = ["KindPagesMixin", "ManagedObjectListView", "ManagedObjectCreateView", "ManagedObjectDetailView",
           "ManagedObjectDeleteView", "HISTORY_SIZE"]

HISTORY_SIZE = 50  # events on the History tab; the audit's object history page has them all
TABS = ("overview", "monitoring", "history")


class KindPagesMixin:
    """What a kind's pages name once: its kind (model, URL namespace and first step come from the kind
    registry, changes.kinds) and its view permission."""

    kind = ""  # the registered kind's name: ChangeRequest.kind, and the audit object type
    view_permission = ""

    @property
    def registered(self) -> kinds.Kind:
        return kinds.get(self.kind)

    @property
    def model(self):
        return self.registered.model_class

    @property
    def app(self) -> str:  # URL namespace
        return self.registered.url_namespace

    @property
    def first_step(self) -> str:  # the first step of the create / edit flow
        return self.registered.first_step

    @property
    def list_url(self) -> str:  # where changes.views.DraftDiscardView returns to
        return self.url_names()["list"]

    def url_names(self) -> dict[str, str]:
        prefix = f"{self.app}:{self.model._meta.model_name}"
        return {**{name: f"{prefix}_{name}" for name in ("list", "add", "detail", "delete", "action", "batch")},
                "draft_step": f"{self.app}:draft_step", "draft_discard": f"{self.app}:draft_discard"}

    def objects(self):
        """The kind's objects as its pages read them (its list selector)."""
        return self.model.objects.select_related("environment")

    def get_context_data(self, **kwargs):
        meta = self.model._meta
        return super().get_context_data(kind=self.kind, kind_label=meta.verbose_name,
                                         kind_plural=meta.verbose_name_plural, urls=self.url_names(),
                                         first_step=self.first_step, **kwargs)


class ManagedObjectListView(KindPagesMixin, PermissionRequiredMixin, CheckedPaginationMixin, SingleTableMixin,
                            FilterView):
    """The list: filter form, table (its own htmx partial), the user's drafts and the Create button."""

    raise_exception = True
    template_name = "generic/object_list.html"
    per_page = 50  # the table paginates (a second paginator on the view would count the rows twice)
    filter_fields: tuple[str, ...] = ()  # the filters shown beside the search box, in the filterset's order
    search_placeholder = "Search name or description"

    def get_permission_required(self):
        return (self.view_permission,)

    def get_queryset(self):
        return restrict(self.objects(), self.request.user, self.view_permission)

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["generic/object_list.html#table"]
        return [self.template_name]

    def drafts(self):
        return drafts_of(self.request.user, self.kind)

    def get_context_data(self, **kwargs):
        # Create offers only the environments where this user may submit, starting at the default one.
        environments = environments_for_new_changes(self.request.user)
        default = environment_default(self.request.user)
        return super().get_context_data(drafts=self.drafts(), environments=environments,
                                        default_environment_id=default.pk if default else None,
                                        filter_fields=self.filter_fields, search_placeholder=self.search_placeholder,
                                        table_id=f"{self.model._meta.model_name}-table", **kwargs)


class ManagedObjectCreateView(KindPagesMixin, PermissionRequiredMixin, View):
    """POST: start a new draft ("Create rule", "Create schedule") and open the first step of its flow."""

    permission_required = SUBMIT
    raise_exception = True

    def post(self, request):
        environment = environment_for_new_draft(request)
        if environment is None:
            messages.error(request, "Add an environment first (Environments page).")
            return redirect(self.url_names()["list"])
        draft = change_request_draft_create(kind=self.kind, action=ChangeAction.CREATE, environment=environment,
                                            author=request.user, spec={})
        return redirect(self.url_names()["draft_step"], draft.pk, self.first_step)


ON_ITS_WAY = (ChangeState.APPROVED, ChangeState.APPLYING)  # approved, a worker applies it now


def disabled_in_aws(obj) -> bool:
    """The last poll found the object disabled in AWS while its desired spec has it enabled (a drift entry
    on its State, whatever the kind nests it under), so re-applying the desired spec enables it."""
    for entry in obj.drift or []:
        if not isinstance(entry, dict) or str(entry.get("path", "")).split(".")[-1] != "State":
            continue
        desired, live = str(entry.get("old") or ""), str(entry.get("new") or "")
        if desired.startswith("ENABLED") and live == "DISABLED":
            return True
    return False


class ManagedObjectDetailView(KindPagesMixin, PermissionRequiredMixin, DetailView):
    """One object: header (name, sync badge, actions), open changes, tabs Overview | Monitoring | History.

    The kind's template fills the Overview (`overview_context` gives it what it needs); the History
    tab is the same for every kind: the newest events about the object and its change requests.
    `?tab=history` opens the page on it.
    """

    raise_exception = True
    template_name = "generic/object_detail.html"

    def get_permission_required(self):
        return (self.view_permission,)

    def get_queryset(self):
        return self.objects()

    def get_object(self, queryset=None):
        return object_readable(self.request.user, super().get_object(queryset), self.view_permission)

    def overview_context(self, obj) -> dict[str, Any]:
        return {}

    def progress_of(self, obj, pending):
        """The change whose apply the page follows: the one named by `?change=` (where a person lands after
        submitting, so they also see how it ended), else an open one on its way to AWS; None for neither."""
        wanted = int_param(self.request.GET.get("change", ""))
        if wanted is not None:
            named = self.changes_of(obj).filter(pk=wanted).first()
            if named is not None:
                return named
        return next((c for c in pending if c.state in ON_ITS_WAY), None)

    def changes_of(self, obj):
        """The change requests about `obj`: its own, and the batch changes (adopt, release, re-apply desired,
        accept what AWS has) that hold an item for it; the items of other actions are not objects (a redrive's
        are messages). Filter it by state or primary key before reading: the items are found through each change
        (their unique (change, object) index)."""
        return ChangeRequest.objects.filter(
            Q(**{self.registered.change_field: obj})
            | Q(kind=self.kind, action__in=BATCH_ACTIONS, items__object_id=obj.pk)).distinct()

    def history(self, obj):
        return object_history(self.kind, obj.pk).order_by("-id")[:HISTORY_SIZE]

    def get_context_data(self, **kwargs):
        obj = self.object
        tab = self.request.GET.get("tab")
        # An object nobody manages is read-only: its page shows what AWS has (the live spec) where a managed
        # one shows the desired spec, and offers no Edit / Enable / Disable / Clone / Delete.
        spec = obj.desired_spec if obj.is_managed else obj.live_spec
        pending = list(self.changes_of(obj).filter(state__in=OPEN_STATES).select_related("author").order_by("-id"))
        return super().get_context_data(
            spec=spec or {}, live=obj.live_spec, status=status_badge(obj), read_only=not obj.is_managed,
            pending=pending, progress=self.progress_of(obj, pending),
            disabled_in_aws=disabled_in_aws(obj),
            history=self.history(obj), tab=tab if tab in TABS else TABS[0],
            can_submit=user_can(self.request.user, SUBMIT, obj.environment_id), **self.overview_context(obj),
            **kwargs)


class ManagedObjectDeleteView(KindPagesMixin, PermissionRequiredMixin, DetailView):
    """GET: confirm what Delete removes (the kind's template says what). POST: open the delete change."""

    permission_required = SUBMIT
    raise_exception = True
    action_view: type[View] | None = None  # the kind's ObjectActionView

    def get_queryset(self):
        return self.model.objects.select_related("environment")

    def get_object(self, queryset=None):
        return object_readable(self.request.user, super().get_object(queryset), SUBMIT)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        refused = unmanaged_refused(request, self.object)
        if refused is not None:
            return refused
        return self.render_to_response(self.get_context_data(object=self.object))

    def post(self, request, pk):
        return self.action_view.as_view()(request, pk=pk, action="delete")
