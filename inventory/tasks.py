"""Thin Celery wrappers around discovery (inventory.discovery): one environment, and every one (beat)."""
import logging

from celery import shared_task

from environments.models import Environment

from . import discovery
from .models import DiscoveryRun

log = logging.getLogger(__name__)


@shared_task(name="inventory.tasks.environment_discover", acks_late=True, ignore_result=True)
def environment_discover(environment_id: int, run_id: int | None = None):
    """Discover one environment, in the run `run_id` (made by Discover now or beat) or a new one.

    Safe to receive twice: a run already claimed by a worker that makes progress is left to it; a run
    whose worker died is marked Interrupted and a new one does the work (discovery.environment_discover)."""
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is None:
        return
    run = DiscoveryRun.objects.filter(pk=run_id, environment=environment).first() if run_id else None
    if run_id and run is None:
        return
    try:
        discovery.environment_discover(environment, run=run)
    except discovery.DiscoveryBusy as exc:
        log.info("%s", exc)


@shared_task(name="inventory.tasks.discover_all", ignore_result=True)
def discover_all():
    """Beat, every DISCOVERY_INTERVAL_SECONDS: mark the runs whose worker died Interrupted, then one
    discovery per environment (an environment whose discovery is still running is skipped)."""
    discovery.runs_mark_interrupted()
    for environment in Environment.objects.order_by("pk"):
        try:
            run = discovery.run_start(environment)
        except discovery.DiscoveryBusy:
            continue
        environment_discover.delay(environment.pk, run.pk)
