"""Schedule pages: list, detail, upcoming runs, and the actions that open change requests (thin views)."""
from __future__ import annotations

from datetime import UTC, timedelta

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from accounts.permissions import ALL, environments_where, restrict, user_can
from changes.choices import ChangeAction, ChangeKind, OPEN_STATES
from changes.models import ChangeRequest
from changes.selectors import drafts_of, object_history
from changes.services import change_request_draft_create
from changes import views as changes_views
from changes.views import ObjectActionView, environment_for_new_draft, object_readable
from core.tables import CheckedPaginationMixin
from environments.models import Environment
from rules.tables import status_badge

from . import expressions, targets
from .filtersets import ScheduleFilterSet
from .forms import TIME_ZONES, ScheduleDetailForm
from .forms.detail import CRON_FIELDS, RATE
from .kind import runs_of
from .models import Schedule
from .selectors import schedule_groups, schedule_list, schedules_upcoming
from .tables import ScheduleTable
from .upcoming import calendar
from .wizard import DETAIL

VIEW, SUBMIT = "schedules.view_schedule", "changes.submit_changerequest"
PREVIEW_FIELDS = {*CRON_FIELDS, "rate_value", "rate_unit", "at_date", "at_time", "timezone", "start_date",
                  "start_time", "end_date", "end_time", "occurrence", "schedule_type"}


def preview_context(expression: str, zone: str, *, start=None, end=None, anchor=None, count: int = 10) -> dict:
    """The expression in words and its next runs in `zone` and in UTC (form preview, review, detail)."""
    if not expression:
        return {"preview_runs": [], "preview_expression": ""}
    try:
        description = expressions.describe(expression)
    except expressions.ExpressionError as exc:
        return {"preview_runs": [], "preview_expression": expression, "preview_error": str(exc)}
    spec = {"ScheduleExpression": expression, "ScheduleExpressionTimezone": zone, "StartDate": start, "EndDate": end}
    runs = runs_of(spec, count=count, anchor=anchor)
    offsets = {run.utcoffset() for run in runs}
    return {"preview_expression": expression, "preview_description": description, "preview_zone": zone,
            "preview_runs": [(run, run.astimezone(UTC)) for run in runs],
            "preview_dst": len(offsets) > 1,
            "preview_rate_note": expression.startswith("rate(") and start is None and anchor is None}


