"""Change request pages: the reviews queue, one change's page, and its actions (thin views)."""
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from accounts.permissions import REVIEW, SUBMIT, restrict, user_can
from core.params import int_param
from core.tables import CheckedPaginationMixin
from environments.models import Environment

from . import approvals
from .choices import ITEM_ACTIONS, OPEN_STATES, ChangeAction, ChangeState, ReviewDecision
from . import kinds
from .filtersets import ChangeRequestFilterSet
from .worker import is_stuck, lease_expired, waiting_for_worker
from .forms import CommentForm, ReasonForm
from .kinds import ObjectConflict, SpecInvalid
from .models import ChangeRequest
from .review_difference import review_difference
from .selectors import change_request_list, environment_default
from .tables import ChangeRequestTable
from .services import (
    NotAllowed, change_request_approve, change_request_back_to_draft, change_request_comment,
    change_request_draft_create, change_request_mark_failed, change_request_reject, change_request_restore,
    change_request_retry, change_request_retry_now, change_request_submit, change_request_withdraw,
)
from .states import IllegalTransition


class ReviewListView(PermissionRequiredMixin, CheckedPaginationMixin, SingleTableMixin, FilterView):
    """The reviews queue: filters (open or all, waiting for me, mine, environment, state) and the table, whose
    title column links each change; only the changes this user may see (changes.approvals.visible_changes)."""

    permission_required = "changes.view_changerequest"
    raise_exception = True
    template_name = "changes/review_list.html"
    table_class = ChangeRequestTable
    filterset_class = ChangeRequestFilterSet
    per_page = 50

    def get_queryset(self):
        return approvals.visible_changes(change_request_list(), self.request.user)

    def get_filterset_kwargs(self, filterset_class):
        # Always bound, so the defaults (open changes) apply to a bare /reviews/ too.
        return {**super().get_filterset_kwargs(filterset_class), "data": self.request.GET}

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        filterset.filters["environment"].queryset = restrict(
            Environment.objects.order_by("name"), self.request.user, "changes.view_changerequest", field="pk")
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["changes"] = [row.record for row in context["table"].page.object_list]
        return context


class ChangeDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "changes.view_changerequest"
    raise_exception = True
    template_name = "changes/change_detail.html"
    context_object_name = "change"

    def get_queryset(self):
        objects = [kind.change_field for kind in kinds.all_kinds()]
        return ChangeRequest.objects.select_related("environment", "author", *objects)

    def get_object(self, queryset=None):
        change = super().get_object(queryset)
        if not approvals.may_view(self.request.user, change):
            raise PermissionDenied
        return change

    def get_context_data(self, **kwargs):
        from audit.diff import diff

        change, user = self.object, self.request.user
        reviews = list(change.reviews.select_related("reviewer"))
        reviewers = {r.reviewer_id for r in reviews}
        requirements = approvals.requirements(change, reviews=reviews)
        target = change.target
        live = getattr(target, "live_spec", None)
        proposed = None if change.action == "delete" else change.spec
        open_to_review = change.state == ChangeState.SUBMITTED and user.pk != change.author_id
        can_review = open_to_review and user.pk not in reviewers and approvals.may_approve(user, requirements)
        can_reject = open_to_review and approvals.may_reject(user, requirements)
        may_submit = user_can(user, SUBMIT, change.environment)
        three_way = None
        if change.state == ChangeState.STALE:
            base = change.base_spec or {}
            three_way = {"since": diff(base, {k: v for k, v in (live or {}).items() if k not in ("Arn", "ManagedBy", "Delivery")}),
                         "proposed": diff(base, proposed or {}), "current": getattr(target, "desired_spec", None)}
        if change.action in ITEM_ACTIONS:  # its objects are items: counts, per-object list, progress
            from .batch_views import batch_page_context

            kwargs.update(batch_page_context(change, self.request))
        return super().get_context_data(
            difference=review_difference(change, now=timezone.now()), three_way=three_way,
            approvals=sum(r.decision == ReviewDecision.APPROVE for r in reviews),
            approval_progress=approvals.progress_words(requirements),
            requirements=[(row, approvals.explain(row)) for row in requirements],
            reaches=any(row.reason for row in requirements),
            can_review=can_review, can_reject=can_reject, is_author=user.pk == change.author_id,
            may_submit=may_submit,
            may_comment=may_submit or user_can(user, REVIEW, change.environment) or can_reject,
            can_retry=change.state == ChangeState.FAILED and (
                (user.pk == change.author_id and may_submit) or user_can(user, REVIEW, change.environment)),
            waiting_for_worker=waiting_for_worker(change), worker_lost=lease_expired(change),
            can_resolve=is_stuck(change) and user_can(user, REVIEW, change.environment),
            attempts=change.apply_attempts.all(), reviews=reviews,
            comments=change.comments.select_related("author"), **kwargs)


def _sent_or_waiting(change: ChangeRequest) -> str:
    change.refresh_from_db()
    if waiting_for_worker(change):
        return ("no worker could be reached yet. It waits for a worker and is sent again automatically "
                "when the queue is back.")
    return "a worker is applying it."


