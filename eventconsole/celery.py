"""The Celery app. Settings come from Django settings under the CELERY_ namespace."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventconsole.settings")

# DjangoTask adds delay_on_commit(): enqueue only once the transaction that wrote the change commits.
app = Celery("eventconsole", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
