"""Thin Celery wrappers: poll schedules per environment (beat fans out to every environment)."""
from celery import shared_task

from environments.models import Environment

from .poll import schedules_poll as schedules_poll_service


@shared_task(name="schedules.tasks.schedules_poll", acks_late=True, ignore_result=True)
def schedules_poll(environment_id: int):
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        schedules_poll_service(environment)


@shared_task(name="schedules.tasks.schedules_poll_all", ignore_result=True)
def schedules_poll_all():
    for environment_id in Environment.objects.values_list("pk", flat=True):
        schedules_poll.delay(environment_id)