class ChangeActionView(PermissionRequiredMixin, View):
    """POST-only actions on a change; domain errors become messages, never a 500."""

    permission_required = "changes.view_changerequest"
    raise_exception = True
    ACTIONS = {"submit", "approve", "reject", "withdraw", "retry", "redraft", "comment", "restore", "mark-failed"}

    def post(self, request, pk, action):
        change = get_object_or_404(ChangeRequest.objects.select_related("environment", "author"), pk=pk)
        user = request.user
        if not approvals.may_view(user, change):
            raise PermissionDenied
        if action not in self.ACTIONS:
            return redirect(change)
        environment = change.environment
        if action in ("approve", "reject", "comment"):
            rows = approvals.requirements(change, reviews=[])
            allowed = {"approve": lambda: user.has_perm(REVIEW) and approvals.may_reject(user, rows),
                       "reject": lambda: user.has_perm(REVIEW) and approvals.may_reject(user, rows),
                       # viewers read; they do not write
                       "comment": lambda: user_can(user, SUBMIT, environment) or approvals.may_reject(user, rows)}
            if not allowed[action]():
                raise PermissionDenied
        elif action == "retry":
            if not (user_can(user, SUBMIT, environment) or user_can(user, REVIEW, environment)):
                raise PermissionDenied
        elif action == "mark-failed":  # resolving a stuck change: reviewers and admins of its environment
            if not user_can(user, REVIEW, environment):
                raise PermissionDenied
        elif not user_can(user, SUBMIT, environment):  # submit, redraft, withdraw, restore
            raise PermissionDenied
        form = (CommentForm if action == "comment" else ReasonForm)(request.POST) \
            if action in ("comment", "approve", "reject") else None
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)  # shown beside the comment and review boxes
            return redirect(change)
        try:
            if action == "submit":
                change_request_submit(change, actor=user)
                messages.success(request, "Submitted." if change.state == ChangeState.SUBMITTED else
                                 "Submitted and approved: " + _sent_or_waiting(change))
            elif action == "approve":
                change_request_approve(change, reviewer=user, reason=form.cleaned_data["reason"])
                messages.success(request, "Approved." if change.state == ChangeState.APPROVED else
                                 "Your approval is recorded; more approvals are needed.")
            elif action == "reject":
                change_request_reject(change, reviewer=user, reason=form.cleaned_data["reason"])
                messages.success(request, "Rejected.")
            elif action == "withdraw":
                change_request_withdraw(change, actor=user)
                messages.success(request, "Withdrawn.")
            elif action == "retry":
                if change.state == ChangeState.FAILED:
                    change_request_retry(change, actor=user)
                else:
                    change_request_retry_now(change, actor=user)
                messages.success(request, "Queued again: " + _sent_or_waiting(change))
            elif action == "mark-failed":
                change_request_mark_failed(change, actor=user, reason=request.POST.get("reason", ""))
                messages.success(request, "Marked failed.")
            elif action == "redraft":
                draft = change_request_back_to_draft(change, actor=user)
                messages.success(request, "A new draft holds everything this change had.")
                return redirect(draft_url(draft))
            elif action == "restore":
                draft = change_request_restore(change, actor=user)
                messages.success(request, f"A new draft restores the version applied by change #{change.pk}. "
                                 "Review it and submit.")
                return redirect(draft_url(draft))
            elif action == "comment":
                change_request_comment(change, author=user, body=form.cleaned_data["body"])
        except (NotAllowed, IllegalTransition, ObjectConflict, ValueError) as exc:
            messages.error(request, str(exc))
        except SpecInvalid as exc:
            messages.error(request, f"The change is not valid: {exc}")
        return redirect(change)


