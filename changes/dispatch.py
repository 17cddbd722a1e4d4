"""Sending an approved change to the workers, by task name: the services never import the tasks.

The database, not the broker, says what is due: a send that fails (broker down) leaves the change
Approved, "waiting for a worker", and the recovery sweep (changes.apply.changes_recover) sends it again.
"""
from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import ChangeRequest

log = logging.getLogger(__name__)

APPLY_TASK = "changes.tasks.change_request_apply"  # the task's registered name (changes.tasks)


def send_apply(change_id: int) -> bool:
    """Send the apply task now; False (and a warning) when the broker cannot be reached."""
    try:
        # A signature by name: the task registered under it (so the app's settings, eager runs in
        # tests included, apply as to any task), without importing changes.tasks here.
        current_app.signature(APPLY_TASK, args=[change_id]).apply_async()
    except (OperationalError, OSError) as exc:
        log.warning("Change #%s could not be sent to the workers (%s); the recovery sweep will send it again",
                    change_id, exc)
        return False
    ChangeRequest.objects.filter(pk=change_id).update(dispatched_at=timezone.now(),
                                                      dispatch_count=F("dispatch_count") + 1)
    return True


def enqueue_apply(change: ChangeRequest) -> None:
    """Send the apply task once the transaction that approved the change commits."""
    change_id = change.pk
    transaction.on_commit(lambda: send_apply(change_id))
