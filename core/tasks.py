"""Periodic bookkeeping tasks."""
import socket

from celery import shared_task

from .services import heartbeat_record


@shared_task(name="core.tasks.heartbeat", acks_late=True, ignore_result=True)
def heartbeat():
    """Beat sends this every HEARTBEAT_INTERVAL_SECONDS; the worker that runs it records the time."""
    heartbeat_record(worker=socket.gethostname())
