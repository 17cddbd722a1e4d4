"""Thin Celery wrappers: read the dead-letter queues' depth of one environment (on demand) or of every
one (beat, every DEAD_LETTER_DEPTH_INTERVAL_SECONDS)."""
import logging

from celery import shared_task

from environments.models import Environment

from . import depth

log = logging.getLogger(__name__)


@shared_task(name="dead_letters.tasks.environment_depth_fetch", ignore_result=True)
def environment_depth_fetch(environment_id: int):
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        result = depth.environment_depth_fetch(environment)
        log.info("Dead-letter queues of %s: %s", environment.name, result)


@shared_task(name="dead_letters.tasks.depth_fetch_all", ignore_result=True)
def depth_fetch_all():
    for environment_id in Environment.objects.order_by("pk").values_list("pk", flat=True):
        environment_depth_fetch.delay(environment_id)
