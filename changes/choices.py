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
    # Changes to what EventConsole manages, for one object or many at once (changes.batch): each object
    # is a ChangeItem, applied and reported one by one.
    ADOPT = "adopt", "Adopt"  # start managing what AWS has (no AWS call)
    RELEASE = "release", "Release"  # stop managing, leave AWS as it is (no AWS call)
    REAPPLY = "reapply", "Re-apply desired"  # make AWS match the desired spec again
    ACCEPT = "accept", "Accept what AWS has"  # make what AWS has the desired spec (no AWS call)
    # Send a dead-letter queue's messages to their target again (dead_letters.redrive): each message is a
    # ChangeItem, deleted from the queue only once its redelivery succeeded.
    REDRIVE = "redrive", "Redrive"


# The actions whose change covers objects listed as ChangeItems rather than one object's spec.
BATCH_ACTIONS = (ChangeAction.ADOPT, ChangeAction.RELEASE, ChangeAction.REAPPLY, ChangeAction.ACCEPT)
# Every action whose work is ChangeItems applied one by one: the batches above (an item is an object) and
# those an app above registers its own apply for (changes.batch.register_item_applier; an item is not an
# object, e.g. a dead-letter message).
ITEM_ACTIONS = BATCH_ACTIONS + (ChangeAction.REDRIVE,)


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
    COMPLETED = "completed", "Completed"  # a schedule AWS deleted after its last run (ActionAfterCompletion DELETE)
    # Found in AWS by discovery (inventory) and not managed by EventConsole: live_spec is what AWS has,
    # desired_spec is None. Adopting makes it managed; releasing makes a managed object this again.
    UNMANAGED = "unmanaged", "Unmanaged"


SYNC_COLORS = {
    SyncStatus.PENDING: "secondary", SyncStatus.IN_SYNC: "success", SyncStatus.DRIFTED: "warning",
    SyncStatus.MISSING: "danger", SyncStatus.FAILED: "danger", SyncStatus.COMPLETED: "info",
    SyncStatus.UNMANAGED: "light",
}


class ItemState(models.TextChoices):
    """One object's part in a batch change (ChangeItem)."""

    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"

