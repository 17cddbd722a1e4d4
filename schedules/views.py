"""Schedule pages: list, detail (Overview | History), upcoming runs, the actions that open change requests and
the flow's preview (thin views; the frame is changes.object_views)."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import ALL, environments_where, restrict, user_can
from accounts.preferences import display_zone_form
from changes import views as changes_views
from changes.batch_views import BatchConfirmView
from changes.choices import ChangeKind
from changes.models import ChangeRequest
from changes.object_views import (
    KindPagesMixin, ManagedObjectCreateView, ManagedObjectDeleteView, ManagedObjectDetailView, ManagedObjectListView,
)
from changes.views import ObjectActionView
from environments.models import Environment

from delivery.invoke import effect_words

from . import invocations, targets
from .filtersets import ScheduleFilterSet
from .forms import ScheduleDetailForm
from .forms.detail import CRON_FIELDS, RATE
from .models import Schedule
from .preview import preview_context
from .selectors import schedule_groups, schedule_list, schedules_upcoming
from .tables import ScheduleTable
from .upcoming import calendar
from .wizard import DETAIL, ScheduleWizardView

VIEW, SUBMIT = "schedules.view_schedule", "changes.submit_changerequest"
PREVIEW_FIELDS = {*CRON_FIELDS, "rate_value", "rate_unit", "at_date", "at_time", "timezone", "start_date",
                  "start_time", "end_date", "end_time", "occurrence", "schedule_type"}


class SchedulePages(KindPagesMixin):
    kind = ChangeKind.SCHEDULE
    view_permission = VIEW

    def objects(self):
        return schedule_list()


# ---------------------------------------------------------------------------------------------
# List, create, detail, actions
# ---------------------------------------------------------------------------------------------
class ScheduleListView(SchedulePages, ManagedObjectListView):
    template_name = "schedules/schedule_list.html"
    table_class = ScheduleTable
    filterset_class = ScheduleFilterSet
    filter_fields = ("environment", "group_name", "state", "status", "managed", "occurrence")
    search_placeholder = "Search name, description, group or target"


class ScheduleBatchView(SchedulePages, BatchConfirmView):
    """The list's bulk actions (adopt, release, re-apply, accept) on the checked or filtered schedules."""

    filterset_class = ScheduleFilterSet


class ScheduleCreateView(SchedulePages, ManagedObjectCreateView):
    """POST: start a new draft ("Create schedule") and open its first step."""


class ScheduleDetailView(SchedulePages, ManagedObjectDetailView):
    template_name = "schedules/schedule_detail.html"

    def get_queryset(self):
        return schedule_list().defer(None)

    def overview_context(self, schedule):
        # A schedule nobody manages shows what AWS has, its next runs included.
        spec = (schedule.desired_spec if schedule.is_managed else schedule.live_spec) or {}
        target = spec.get("Target") or {}
        preview = preview_context(spec.get("ScheduleExpression") or "", spec.get("ScheduleExpressionTimezone") or "UTC",
                                  start=spec.get("StartDate"), end=spec.get("EndDate"), anchor=schedule.last_applied)
        if spec.get("State") == "DISABLED":
            preview["preview_runs"] = []
        return {"target": target, "target_label": targets.describe_target(target.get("Arn", "")), **preview,
                "runs": invocations.recent_runs(schedule), "run_now_problem": invocations.run_now_problem(schedule)}


class ScheduleActionView(SchedulePages, ObjectActionView):
    """POST edit / clone / enable / disable / delete: each opens a draft or a change request."""


class ScheduleRunNowView(PermissionRequiredMixin, View):
    """Run now: GET (or a POST without a confirmation step) shows what will be invoked; POST step 1 runs it, or
    in a production environment asks a second time (step 2). The call is made inline, within the page's AWS
    budget (schedules.invocations.schedule_run_now), recorded as a run and audited."""

    permission_required = SUBMIT
    raise_exception = True
    template_name = "schedules/schedule_run_now.html"

    def schedule(self, request, pk) -> Schedule:
        schedule = get_object_or_404(Schedule.objects.select_related("environment"), pk=pk)
        if not user_can(request.user, SUBMIT, schedule.environment_id):
            raise PermissionDenied(f"You may not run anything in {schedule.environment.name}.")
        return schedule

    def confirm(self, request, schedule, step: int):
        spec = invocations.run_spec(schedule)
        target = spec.get("Target") or {}
        return render(request, self.template_name, {
            "schedule": schedule, "object": schedule, "step": step, "target": target,
            "target_label": targets.describe_target(target.get("Arn", "")),
            "effect": effect_words(target), "production": schedule.environment.is_production})

    def refused(self, request, schedule):
        """Back to the schedule's page with the reason, when it cannot be run now; else None."""
        problem = invocations.run_now_problem(schedule)
        if not problem:
            return None
        messages.error(request, f"Run now: {problem}")
        return redirect(schedule)

    def get(self, request, pk):
        schedule = self.schedule(request, pk)
        return self.refused(request, schedule) or self.confirm(request, schedule, 1)

    def post(self, request, pk):
        schedule = self.schedule(request, pk)
        refused = self.refused(request, schedule)
        if refused:
            return refused
        step = request.POST.get("step", "")
        if step not in ("1", "2"):
            return self.confirm(request, schedule, 1)
        if schedule.environment.is_production and step != "2":
            return self.confirm(request, schedule, 2)
        run = invocations.schedule_run_now(schedule, actor=request.user)
        label = targets.describe_target(run.request.get("target", ""))
        if run.ok:
            messages.success(request, f"Run now: {label} succeeded (execution ID {run.execution_id}).")
        else:
            messages.error(request, f"Run now: {label} failed. {run.error_words}")
        return redirect(f"{schedule.get_absolute_url()}#runs")


class ScheduleDeleteView(SchedulePages, ManagedObjectDeleteView):
    """GET: confirm what Delete removes. POST: open the delete change (as ScheduleActionView)."""

    template_name = "schedules/schedule_confirm_delete.html"
    action_view = ScheduleActionView


class DraftDiscardView(SchedulePages, changes_views.DraftDiscardView):
    pass


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
        zone_form = display_zone_form(self.request)
        zone = zone_form.chosen
        now = timezone.now()
        schedules = list(schedules_upcoming(until=now + timedelta(days=7, hours=1), environment=environment,
                                            group=group, limit=self.LIMIT))
        where = environments_where(self.request.user, VIEW)
        if where is not ALL:
            schedules = [s for s in schedules if s.environment_id in where]
        return super().get_context_data(
            calendar=calendar(schedules, now=now, zone=zone), limited=len(schedules) >= self.LIMIT, limit=self.LIMIT,
            environments=visible, groups=schedule_groups(), zone_form=zone_form,
            chosen={"environment": environment.pk if environment else "", "group": group, "zone": zone}, **kwargs)


# ---------------------------------------------------------------------------------------------
# htmx helper for the flow: the expression in words and the next 10 trigger dates
# ---------------------------------------------------------------------------------------------
class SchedulePreviewView(PermissionRequiredMixin, View):
    permission_required = SUBMIT
    raise_exception = True

    def post(self, request, pk):
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


