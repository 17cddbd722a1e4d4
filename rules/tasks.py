"""Thin Celery wrappers: poll rules per environment (beat fans out to every environment)."""
from celery import shared_task

from environments.models import Environment

from .poll import rules_poll as rules_poll_service


@shared_task(name="rules.tasks.rules_poll", acks_late=True, ignore_result=True)
def rules_poll(environment_id: int):
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        rules_poll_service(environment)


@shared_task(name="rules.tasks.rules_poll_all", ignore_result=True)
def rules_poll_all():
    for environment_id in Environment.objects.values_list("pk", flat=True):
        rules_poll.delay(environment_id)
