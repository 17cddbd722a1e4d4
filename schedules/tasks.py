"""Thin Celery wrapper: the local emulator fires the schedules whose time has come (schedules.invocations)."""
import logging

from celery import shared_task

from . import invocations

log = logging.getLogger(__name__)


@shared_task(name="schedules.tasks.schedules_fire_due", ignore_result=True)
def schedules_fire_due():
    """Beat, every SCHEDULES_EMULATOR_FIRE_SECONDS in local mode: fire the emulated environments' due schedules.
    Two beats (or a beat and a slow previous run) never fire one scheduled time twice."""
    report = invocations.schedules_fire_due()
    if report.fired or report.skipped:
        log.info("Schedules fired in the emulator: %s", report)
    return None
