"""Thin Celery wrappers around the fetch (metrics.fetch): one environment, and every one (beat)."""
import logging

from celery import shared_task

from environments.models import Environment

from . import fetch
from .models import Fetch, FetchState

log = logging.getLogger(__name__)


@shared_task(name="metrics.tasks.metrics_fetch", acks_late=True, ignore_result=True)
def metrics_fetch(environment_id: int, fetch_id: int | None = None):
    """Fetch one environment's figures, in the Fetch `fetch_id` (made by Refresh metrics) or a new one.
    A fetch already finished (the task delivered twice) is not run again."""
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is None:
        return
    run = None
    if fetch_id is not None:
        run = Fetch.objects.filter(pk=fetch_id, environment=environment, state=FetchState.RUNNING).first()
        if run is None:
            return
    try:
        fetch.environment_fetch(environment, fetch=run)
    except fetch.FetchBusy as exc:
        log.info("%s", exc)


@shared_task(name="metrics.tasks.metrics_fetch_all", ignore_result=True)
def metrics_fetch_all():
    """Beat, every METRICS_FETCH_INTERVAL_SECONDS: one fetch per environment (one still running is skipped)."""
    for environment in Environment.objects.order_by("pk"):
        try:
            run = fetch.fetch_start(environment)
        except fetch.FetchBusy:
            continue
        metrics_fetch.delay(environment.pk, run.pk)
