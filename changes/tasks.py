"""Thin Celery wrappers around changes.services (ids in, services do the work)."""
import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(bind=True, name="changes.tasks.change_request_apply", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(services.RetryLater,), retry_backoff=2, retry_backoff_max=60, retry_jitter=True,
             max_retries=5, ignore_result=True)
def change_request_apply(self, change_id: int):
    """Apply an approved change. Throttling and unreachable endpoints are retried with back-off.

    Safe to receive twice (redelivery, or a re-send by the recovery sweep): only an Approved change,
    or one whose worker's lease expired, is claimed."""
    try:
        services.change_request_apply(change_id, task_id=self.request.id or "",
                                      final_attempt=self.request.retries >= self.max_retries)
    except services.ObjectBusy as exc:
        log.info("%s", exc)  # it stays Approved; the apply in progress sends it when it ends


@shared_task(name="changes.tasks.changes_recover", ignore_result=True)
def changes_recover():
    """Beat, every APPLY_SWEEP_SECONDS: recover lost workers' changes, re-send changes no worker took."""
    return services.changes_recover()
