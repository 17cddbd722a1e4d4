"""Thin Celery wrappers around the change engine (ids in, the engine does the work): apply, the
recovery sweep, and the poll of every kind's managed objects."""
import logging
import signal

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_process_init

from environments.models import Environment

from . import apply, kinds, polling
from .dispatch import APPLY_TASK

log = logging.getLogger(__name__)


@shared_task(bind=True, name=APPLY_TASK, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(apply.RetryLater,), retry_backoff=2, retry_backoff_max=60, retry_jitter=True,
             max_retries=5, ignore_result=True)
def change_request_apply(self, change_id: int):
    """Apply an approved change. Throttling and unreachable endpoints are retried with back-off.

    Safe to receive twice (redelivery, or a re-send by the recovery sweep): only an Approved change,
    or one whose worker's lease expired, is claimed."""
    try:
        apply.change_request_apply(change_id, task_id=self.request.id or "",
                                      final_attempt=self.request.retries >= self.max_retries)
    except apply.ObjectBusy as exc:
        log.info("%s", exc)  # it stays Approved; the apply in progress sends it when it ends


@shared_task(name="changes.tasks.changes_recover", ignore_result=True)
def changes_recover():
    """Beat, every APPLY_SWEEP_SECONDS: recover lost workers' changes, re-send changes no worker took."""
    return apply.changes_recover()


@shared_task(name="changes.tasks.objects_poll", acks_late=True, ignore_result=True)
def objects_poll(environment_id: int, kind: str):
    """Poll the managed objects of one kind in one environment (changes.polling)."""
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        polling.objects_poll(environment, kind)


@shared_task(name="changes.tasks.objects_poll_all", ignore_result=True)
def objects_poll_all():
    """Beat, every POLL_INTERVAL_SECONDS: one poll task per environment and kind."""
    names = [kind.name for kind in kinds.all_kinds()]
    for environment_id in Environment.objects.values_list("pk", flat=True):
        for name in names:
            objects_poll.delay(environment_id, name)


# A pool process told to stop (SIGTERM: e.g. a whole process group or container being stopped)
# exits at once by default, leaving its change Applying until the lease expires. While it applies,
# it notes the signal instead: the apply hands its change back before its next AWS call and the
# task ends; the main process, in its warm shutdown, then stops the pool. (A warm shutdown that
# signals only the main process lets pool processes finish their tasks: the apply completes.)
_previous_handlers: dict[str, object] = {}
_in_pool_process = False


@worker_process_init.connect
def _mark_pool_process(**kwargs):
    global _in_pool_process
    _in_pool_process = True


def _note_stop(signum, frame):
    apply.stop_requested.set()


@task_prerun.connect
def _hand_back_on_stop(sender=None, task_id=None, **kwargs):
    if _in_pool_process and getattr(sender, "name", "") == APPLY_TASK:
        apply.stop_requested.clear()
        _previous_handlers[task_id] = signal.signal(signal.SIGTERM, _note_stop)


@task_postrun.connect
def _stop_if_asked(sender=None, task_id=None, **kwargs):
    previous = _previous_handlers.pop(task_id, None)
    if previous is None:
        return
    signal.signal(signal.SIGTERM, previous)
    apply.stop_requested.clear()
