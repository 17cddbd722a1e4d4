"""Pages: the live tails (list, start, the streaming page, its read and stop endpoints) and Send a test event."""
from __future__ import annotations

import json
import re

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from accounts.permissions import SUBMIT, user_can
from changes.selectors import environments_for_new_changes
from environments import aws
from environments.models import Environment
from rules.models import Rule

from . import send, services
from .models import LIVE_STATES, TailSession, TailState
from .resources import ALL_EVENTS

BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9:]{1,256}")  # a bus name (or ARN), as PutRule's EventBusName allows


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _rule_pattern(rule: Rule) -> str | None:
    spec = (rule.desired_spec if rule.is_managed else rule.live_spec) or {}
    return (spec.get("Rule") or {}).get("EventPattern")


class TailListView(View):
    """My live tails, and "Listen to events" on any bus of an environment where I may submit changes."""

    def get(self, request):
        sessions = TailSession.objects.filter(created_by=request.user).select_related("environment", "rule")[:50]
        return render(request, "tail/tail_list.html", {
            "sessions": sessions, "environments": environments_for_new_changes(request.user)})


class TailStartView(View):
    """POST: open a live tail of a rule's pattern (rule=<id>) or of all events on a bus (environment, bus)."""

    def post(self, request):
        rule = None
        if request.POST.get("rule"):
            rule = Rule.objects.select_related("environment").filter(pk=_int(request.POST["rule"])).first()
            if rule is None:
                messages.error(request, "That rule does not exist (any more).")
                return redirect("tail:tail_list")
            environment, bus, pattern = rule.environment, rule.event_bus_name, _rule_pattern(rule)
            if not pattern:
                messages.error(request, f"{rule.name} has no event pattern (a scheduled rule matches no event): "
                                        "listen to all events on its bus instead.")
                return redirect(rule)
            back = rule.get_absolute_url()
        else:
            environment = Environment.objects.filter(pk=_int(request.POST.get("environment"))).first()
            bus = (request.POST.get("bus") or "default").strip()
            if environment is None:
                messages.error(request, "Choose an environment.")
                return redirect("tail:tail_list")
            if not BUS_NAME.fullmatch(bus):
                messages.error(request, f"\"{bus[:80]}\" is not an event bus name.")
                return redirect("tail:tail_list")
            pattern, back = json.dumps(ALL_EVENTS), reverse("tail:tail_list")
        try:
            session = services.tail_start(user=request.user, environment=environment, bus=bus, pattern=pattern,
                                          rule=rule)
        except services.TailRefused as exc:
            messages.error(request, str(exc))
            return redirect(back)
        return redirect(session)


def _own(request, pk) -> TailSession:
    session = get_object_or_404(TailSession.objects.select_related("environment", "rule"), pk=pk)
    if session.created_by_id != request.user.pk:
        raise PermissionDenied("A live tail is read by the person who opened it.")
    return session


class TailDetailView(View):
    """The streaming page for the person who opened the tail; what it is and was, for others who may see the
    environment's rules (the audit links here)."""

    def get(self, request, pk):
        session = get_object_or_404(TailSession.objects.select_related("environment", "rule"), pk=pk)
        owner = session.created_by_id == request.user.pk
        if not owner and not user_can(request.user, "rules.view_rule", session.environment_id):
            raise PermissionDenied("You may not see this environment's live tails.")
        return render(request, "tail/tail_detail.html", {"session": session, "owner": owner,
                                                         "pattern": json.loads(session.pattern)})


def _state(session: TailSession) -> dict:
    return {"state": session.state, "state_label": session.get_state_display(), "error": session.error,
            "received": session.received, "expires": session.expires_at.isoformat(),
            "closed_reason": session.closed_reason}


