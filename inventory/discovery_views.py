"""Discover now, on the environment page: start a discovery (POST) and the panel showing its progress
and result (GET, polled by htmx every second while the run is running)."""
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from accounts.permissions import SUBMIT, user_can
from environments.models import Environment

from . import discovery
from .models import RunState

VIEW = "environments.view_environment"


def _environment(request, pk: int, permission: str, what: str) -> Environment:
    environment = get_object_or_404(Environment, pk=pk)
    if not user_can(request.user, permission, environment):
        raise PermissionDenied(f"Your role in {environment.name} does not include {what}.")
    return environment


class DiscoveryPanelView(View):
    """GET: the latest discovery of the environment: progress while it runs, then its result."""

    def get(self, request, pk):
        environment = _environment(request, pk, VIEW, "seeing this environment")
        run = discovery.latest_run(environment)
        links = []
        for kind in discovery.discoverable_kinds():
            model = kind.model_class
            url = reverse(f"{kind.url_namespace}:{model._meta.model_name}_list")
            links.append({"label": f"Unmanaged {model._meta.verbose_name_plural}",
                          "count": model.objects.unmanaged().filter(environment=environment).count(),
                          "url": f"{url}?managed=unmanaged&environment={environment.pk}"})
        running = run is not None and run.state == RunState.RUNNING
        # No progress for DISCOVERY_STALE_SECONDS: its worker died. Starting another marks it Interrupted.
        stalled = running and (run.heartbeat or run.started) < timezone.now() - timedelta(
            seconds=settings.DISCOVERY_STALE_SECONDS)
        return render(request, "inventory/_discovery_panel.html", {
            "environment": environment, "run": run, "running": running and not stalled, "stalled": stalled,
            "links": links, "can_discover": user_can(request.user, SUBMIT, environment)})


class DiscoveryStartView(View):
    """POST: start a discovery of the environment (the Operators' SUBMIT permission there); a worker runs it."""

    def post(self, request, pk):
        from .tasks import environment_discover

        environment = _environment(request, pk, SUBMIT, "starting a discovery")
        try:
            run = discovery.run_start(environment, requested_by=request.user)
        except discovery.DiscoveryBusy as exc:
            messages.info(request, str(exc))
        else:
            environment_discover.delay_on_commit(environment.pk, run.pk)
            messages.success(request, f"Discovery of {environment.name} started: its progress is shown below.")
        return redirect(environment)
