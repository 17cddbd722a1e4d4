from django.db import models


class ChangeKind(models.TextChoices):
    """ChangeRequest.kind: a registered kind's name (changes.kinds). The values are the schema, so a
    new kind adds its choice here with a migration; the engine finds everything else in the registry."""

    RULE = "rule", "Rule"
    SCHEDULE = "schedule", "Schedule"


class ChangeAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    ENABLE = "enable", "Enable"
    DISABLE = "disable", "Disable"
    RESTORE = "restore", "Restore"


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    APPLYING = "applying", "Applying"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    STALE = "stale", "Stale"


STATE_COLORS = {
    ChangeState.DRAFT: "secondary", ChangeState.SUBMITTED: "info", ChangeState.APPROVED: "primary",
    ChangeState.APPLYING: "warning", ChangeState.APPLIED: "success", ChangeState.FAILED: "danger",
    ChangeState.REJECTED: "dark", ChangeState.WITHDRAWN: "light", ChangeState.STALE: "warning",
}
# A change still on its way to AWS: it blocks other changes to the same object.
OPEN_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED, ChangeState.APPLYING,
               ChangeState.FAILED)
PENDING_STATES = (ChangeState.SUBMITTED, ChangeState.APPROVED, ChangeState.APPLYING, ChangeState.FAILED)
TERMINAL_STATES = (ChangeState.APPLIED, ChangeState.REJECTED, ChangeState.WITHDRAWN, ChangeState.STALE)


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"


class AttemptStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    RETRYING = "retrying", "Retrying"


class SyncStatus(models.TextChoices):
    """How the live object in AWS compares with the desired spec (set by apply and poll)."""

    PENDING = "pending", "Not yet in AWS"
    IN_SYNC = "in_sync", "In sync"
    DRIFTED = "drifted", "Drifted"
    MISSING = "missing", "Missing in AWS"
    FAILED = "failed", "Apply failed"
    COMPLETED = "completed", "Completed"  # a one-time schedule AWS deleted after its run (ActionAfterCompletion DELETE)


SYNC_COLORS = {
    SyncStatus.PENDING: "secondary", SyncStatus.IN_SYNC: "success", SyncStatus.DRIFTED: "warning",
    SyncStatus.MISSING: "danger", SyncStatus.FAILED: "danger", SyncStatus.COMPLETED: "info",
}
