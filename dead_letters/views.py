"""Dead-letter pages: the panel on a rule's or schedule's Monitoring tab (stored depths, loaded by URL with
htmx, so the kinds never import this app), Refresh (POST: a worker reads the depths now), the peek page
(a live AWS call within the page's budget) and Redrive (POST: a change request)."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from accounts.permissions import SUBMIT, user_can
from changes import kinds
from rules.models import Rule
from schedules.models import Schedule

from . import peek as peeking
from .models import DeadLetterQueue

def _may_see(request, kind: str, environment) -> None:
    """403 unless the person may see the objects of `kind` (a registered kind's name) in `environment`."""
    if not user_can(request.user, kinds.get(kind).view_permission, environment.pk):
        raise PermissionDenied(f"Your role in {environment.name} does not include seeing this {kind}.")


def _owner(request, kind: str, pk: int):
    if kind not in ("rule", "schedule"):  # the kinds whose targets have dead-letter queues
        raise Http404("No such kind.")
    obj = get_object_or_404(kinds.get(kind).model_class.objects.select_related("environment"), pk=pk)
    _may_see(request, kind, obj.environment)
    return obj


def _queue(request, pk: int) -> DeadLetterQueue:
    queue = get_object_or_404(DeadLetterQueue.objects.select_related("environment", "rule", "schedule"), pk=pk)
    _may_see(request, queue.kind, queue.environment)
    return queue


def _linked(described, environment):
    """The rule or schedule a message names, when EventConsole has it in this environment."""
    if described.rule:
        return Rule.objects.filter(environment=environment, event_bus_name=described.rule["bus"],
                                   name=described.rule["name"]).first()
    if described.schedule:
        return Schedule.objects.filter(environment=environment, group_name=described.schedule["group"],
                                       name=described.schedule["name"]).first()
    return None


class PanelView(View):
    """GET: the object's dead-letter queues and their stored depth (Monitoring tab)."""

    def get(self, request, kind, pk):
        obj = _owner(request, kind, pk)
        from .redrive import redrives_open

        queues = list(obj.dead_letter_queues.select_related("environment").order_by("target_id", "pk"))
        for queue in queues:
            queue.redrives = list(redrives_open(queue)[:5])
        return render(request, "dead_letters/_panel.html", {"object": obj, "kind": kind, "queues": queues})


class RefreshView(View):
    """POST: read the depths of the environment's dead-letter queues now (a worker does it)."""

    def post(self, request, kind, pk):
        from .tasks import environment_depth_fetch

        obj = _owner(request, kind, pk)
        environment_depth_fetch.delay_on_commit(obj.environment_id)
        messages.success(request, "The dead-letter queues' depth is being read: reload the Monitoring tab in a moment.")
        return redirect(f"{obj.get_absolute_url()}?tab=monitoring")


class PeekView(View):
    """GET: the queue's oldest messages, without deleting them (live)."""

    def get(self, request, pk):
        queue = _queue(request, pk)
        result = peeking.peek(queue)
        rows = [{"message": m, "linked": _linked(m.described, queue.environment)} for m in result.messages]
        from delivery.invoke import effect_words

        from .redrive import target_of

        target = target_of(queue)
        return render(request, "dead_letters/peek.html", {
            "queue": queue, "owner": queue.owner, "result": result, "rows": rows,
            "effect": effect_words(target) if target else "",
            "can_redrive": user_can(request.user, SUBMIT, queue.environment_id) and bool(rows),
            "peek_calls": peeking.PEEK_CALLS})


class RedriveView(View):
    """POST: a change request to redrive what a peek of the queue returns now (Operators: SUBMIT)."""

    def post(self, request, pk):
        from changes.services import NotAllowed

        from .redrive import NothingToRedrive, redrive_create

        queue = _queue(request, pk)
        if not user_can(request.user, SUBMIT, queue.environment_id):
            raise PermissionDenied(f"Your role in {queue.environment.name} does not include submitting changes.")
        try:
            change = redrive_create(queue, author=request.user)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except NothingToRedrive as exc:
            messages.error(request, str(exc))
            return redirect("dead_letters:peek", queue.pk)
        count = change.items.count()
        what = f"{count} message{'s' if count != 1 else ''}"
        if change.state == "submitted":
            messages.success(request, f"Change #{change.pk} to redrive {what} is waiting for approval in "
                                      f"{queue.environment.name}.")
        else:
            messages.success(request, f"Change #{change.pk} redrives {what}: a worker sends each to the target and "
                                      "deletes it from the queue once it was delivered.")
        return redirect(change)