class ObjectActionView(PermissionRequiredMixin, View):
    """POST edit / clone / enable / disable / delete on a managed object: each opens a draft or a change.

    Subclasses name the kind (changes.kinds); its model, flow and first step come from the registry.
    """

    permission_required = "changes.submit_changerequest"
    raise_exception = True
    kind = ""

    def post(self, request, pk, action):
        kind = kinds.get(self.kind)
        model = kind.model_class
        target = get_object_or_404(model.objects.select_related("environment"), pk=pk)
        if not user_can(request.user, SUBMIT, target.environment):
            raise PermissionDenied(f"You may not change anything in {target.environment.name}.")
        refused = unmanaged_refused(request, target)
        if refused is not None:
            return refused
        label = model._meta.verbose_name
        spec = target.desired_spec
        if spec is None and action == "clone":  # not in AWS yet: copy what its pending change proposes
            pending = target.changes.filter(state__in=OPEN_STATES).order_by("-id").first()
            spec = (pending.spec or None) if pending is not None else None
        if not spec:
            messages.error(request, f"This {label} is not in AWS yet: its first change is still pending.")
            return redirect(target)
        handler, user, environment = kind.handler, request.user, target.environment
        if action == "reapply":
            return self.reapply(request, target)
        if action in ("edit", "clone"):
            if action == "clone":
                spec = handler.renamed(spec, f"{target.name[:59]}-copy")
                messages.info(request, f"A copy of {target.name}: give it a new name.")
            draft = change_request_draft_create(
                kind=self.kind, action="update" if action == "edit" else "create", environment=environment,
                author=user, spec=spec, target=target if action == "edit" else None,
                wizard=handler.wizard_from_spec(spec, environment=environment))
            return redirect(f"{kind.url_namespace}:draft_step", draft.pk, kind.first_step)
        if action in ("enable", "disable", "delete"):
            if action != "delete":
                spec = handler.with_state(spec, "ENABLED" if action == "enable" else "DISABLED")
            change = change_request_draft_create(kind=self.kind, action=action, environment=environment, author=user,
                                                 spec=spec, target=target)
            try:
                change_request_submit(change, actor=user)
            except (SpecInvalid, ObjectConflict, NotAllowed, IllegalTransition) as exc:
                messages.error(request, str(exc))
            else:
                waiting = change.state == ChangeState.SUBMITTED
                messages.success(request, f"{action.capitalize()} {target.name}: "
                                 + ("waiting for review." if waiting else _sent_or_waiting(change)))
            return landing_after_submit(change)
        return redirect(target)

    def reapply(self, request, target):
        """The drift box's one-click fix: a change request that applies the desired spec again (the batch
        "Re-apply desired" for this one object), reviewed like any change where approvals are needed."""
        from .batch import NothingEligible, batch_create

        try:
            change = batch_create(kind=self.kind, action=ChangeAction.REAPPLY, environment=target.environment,
                                  author=request.user, objects=[target])
        except (NothingEligible, NotAllowed, IllegalTransition, SpecInvalid, ObjectConflict, ValueError) as exc:
            messages.error(request, str(exc))
            return redirect(target)
        waiting = change.state == ChangeState.SUBMITTED
        messages.success(request, f"Re-apply the desired spec of {target.name}: "
                         + ("waiting for review." if waiting else _sent_or_waiting(change)))
        if waiting:
            return redirect(change)
        return redirect(f"{target.get_absolute_url()}?change={change.pk}")  # the object's page follows the apply


class DraftDiscardView(PermissionRequiredMixin, View):
    """POST: the author discards a draft (it is withdrawn; its history stays)."""

    permission_required = "changes.submit_changerequest"
    raise_exception = True
    kind = ""
    list_url = ""

    def post(self, request, pk):
        draft = get_object_or_404(ChangeRequest, pk=pk, kind=self.kind)
        if not user_can(request.user, SUBMIT, draft.environment_id):
            raise PermissionDenied
        try:
            change_request_withdraw(draft, actor=request.user)
            messages.success(request, "Draft discarded.")
        except (NotAllowed, IllegalTransition) as exc:
            messages.error(request, str(exc))
        return redirect(self.list_url)


def landing_after_submit(change: ChangeRequest):
    """Where a person lands once their change is submitted: the change's page while it waits for review;
    where no approval is needed (it is on its way to AWS already), the object's own page, which shows the
    apply's progress (a deleted object has no page left: the change's page then)."""
    change.refresh_from_db()
    target = change.target
    if change.state != ChangeState.SUBMITTED and target is not None:
        return redirect(f"{target.get_absolute_url()}?change={change.pk}")
    return redirect(change)


def environment_for_new_draft(request):
    """The environment a new draft starts in: the one posted (403 if this user may not submit there), or
    the default one (changes.selectors.environment_default); None when there is none at all."""
    posted = request.POST.get("environment", "")
    if posted:
        environment = _environments().filter(pk=int_param(posted)).first() if int_param(posted) else None
        if environment is not None:
            if not user_can(request.user, SUBMIT, environment):
                raise PermissionDenied(f"You may not start changes in {environment.name}.")
            return environment
    return environment_default(request.user)


def unmanaged_refused(request, obj):
    """For an object EventConsole does not manage (discovery found it; nobody adopted it): a redirect to its
    read-only page with a message saying why nothing may be changed from here; None for a managed object."""
    if obj.is_managed:
        return None
    label = obj._meta.verbose_name
    if obj.owner_service:
        messages.error(request, f"{obj.name} is managed by {obj.owner_service}: it is read-only here and cannot be "
                                "adopted.")
    else:
        messages.error(request, f"EventConsole does not manage this {label}: it is read-only here. Adopt it to edit, "
                                "enable, disable, clone or delete it.")
    return redirect(obj)


def object_readable(user, obj, perm):
    """`obj` (a rule or schedule) if `user` may use `perm` in its environment; else 403."""
    if not user_can(user, perm, obj.environment_id):
        raise PermissionDenied(f"Your role in {obj.environment.name} does not allow this.")
    return obj


def _environments():
    return Environment.objects


def draft_url(change: ChangeRequest) -> str:
    """Where a draft is edited: the review step of its kind's flow (it links every step)."""
    return reverse(f"{kinds.get(change.kind).url_namespace}:draft_step", args=[change.pk, "review"])
