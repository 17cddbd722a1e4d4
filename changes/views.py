"""Change request pages: the reviews queue, one change's page, and its actions (thin views)."""
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, ListView

from .choices import ChangeState, PENDING_STATES, ReviewDecision
from .kinds import ObjectConflict, SpecInvalid
from .models import ChangeRequest
from .selectors import change_request_list
from .services import (
    NotAllowed, change_request_approve, change_request_back_to_draft, change_request_comment,
    change_request_mark_failed, change_request_reject, change_request_restore, change_request_retry,
    change_request_retry_now, change_request_submit, change_request_withdraw, is_stuck, lease_expired,
    waiting_for_worker,
)
from .states import IllegalTransition


class ReviewListView(PermissionRequiredMixin, ListView):
    permission_required = "changes.view_changerequest"
    raise_exception = True
    template_name = "changes/review_list.html"
    context_object_name = "changes"
    paginate_by = 50

    def get_queryset(self):
        params = self.request.GET
        show = params.get("show", "open")
        states = PENDING_STATES if show == "open" else None
        return change_request_list(user=self.request.user, waiting_for_me=params.get("mine") == "1",
                                   production_only=params.get("production") == "1", states=states)

    def get_context_data(self, **kwargs):
        return super().get_context_data(show=self.request.GET.get("show", "open"), **kwargs)


class ChangeDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "changes.view_changerequest"
    raise_exception = True
    template_name = "changes/change_detail.html"
    context_object_name = "change"

    def get_queryset(self):
        return ChangeRequest.objects.select_related("environment", "author", "rule", "schedule")

    def get_context_data(self, **kwargs):
        from audit.diff import diff

        change, user = self.object, self.request.user
        reviewers = {r.reviewer_id for r in change.reviews.all()}
        approvals = sum(r.decision == ReviewDecision.APPROVE for r in change.reviews.all())
        target = change.target
        live = getattr(target, "live_spec", None)
        proposed = None if change.action == "delete" else change.spec
        can_review = (user.has_perm("changes.review_changerequest") and change.state == ChangeState.SUBMITTED
                      and user.pk != change.author_id and user.pk not in reviewers)
        three_way = None
        if change.state == ChangeState.STALE:
            base = change.base_spec or {}
            three_way = {"since": diff(base, {k: v for k, v in (live or {}).items() if k not in ("Arn", "ManagedBy")}),
                         "proposed": diff(base, proposed or {}), "current": getattr(target, "desired_spec", None)}
        return super().get_context_data(
            next_runs=_next_runs(change), three_way=three_way, approvals=approvals, approvals_needed=max(1, change.environment.approvals_required),
            can_review=can_review, is_author=user.pk == change.author_id,
            can_retry=change.state == ChangeState.FAILED and (
                user.pk == change.author_id or user.has_perm("changes.review_changerequest")),
            waiting_for_worker=waiting_for_worker(change), worker_lost=lease_expired(change),
            can_resolve=is_stuck(change) and user.has_perm("changes.review_changerequest"),
            difference=diff({k: v for k, v in (live or {}).items() if k not in ("Arn", "ManagedBy")}, proposed or {}),
            attempts=change.apply_attempts.all(), reviews=change.reviews.select_related("reviewer"),
            comments=change.comments.select_related("author"), **kwargs)


def _sent_or_waiting(change: ChangeRequest) -> str:
    change.refresh_from_db()
    if waiting_for_worker(change):
        return ("no worker could be reached yet. It waits for a worker and is sent again automatically "
                "when the queue is back.")
    return "a worker is applying it."


def _next_runs(change: ChangeRequest) -> list:
    """For a schedule change: when it would fire, in its time zone (the reviewer sees what goes live)."""
    if change.kind != "schedule" or change.action == "delete":
        return []
    from django.utils import timezone

    from schedules import expressions

    spec = change.spec or {}
    try:
        return expressions.next_runs(spec.get("ScheduleExpression", ""), spec.get("ScheduleExpressionTimezone") or "UTC",
                                     timezone.now(), 10)
    except (expressions.ExpressionError, ValueError):
        return []


