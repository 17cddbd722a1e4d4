"""Thin Celery wrappers around changes.services (ids in, services do the work)."""
from celery import shared_task

from . import services


@shared_task(bind=True, name="changes.tasks.change_request_apply", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(services.RetryLater,), retry_backoff=2, retry_backoff_max=60, retry_jitter=True,
             max_retries=5, ignore_result=True)
def change_request_apply(self, change_id: int):
    """Apply an approved change. Throttling and unreachable endpoints are retried with back-off."""
    services.change_request_apply(change_id, task_id=self.request.id or "",
                                  final_attempt=self.request.retries >= self.max_retries)