class TailEventsView(View):
    """POST (it deletes what it reads): what arrived since the last read, and the session's state."""

    def post(self, request, pk):
        session = _own(request, pk)
        body = _state(session)
        body["events"] = []
        if session.state == TailState.OPEN:
            try:
                body["events"] = services.tail_read(session)
            except aws.BudgetSpent as exc:
                body["warning"] = str(exc)
            except (ClientError, BotoCoreError) as exc:
                body["warning"] = aws.describe_error(exc)
        return JsonResponse(body)


class TailStopView(View):
    """POST: remove the tail's rule and queue (Stop, or navigator.sendBeacon when the page closes)."""

    def post(self, request, pk):
        session = _own(request, pk)
        stopped = services.tail_stop(session, reason="page closed" if request.POST.get("beacon") else "stopped")
        if request.POST.get("beacon"):
            return HttpResponse(status=204)
        if stopped:
            messages.success(request, "Stopping the live tail: its temporary rule and queue are being removed.")
        return redirect(session)


# ---------------------------------------------------------------------------------------------
# Send a test event
# ---------------------------------------------------------------------------------------------
class SendTestEventView(View):
    """GET: the form (from a rule: its environment and bus; else pick them). POST: review, confirm (Production:
    confirm again), send. Nothing is sent before the last confirmation of the environment."""

    template_name = "tail/send.html"

    def _rule(self, request, value):
        if not value:
            return None
        rule = Rule.objects.select_related("environment").filter(pk=_int(value)).first()
        if rule is None:
            raise PermissionDenied("That rule does not exist (any more).")
        return rule

    def _form(self, request, rule, data=None, initial=None):
        environments = None if rule is not None else environments_for_new_changes(request.user)
        return send.TestEventForm(data, initial=initial, environments=environments)

    def _context(self, request, rule, form, **extra):
        return {"form": form, "rule": rule, "samples": send.samples_json(), **extra}

    def get(self, request):
        rule = self._rule(request, request.GET.get("rule"))
        if rule is not None and not user_can(request.user, SUBMIT, rule.environment_id):
            raise PermissionDenied(f"You may not send events in {rule.environment.name}.")
        bus = request.GET.get("bus", "")
        initial = {"sample_key": send.sample_for(_rule_pattern(rule) if rule else None),
                   "bus": rule.event_bus_name if rule else (bus if BUS_NAME.fullmatch(bus) else "default")}
        if rule is None and _int(request.GET.get("environment")):
            initial["environment"] = _int(request.GET["environment"])
        return render(request, self.template_name, self._context(request, rule, self._form(request, rule,
                                                                                          initial=initial)))

    def post(self, request):
        rule = self._rule(request, request.POST.get("rule"))
        form = self._form(request, rule, data=request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self._context(request, rule, form))
        environment = rule.environment if rule is not None else form.cleaned_data["environment"]
        bus = rule.event_bus_name if rule is not None else form.cleaned_data["bus"]
        if not user_can(request.user, SUBMIT, environment.pk):
            raise PermissionDenied(f"You may not send events in {environment.name}.")
        entry = form.cleaned_data["entry"]
        prediction = send.predict(environment, bus, entry)
        stage = request.POST.get("stage", "")
        context = self._context(request, rule, form, environment=environment, bus=bus, prediction=prediction,
                                entry=entry, event_text=json.dumps(form.cleaned_data["event_value"], indent=2))
        if stage == "confirm" and environment.is_production:
            return render(request, self.template_name, {**context, "stage": "confirm-production"})
        if stage == "confirm" or (stage == "confirm-production" and environment.is_production):
            result = send.test_event_send(user=request.user, environment=environment, bus=bus, entry=entry,
                                          prediction=prediction, rule=rule,
                                          confirmed_twice=stage == "confirm-production")
            tail = TailSession.objects.filter(created_by=request.user, environment=environment, event_bus_name=bus,
                                              state__in=LIVE_STATES).first()
            return render(request, self.template_name, {**context, "stage": "sent", "result": result, "tail": tail,
                                                        "tailing": not services.tail_refusal(request.user,
                                                                                             environment)})
        return render(request, self.template_name, {**context, "stage": "confirm"})