class ChangeActionView(PermissionRequiredMixin, View):
    """POST-only actions on a change; domain errors become messages, never a 500."""

    permission_required = "changes.view_changerequest"
    raise_exception = True
    ACTIONS = {"submit", "approve", "reject", "withdraw", "retry", "redraft", "comment", "restore", "mark-failed"}

    def post(self, request, pk, action):
        change = get_object_or_404(ChangeRequest.objects.select_related("environment", "author"), pk=pk)
        user = request.user
        if action not in self.ACTIONS:
            return redirect(change)
        needs = {"approve": "changes.review_changerequest", "reject": "changes.review_changerequest",
                 "submit": "changes.submit_changerequest", "redraft": "changes.submit_changerequest",
                 "withdraw": "changes.submit_changerequest", "restore": "changes.submit_changerequest",
                 "mark-failed": "changes.review_changerequest"}
        if action in needs and not user.has_perm(needs[action]):
            raise PermissionDenied
        if action == "comment" and not (user.has_perm("changes.submit_changerequest")
                                        or user.has_perm("changes.review_changerequest")):
            raise PermissionDenied  # viewers read; they do not write
        try:
            if action == "submit":
                change_request_submit(change, actor=user)
                messages.success(request, "Submitted." if change.state == ChangeState.SUBMITTED else
                                 "Submitted and approved: " + _sent_or_waiting(change))
            elif action == "approve":
                change_request_approve(change, reviewer=user, reason=request.POST.get("reason", ""))
                messages.success(request, "Approved." if change.state == ChangeState.APPROVED else
                                 "Your approval is recorded; more approvals are needed.")
            elif action == "reject":
                change_request_reject(change, reviewer=user, reason=request.POST.get("reason", ""))
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
                change_request_comment(change, author=user, body=request.POST.get("body", ""))
        except (NotAllowed, IllegalTransition, ObjectConflict, ValueError) as exc:
            messages.error(request, str(exc))
        except SpecInvalid as exc:
            messages.error(request, f"The change is not valid: {exc}")
        return redirect(change)


class ObjectActionView(PermissionRequiredMixin, View):
    """POST edit / clone / enable / disable / delete on a rule or schedule: each opens a draft or a change.

    Subclasses name the model, the kind and the URL namespace of its flow.
    """

    permission_required = "changes.submit_changerequest"
    raise_exception = True
    model = None
    kind = ""
    app = ""
    first_step = "detail"

    def post(self, request, pk, action):
        from .kinds import handler_for
        from .services import change_request_draft_create

        target = get_object_or_404(self.model.objects.select_related("environment"), pk=pk)
        label = self.model._meta.verbose_name
        if target.desired_spec is None and action != "clone":
            messages.error(request, f"This {label} is not in AWS yet: its first change is still pending.")
            return redirect(target)
        handler, spec, user, environment = handler_for(self.kind), target.desired_spec or {}, request.user, \
            target.environment
        if action in ("edit", "clone"):
            if action == "clone":
                spec = handler.renamed(spec, f"{target.name[:59]}-copy")
                messages.info(request, f"A copy of {target.name}: give it a new name.")
            draft = change_request_draft_create(
                kind=self.kind, action="update" if action == "edit" else "create", environment=environment,
                author=user, spec=spec, target=target if action == "edit" else None,
                wizard=handler.wizard_from_spec(spec, environment=environment))
            return redirect(f"{self.app}:draft_step", draft.pk, self.first_step)
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
            return redirect(change)
        return redirect(target)


class DraftDiscardView(PermissionRequiredMixin, View):
    """POST: the author discards a draft (it is withdrawn; its history stays)."""

    permission_required = "changes.submit_changerequest"
    raise_exception = True
    kind = ""
    list_url = ""

    def post(self, request, pk):
        draft = get_object_or_404(ChangeRequest, pk=pk, kind=self.kind)
        try:
            change_request_withdraw(draft, actor=request.user)
            messages.success(request, "Draft discarded.")
        except (NotAllowed, IllegalTransition) as exc:
            messages.error(request, str(exc))
        return redirect(self.list_url)


def draft_url(change: ChangeRequest) -> str:
    """Where a draft is edited: the first step of its kind's flow."""
    app = "rules" if change.kind == "rule" else "schedules"
    return reverse(f"{app}:draft_step", args=[change.pk, "review"])
