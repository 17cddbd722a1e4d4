"""Live tail sessions: open (a worker creates the rule and queue), read, stop, expire, and the sweep.

The web only writes rows and sends tasks; the workers make the AWS calls that create and remove
(tail.tasks). Each creation and removal is one audit event, written with the row's new state.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.permissions import SUBMIT, user_can
from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from environments import aws
from environments import ratelimit
from environments.models import Environment

from . import resources
from .models import LIVE_STATES, TailSession, TailState

log = logging.getLogger(__name__)

AWS_ERRORS = (ClientError, BotoCoreError, ratelimit.RateLimitExceeded, ratelimit.RateLimitUnavailable)


OPEN_TASK = "tail.tasks.tail_open"  # the tasks' registered names (tail.tasks): the services never import the tasks
CLOSE_TASK = "tail.tasks.tail_close"


def _send(task: str, session_id: int) -> None:
    """Send the task named `task` once the transaction commits; a broker that cannot be reached is said on the
    session (a Starting one fails; a Closing one is left to the sweep at its time limit)."""
    def send():
        try:
            current_app.signature(task, args=[session_id]).apply_async()
        except (OperationalError, OSError) as exc:
            log.warning("Live tail #%s: the workers could not be reached (%s)", session_id, exc)
            TailSession.objects.filter(pk=session_id, state=TailState.STARTING).update(
                state=TailState.FAILED, closed_at=timezone.now(),
                error="The workers could not be reached, so nothing was created in AWS. Try again later.")
            TailSession.objects.filter(pk=session_id, state=TailState.CLOSING).update(
                error="The workers could not be reached; the sweep removes this tail at its time limit.")
    transaction.on_commit(send)


class TailRefused(Exception):
    """The person may not open a tail here, or tailing is turned off; the message says why."""


def tail_refusal(user, environment: Environment) -> str:
    """"" when `user` may open a live tail in `environment`, else why not (in words)."""
    if not user_can(user, SUBMIT, environment.pk):
        return f"You may not open a live tail in {environment.name}: it creates AWS resources there."
    if not environment.tailing_allowed:
        return (f"Live tails are turned off in {environment.name}: an admin does not allow EventConsole to create "
                "temporary rules and queues there.")
    return ""


def tail_start(*, user, environment: Environment, bus: str, pattern: str, rule=None) -> TailSession:
    """A new session (Starting); its worker task is sent once this commits. Raises TailRefused."""
    refusal = tail_refusal(user, environment)
    if refusal:
        raise TailRefused(refusal)
    with transaction.atomic():
        session = TailSession.objects.create(
            environment=environment, event_bus_name=bus, rule=rule, pattern=pattern, created_by=user,
            expires_at=timezone.now() + timedelta(seconds=settings.TAIL_TIME_LIMIT_SECONDS))
        session.name = resources.session_name(session.pk, secrets.token_hex(3))
        session.save(update_fields=["name"])
        _send(OPEN_TASK, session.pk)
    return session


def tail_stop(session: TailSession, *, reason: str = "stopped") -> bool:
    """Ask for the session's removal (the page closed, Stop, expiry). False when it was not live."""
    with transaction.atomic():
        locked = TailSession.objects.select_for_update().get(pk=session.pk)
        if locked.state not in LIVE_STATES:
            return False
        locked.state, locked.closed_reason = TailState.CLOSING, reason
        locked.save(update_fields=["state", "closed_reason"])
        # A Starting one too: its opener, if still at work, sees it is no longer Starting and closes it again.
        _send(CLOSE_TASK, locked.pk)
    return True


def _record_removed(session: TailSession, removed: list[str], *, state: str, error: str = "") -> None:
    with transaction.atomic():
        TailSession.objects.filter(pk=session.pk).update(state=state, closed_at=timezone.now(),
                                                        closed_reason=session.closed_reason,
                                                        **({"error": error} if error else {}))
        audit_record(action=AuditAction.TAIL_REMOVED, object_type=ObjectType.TAIL, object_id=session.pk,
                     object_repr=session.name, environment=session.environment, on_behalf_of=session.created_by,
                     message=(f"Removed live tail {session.name} ({session.closed_reason or 'closed'}): "
                              + (", ".join(removed) if removed else "nothing was left in AWS")),
                     data={"removed": removed, "reason": session.closed_reason, "bus": session.event_bus_name})


