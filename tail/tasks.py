"""Thin Celery wrappers around the live tail's services (tail.services)."""
from celery import shared_task

from . import services


@shared_task(name="tail.tasks.tail_open", acks_late=True, ignore_result=True)
def tail_open(session_id: int):
    """Create a Starting tail's temporary rule and queue (a second delivery finds it no longer Starting)."""
    services.tail_open(session_id)


@shared_task(name="tail.tasks.tail_close", acks_late=True, ignore_result=True)
def tail_close(session_id: int):
    """Remove a Closing tail's temporary rule and queue."""
    services.tail_close(session_id)


@shared_task(name="tail.tasks.tail_sweep", ignore_result=True)
def tail_sweep():
    """Beat, every TAIL_SWEEP_SECONDS: close expired tails, remove what is left behind in every environment."""
    services.tail_sweep()