# ---------------------------------------------------------------------------------------------
# List, create, detail
# ---------------------------------------------------------------------------------------------
class ScheduleListView(PermissionRequiredMixin, CheckedPaginationMixin, SingleTableMixin, FilterView):
    permission_required = VIEW
    raise_exception = True
    table_class = ScheduleTable
    filterset_class = ScheduleFilterSet
    template_name = "schedules/schedule_list.html"
    per_page = 50  # the table paginates (a second paginator on the view would count the rows twice)

    def get_queryset(self):
        return restrict(schedule_list(), self.request.user, VIEW)

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["schedules/schedule_list.html#table"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        drafts = drafts_of(self.request.user, ChangeKind.SCHEDULE)
        environments = restrict(Environment.objects.order_by("name"), self.request.user, SUBMIT, field="pk")
        return super().get_context_data(drafts=drafts, environments=environments, **kwargs)


class ScheduleCreateView(PermissionRequiredMixin, View):
    """POST: start a new draft ("Create schedule") and open its first step."""

    permission_required = SUBMIT
    raise_exception = True

    def post(self, request):
        environment = environment_for_new_draft(request)
        if environment is None:
            messages.error(request, "Add an environment first (Environments page).")
            return redirect("schedules:schedule_list")
        draft = change_request_draft_create(kind=ChangeKind.SCHEDULE, action=ChangeAction.CREATE,
                                            environment=environment, author=request.user, spec={})
        return redirect("schedules:draft_step", draft.pk, DETAIL)


class ScheduleDetailView(PermissionRequiredMixin, DetailView):
    permission_required = VIEW
    raise_exception = True
    template_name = "schedules/schedule_detail.html"
    context_object_name = "schedule"

    def get_queryset(self):
        return schedule_list().defer(None)

    def get_object(self, queryset=None):
        return object_readable(self.request.user, super().get_object(queryset), VIEW)

    def get_context_data(self, **kwargs):
        schedule = self.object
        spec = schedule.desired_spec or {}
        target = spec.get("Target") or {}
        pending = schedule.changes.filter(state__in=OPEN_STATES).select_related("author").order_by("-id")
        history = object_history("schedule", schedule.pk).order_by("-id")[:50]
        preview = preview_context(spec.get("ScheduleExpression") or "", spec.get("ScheduleExpressionTimezone") or "UTC",
                                  start=spec.get("StartDate"), end=spec.get("EndDate"), anchor=schedule.last_applied)
        if spec.get("State") == "DISABLED":
            preview["preview_runs"] = []
        return super().get_context_data(
            spec=spec, target=target, live=schedule.live_spec, pending=pending, history=history,
            status=status_badge(schedule), target_label=targets.describe_target(target.get("Arn", "")),
            can_submit=user_can(self.request.user, SUBMIT, schedule.environment_id), **preview, **kwargs)


class ScheduleActionView(ObjectActionView):
    """POST edit / clone / enable / disable / delete: each opens a draft or a change request."""

    model = Schedule
    kind = ChangeKind.SCHEDULE
    app = "schedules"
    first_step = DETAIL


class ScheduleDeleteView(PermissionRequiredMixin, DetailView):
    """GET: confirm what Delete removes. POST: open the delete change (as ScheduleActionView)."""

    permission_required = SUBMIT
    raise_exception = True
    template_name = "schedules/schedule_confirm_delete.html"
    context_object_name = "schedule"
    model = Schedule

    def get_object(self, queryset=None):
        return object_readable(self.request.user, super().get_object(queryset), SUBMIT)

    def post(self, request, pk):
        return ScheduleActionView.as_view()(request, pk=pk, action="delete")


class DraftDiscardView(changes_views.DraftDiscardView):
    kind = ChangeKind.SCHEDULE
    list_url = "schedules:schedule_list"


# ---------------------------------------------------------------------------------------------
# Upcoming runs
# ---------------------------------------------------------------------------------------------
class UpcomingView(PermissionRequiredMixin, TemplateView):
    """Every enabled schedule's runs over the next 7 days, per hour, in one display time zone."""

    permission_required = VIEW
    raise_exception = True
    template_name = "schedules/upcoming.html"
    LIMIT = 2000

    def get_context_data(self, **kwargs):
        params = self.request.GET
        visible = restrict(Environment.objects.order_by("name"), self.request.user, VIEW, field="pk")
        environment = visible.filter(pk=params.get("environment")).first() if params.get(
            "environment", "").isdigit() else None
        group = params.get("group", "")
        zone = params.get("zone") if params.get("zone") in TIME_ZONES else "UTC"
        now = timezone.now()
        schedules = list(schedules_upcoming(until=now + timedelta(days=7, hours=1), environment=environment,
                                            group=group, limit=self.LIMIT))
        where = environments_where(self.request.user, VIEW)
        if where is not ALL:
            schedules = [s for s in schedules if s.environment_id in where]
        return super().get_context_data(
            calendar=calendar(schedules, now=now, zone=zone), limited=len(schedules) >= self.LIMIT, limit=self.LIMIT,
            environments=visible, groups=schedule_groups(), zones=TIME_ZONES,
            chosen={"environment": environment.pk if environment else "", "group": group, "zone": zone}, **kwargs)


# ---------------------------------------------------------------------------------------------
# htmx helper for the flow: the expression in words and the next 10 trigger dates
# ---------------------------------------------------------------------------------------------
class SchedulePreviewView(PermissionRequiredMixin, View):
    permission_required = SUBMIT
    raise_exception = True

    def post(self, request, pk):
        from .wizard import ScheduleWizardView

        change = get_object_or_404(ChangeRequest.objects.select_related("environment"), pk=pk,
                                   kind=ChangeKind.SCHEDULE, author=request.user)
        if not user_can(request.user, SUBMIT, change.environment_id):
            raise PermissionDenied
        wizard = ScheduleWizardView()
        wizard.request, wizard.change = request, change
        form = ScheduleDetailForm(data=request.POST, wizard=wizard, prefix=DETAIL, check_aws=False)
        form.is_valid()
        cleaned = getattr(form, "cleaned_data", {})
        errors = [e for name, errs in form.errors.items() if name in PREVIEW_FIELDS or name == "__all__"
                  for e in errs]
        context = {"errors": errors, "one_time": cleaned.get("occurrence") == "one-time",
                   "rate": cleaned.get("schedule_type") == RATE}
        if cleaned.get("expression") and not errors:
            context.update(preview_context(cleaned["expression"], cleaned.get("zone") or "UTC",
                                           start=cleaned.get("start"), end=cleaned.get("end")))
        return render(request, "schedules/_preview.html", context)


