"""Refresh metrics (POST: a worker fetches one environment's figures now) and the schedule group page.

Pages read stored figures only (metrics.selectors): no AWS call while a person waits."""
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from accounts.permissions import user_can
from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from changes import kinds
from environments.models import Environment

from . import catalog, fetch, selectors

VIEW_RULES, VIEW_SCHEDULES = "rules.view_rule", "schedules.view_schedule"
GROUP_NAME = re.compile(r"^[0-9A-Za-z._-]{1,64}$")  # Scheduler's schedule group names


class RefreshView(View):
    """POST: fetch the environment's figures now (anyone who may see its rules or schedules; audited).
    A fetch running, or one finished less than a minute ago, is said instead of starting another."""

    def post(self, request, pk):
        from .tasks import metrics_fetch

        environment = get_object_or_404(Environment, pk=pk)
        if not (user_can(request.user, VIEW_RULES, environment) or user_can(request.user, VIEW_SCHEDULES, environment)):
            raise PermissionDenied(f"Your role in {environment.name} does not include seeing its metrics.")
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = environment.get_absolute_url()
        try:
            with transaction.atomic():
                run = fetch.fetch_start(environment, requested_by=request.user)
                audit_record(action=AuditAction.METRICS_REFRESHED, object_type=ObjectType.ENVIRONMENT,
                             object_id=environment.pk, object_repr=environment.name, actor=request.user,
                             environment=environment, message=f"Metrics fetch #{run.pk} requested")
                metrics_fetch.delay_on_commit(environment.pk, run.pk)
        except fetch.FetchBusy as exc:
            messages.info(request, str(exc))
        else:
            messages.success(request, f"Fetching the metrics of {environment.name}: the figures are updated when the "
                                      "fetch ends (reload the page in a minute).")
        return redirect(back)


class ScheduleGroupView(View):
    """GET: a schedule group's AWS/Scheduler figures (Scheduler has no per-schedule metric) and its schedules."""

    def get(self, request, pk, group):
        environment = get_object_or_404(Environment, pk=pk)
        if not user_can(request.user, VIEW_SCHEDULES, environment):
            raise PermissionDenied(f"Your role in {environment.name} does not include seeing its schedules.")
        if not GROUP_NAME.match(group):
            raise Http404("No such schedule group.")
        kind = kinds.get("schedule")
        schedules = list(kind.model_class.objects.filter(environment=environment, **{kind.container_field: group})
                         .order_by("name")[:200])
        return render(request, "metrics/schedule_group.html", {
            "environment": environment, "group": group, "schedules": schedules,
            "figures": selectors.figures(environment, catalog.SCHEDULER, catalog.group_dimensions(group)),
            "next": request.get_full_path()})
