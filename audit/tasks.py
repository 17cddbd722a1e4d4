"""Periodic audit bookkeeping (thin: the work is in audit.checkpoints)."""
from celery import shared_task

from .checkpoints import audit_checkpoint_write


@shared_task(name="audit.tasks.audit_checkpoint", acks_late=True, ignore_result=True)
def audit_checkpoint():
    """Beat sends this every AUDIT_CHECKPOINT_INTERVAL_SECONDS: a signed checkpoint outside the database."""
    audit_checkpoint_write()