def tail_open(session_id: int) -> None:
    """Worker: create the rule, queue, policy and target of a Starting session, then mark it Listening."""
    session = TailSession.objects.select_related("environment", "created_by").filter(pk=session_id).first()
    if session is None or session.state != TailState.STARTING:
        return

    def progress(done: resources.Created) -> None:
        TailSession.objects.filter(pk=session.pk).update(rule_arn=done.rule_arn, queue_url=done.queue_url,
                                                         queue_arn=done.queue_arn)

    try:
        done = resources.create(session, progress=progress)
    except AWS_ERRORS as exc:
        error = aws.describe_error(exc)
        session.closed_reason = "failed to start"
        try:
            removed = resources.remove(session.environment, session.name, session.event_bus_name)
        except AWS_ERRORS as again:  # the sweep removes it past its expiry
            log.warning("Live tail %s: removal after a failed start failed too: %s", session.name, again)
            removed = []
        _record_removed(session, removed, state=TailState.FAILED, error=error)
        return
    with transaction.atomic():
        locked = TailSession.objects.select_for_update().get(pk=session.pk)
        locked.rule_arn, locked.queue_url, locked.queue_arn = done.rule_arn, done.queue_url, done.queue_arn
        stopped_meanwhile = locked.state != TailState.STARTING
        locked.state = TailState.CLOSING if stopped_meanwhile else TailState.OPEN
        locked.save(update_fields=["rule_arn", "queue_url", "queue_arn", "state"])
        audit_record(action=AuditAction.TAIL_CREATED, object_type=ObjectType.TAIL, object_id=session.pk,
                     object_repr=session.name, environment=session.environment, on_behalf_of=session.created_by,
                     message=(f"Created live tail {session.name} on bus {session.event_bus_name}: a temporary rule "
                              f"and SQS queue, to be removed by {session.expires_at:%Y-%m-%d %H:%M:%S} UTC"),
                     data={"rule_arn": done.rule_arn, "queue_url": done.queue_url, "queue_arn": done.queue_arn,
                           "pattern": session.pattern, "bus": session.event_bus_name,
                           "expires": session.expires_at.isoformat(), "calls": done.calls})
    if stopped_meanwhile:
        tail_close(session.pk)


# How long one worker holds a Closing session's removal before another may try again (it died, or AWS failed).
CLOSE_CLAIM = timedelta(minutes=2)


def tail_close(session_id: int) -> None:
    """Worker: remove a Closing session's rule and queue, then mark it Closed. One worker at a time: the stop
    request, the expiry and each beat's sweep may all ask, and only the one that claims the session (its
    `closed_at` set while it is still Closing) removes and records; a claim older than CLOSE_CLAIM may be
    taken over."""
    now = timezone.now()
    claimed = (TailSession.objects.filter(pk=session_id, state=TailState.CLOSING)
               .filter(Q(closed_at__isnull=True) | Q(closed_at__lt=now - CLOSE_CLAIM)).update(closed_at=now))
    if not claimed:
        return
    session = TailSession.objects.select_related("environment", "created_by").get(pk=session_id)
    try:
        removed = resources.remove(session.environment, session.name, session.event_bus_name)
    except AWS_ERRORS as exc:  # left Closing: the sweep tries again past its expiry
        log.warning("Live tail %s could not be removed now: %s", session.name, aws.describe_error(exc))
        TailSession.objects.filter(pk=session.pk).update(error=aws.describe_error(exc))
        return
    _record_removed(session, removed, state=TailState.CLOSED)


def tail_sweep(now=None) -> dict[str, int]:
    """Beat: close the sessions past their expiry (and Closing ones whose removal failed), then remove what any
    environment, emulated or real, still has of ours past its expiry. {environment name: items removed}."""
    now = now or timezone.now()
    for session in TailSession.objects.filter(state__in=[*LIVE_STATES, TailState.CLOSING], expires_at__lte=now):
        with transaction.atomic():
            locked = TailSession.objects.select_for_update().get(pk=session.pk)
            if locked.state in LIVE_STATES:
                locked.state, locked.closed_reason = TailState.CLOSING, "time limit reached"
                locked.save(update_fields=["state", "closed_reason"])
        tail_close(session.pk)
    report = {}
    for environment in Environment.objects.order_by("pk"):
        try:
            removed = resources.sweep(environment, now)
        except AWS_ERRORS as exc:
            log.warning("Live tail sweep of %s failed: %s", environment.name, aws.describe_error(exc))
            continue
        report[environment.name] = len(removed)
        for name, what in removed:
            audit_record(action=AuditAction.TAIL_REMOVED, object_type=ObjectType.TAIL, object_repr=name,
                         environment=environment, message=f"The sweep removed {what}: left behind past its expiry",
                         data={"removed": [what], "reason": "swept"})
    return report


def tail_read(session: TailSession) -> list[dict]:
    """What arrived since the last read (the page's poll); counts it on the session."""
    events = resources.read(session)
    if events:
        TailSession.objects.filter(pk=session.pk).update(received=F("received") + len(events))
    return events
