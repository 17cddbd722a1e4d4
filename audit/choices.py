from django.db import models


class AuditAction(models.TextChoices):
    DRAFT_SAVED = "draft.saved", "Draft step saved"
    DRAFT_DISCARDED = "draft.discarded", "Draft discarded"
    SUBMITTED = "change.submitted", "Change submitted"
    APPROVED = "change.approved", "Change approved"
    REJECTED = "change.rejected", "Change rejected"
    WITHDRAWN = "change.withdrawn", "Change withdrawn"
    STALE = "change.stale", "Change became stale"
    APPLY_STARTED = "apply.started", "Apply started"
    API_CALL = "apply.api_call", "AWS API call"
    APPLIED = "apply.succeeded", "Applied"
    APPLY_FAILED = "apply.failed", "Apply failed"
    COMMENTED = "change.commented", "Comment added"
    DRIFT_DETECTED = "drift.detected", "Drift detected"
    DRIFT_CLEARED = "drift.cleared", "Drift cleared"
    ADOPTED = "object.adopted", "Adopted"  # an object found in AWS became managed (its spec: the desired spec)
    RELEASED = "object.released", "Released"  # EventConsole stopped managing it; AWS untouched
    BATCH_APPLIED = "batch.applied", "Batch applied"  # the summary of a batch change (adopt, re-apply, ...)
    DISCOVERED = "discovery.finished", "Discovery finished"
    SIGNED_IN = "auth.signed_in", "Signed in"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    SIGNED_OUT = "auth.signed_out", "Signed out"
    USER_CHANGED = "user.changed", "User changed"
    GROUP_CHANGED = "group.changed", "Group changed"
    ENVIRONMENT_CHANGED = "environment.changed", "Environment changed"
    ROLE_GRANT_CHANGED = "role_grant.changed", "Role grant changed"
    # The live tail's temporary rule and queue (real AWS resources), and test events sent with PutEvents.
    TAIL_CREATED = "tail.created", "Live tail resources created"
    TAIL_REMOVED = "tail.removed", "Live tail resources removed"
    TEST_EVENT_SENT = "test_event.sent", "Test event sent"
    SCHEDULE_RUN = "schedule.run", "Schedule run"  # a schedule's target invoked: Run now, or fired by the emulator
    # the local emulator deleted a schedule after its last run, as Scheduler does (ActionAfterCompletion DELETE)
    SCHEDULE_COMPLETED = "schedule.completed", "Schedule completed"
    METRICS_REFRESHED = "metrics.refresh", "Metrics refresh requested"


class ObjectType(models.TextChoices):
    RULE = "rule", "Rule"
    SCHEDULE = "schedule", "Schedule"
    CHANGE = "change", "Change request"
    ENVIRONMENT = "environment", "Environment"
    USER = "user", "User"
    GROUP = "group", "Group"
    ROLE_GRANT = "role_grant", "Role grant"
    TAIL = "tail", "Live tail"
