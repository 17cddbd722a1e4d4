"""Change requests: the only way anything reaches AWS. Also the drafts of the create/edit flows."""
from django.conf import settings
from django.db import models
from django.urls import reverse

from . import kinds
from .choices import (
    AttemptStatus, ChangeAction, ChangeKind, ChangeState, ItemState, ReviewDecision, STATE_COLORS, SYNC_COLORS,
    SyncStatus,
)


class ManagedObjectQuerySet(models.QuerySet):
    def managed(self):
        """The objects EventConsole manages (not those discovery found and nobody adopted)."""
        return self.exclude(sync_status=SyncStatus.UNMANAGED)

    def unmanaged(self):
        return self.filter(sync_status=SyncStatus.UNMANAGED)


class ManagedObject(models.Model):
    """What rules and schedules share: the desired spec, the live snapshot and how they compare.

    A row is either managed (its desired spec is what EventConsole applies) or, with sync_status
    UNMANAGED, something discovery (inventory) found in AWS that nobody has adopted: its live spec is
    what AWS has and its desired spec is None.
    """

    environment = models.ForeignKey("environments.Environment", verbose_name="environment",
                                    on_delete=models.PROTECT, related_name="%(class)ss")
    desired_spec = models.JSONField(verbose_name="desired spec", null=True, blank=True,
                                    help_text="The spec of the last applied change (None until the first apply).")
    version = models.PositiveIntegerField(verbose_name="version", default=0,
                                          help_text="Counts applied changes; a change records the version it started from.")
    live_spec = models.JSONField(verbose_name="live state", null=True, blank=True,
                                 help_text="What AWS last told us, in the spec's shape (None: not found).")
    sync_status = models.CharField(verbose_name="sync status", max_length=16, choices=SyncStatus.choices,
                                   default=SyncStatus.PENDING, db_index=True)
    drift = models.JSONField(verbose_name="drift", default=list, blank=True,
                             help_text="Field-by-field difference between desired and live.")
    last_polled = models.DateTimeField(verbose_name="last polled", null=True, blank=True)
    last_applied = models.DateTimeField(verbose_name="last applied", null=True, blank=True)
    created = models.DateTimeField(verbose_name="created", auto_now_add=True)
    last_updated = models.DateTimeField(verbose_name="last updated", auto_now=True)
    # Who else owns it (set by discovery). An AWS service's own rule (ListRules' ManagedBy) is read-only
    # and never adopted; a CloudFormation stack's object may be adopted once someone confirms that
    # edits here will drift the stack.
    owner_service = models.CharField(verbose_name="managed by (AWS service)", max_length=256, blank=True)
    stack_name = models.CharField(verbose_name="CloudFormation stack", max_length=256, blank=True)
    origin = models.JSONField(verbose_name="origin", default=dict, blank=True,
                              help_text="Where it came from: discovery run, stack id and logical id, adoption.")
    first_seen = models.DateTimeField(verbose_name="first seen by discovery", null=True, blank=True)
    last_seen = models.DateTimeField(verbose_name="last seen by discovery", null=True, blank=True, db_index=True)
    # Denormalised for the inventory search across environments (filled by the kind's denormalise()
    # from the desired spec, or the live one for an unmanaged object), lower-case, one value a line.
    search_pattern = models.TextField(verbose_name="pattern or expression", blank=True)
    search_targets = models.TextField(verbose_name="target ARNs", blank=True)
    search_roles = models.TextField(verbose_name="role ARNs", blank=True)
    search_tags = models.TextField(verbose_name="tags", blank=True)

    objects = ManagedObjectQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_managed(self) -> bool:
        return self.sync_status != SyncStatus.UNMANAGED

    def get_sync_status_color(self):
        return SYNC_COLORS.get(self.sync_status, "secondary")


class ChangeRequest(models.Model):
    kind = models.CharField(verbose_name="kind", max_length=16, choices=ChangeKind.choices)
    action = models.CharField(verbose_name="action", max_length=16, choices=ChangeAction.choices)
    environment = models.ForeignKey("environments.Environment", verbose_name="environment",
                                    on_delete=models.PROTECT, related_name="changes")
    # One foreign key per kind (named by Kind.change_field), with its "one apply per object" constraint
    # and its place in the "one object" check below: the schema, so a new kind adds them with a
    # migration, as it adds its ChangeKind choice (docs/adding-a-kind.md).
    rule = models.ForeignKey("rules.Rule", verbose_name="rule", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="changes")
    schedule = models.ForeignKey("schedules.Schedule", verbose_name="schedule", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="changes")
    object_name = models.CharField(verbose_name="object", max_length=320, blank=True,
                                   help_text="bus/rule or group/schedule: kept when the object is gone")
    spec = models.JSONField(verbose_name="desired spec", default=dict, blank=True,
                            help_text="The full desired spec in the AWS API's own shape.")
    base_spec = models.JSONField(verbose_name="based on", null=True, blank=True,
                                 help_text="The object's desired spec when this change was started.")
    base_version = models.PositiveIntegerField(verbose_name="based on version", null=True, blank=True)
    wizard = models.JSONField(verbose_name="form inputs", default=dict, blank=True,
                              help_text="What was typed at each step, kept even when it does not validate yet.")
    plan = models.JSONField(verbose_name="plan", default=list, blank=True,
                            help_text="The AWS API calls computed at submission.")
    state = models.CharField(verbose_name="state", max_length=16, choices=ChangeState.choices,
                             default=ChangeState.DRAFT, db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="author", on_delete=models.PROTECT,
                               related_name="changes")
    created = models.DateTimeField(verbose_name="created", auto_now_add=True)
    last_updated = models.DateTimeField(verbose_name="last updated", auto_now=True)
    submitted_at = models.DateTimeField(verbose_name="submitted", null=True, blank=True)
    decided_at = models.DateTimeField(verbose_name="decided", null=True, blank=True)
    applied_at = models.DateTimeField(verbose_name="applied", null=True, blank=True)
    attempts = models.PositiveIntegerField(verbose_name="apply attempts", default=0)
    last_error = models.TextField(verbose_name="last error", blank=True)
    rebased_from = models.ForeignKey("self", verbose_name="rebased from", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+")
    # Exactly-once apply. The database, not the broker, says what work is due: an Approved change is
    # (re)sent to the workers until one claims it; the claim is a lease its worker keeps renewing.
    lease_owner = models.CharField(verbose_name="lease owner", max_length=200, blank=True,
                                   help_text="The worker (host, process, task) applying this change now.")
    lease_expires = models.DateTimeField(verbose_name="lease expires", null=True, blank=True,
                                         help_text="Past this time without renewal, the worker is taken as lost.")
    dispatched_at = models.DateTimeField(verbose_name="last sent to the workers", null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(verbose_name="times sent to the workers", default=0)

    class Meta:
        ordering = ("-id",)
        verbose_name = "change request"
        permissions = [
            ("submit_changerequest", "Can edit drafts and submit changes"),
            ("review_changerequest", "Can approve or reject changes"),
        ]
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_one_object",
                condition=~(models.Q(rule__isnull=False) & models.Q(schedule__isnull=False)),
            ),
            # Applies to one object are serialised: at most one change per rule or schedule is Applying.
            models.UniqueConstraint(fields=["rule"], condition=models.Q(state="applying"),
                                    name="%(app_label)s_%(class)s_one_apply_per_rule"),
            models.UniqueConstraint(fields=["schedule"], condition=models.Q(state="applying"),
                                    name="%(app_label)s_%(class)s_one_apply_per_schedule"),
        ]
        indexes = [models.Index(fields=["state", "-id"], name="changes_state_idx"),
                   # a person's open changes (the dashboard): the few in these states, not all they ever made
                   models.Index(fields=["author", "state"], name="changes_author_state_idx")]

    def __str__(self):
        return f"#{self.pk} {self.get_action_display()} {self.get_kind_display().lower()} {self.object_name}"

    def get_absolute_url(self):
        return reverse("changes:change_detail", args=[self.pk])

    def get_state_color(self):
        return STATE_COLORS.get(self.state, "secondary")

    @property
    def target(self):
        """The object this change is about, through its kind's foreign key (None for a create that
        was never submitted, or an object since deleted)."""
        return getattr(self, kinds.get(self.kind).change_field)


class Review(models.Model):
    change = models.ForeignKey(ChangeRequest, verbose_name="change", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="reviewer", on_delete=models.PROTECT,
                                 related_name="reviews")
    decision = models.CharField(verbose_name="decision", max_length=16, choices=ReviewDecision.choices)
    reason = models.TextField(verbose_name="reason", blank=True)
    created = models.DateTimeField(verbose_name="time", auto_now_add=True)

    class Meta:
        ordering = ("created",)
        constraints = [
            # One person's approval counts once.
            models.UniqueConstraint(fields=["change", "reviewer"], name="%(app_label)s_%(class)s_once_per_reviewer"),
        ]


class Comment(models.Model):
    change = models.ForeignKey(ChangeRequest, verbose_name="change", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="author", on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField(verbose_name="comment", max_length=4000)
    created = models.DateTimeField(verbose_name="time", auto_now_add=True)

    class Meta:
        ordering = ("created",)


class ApplyAttempt(models.Model):
    """One run of the apply task for a change: every API call it made and how it ended."""

    change = models.ForeignKey(ChangeRequest, verbose_name="change", on_delete=models.CASCADE, related_name="apply_attempts")
    number = models.PositiveIntegerField(verbose_name="attempt")
    task_id = models.CharField(verbose_name="task id", max_length=64, blank=True)
    status = models.CharField(verbose_name="status", max_length=16, choices=AttemptStatus.choices,
                              default=AttemptStatus.RUNNING)
    started = models.DateTimeField(verbose_name="started", auto_now_add=True)
    finished = models.DateTimeField(verbose_name="finished", null=True, blank=True)
    duration_ms = models.PositiveIntegerField(verbose_name="duration (ms)", null=True, blank=True)
    calls = models.JSONField(verbose_name="API calls", default=list, blank=True)
    error_code = models.CharField(verbose_name="AWS error code", max_length=128, blank=True)
    error_message = models.TextField(verbose_name="error", blank=True)

    class Meta:
        ordering = ("change", "number")
        constraints = [models.UniqueConstraint(fields=["change", "number"], name="%(app_label)s_%(class)s_unique_number")]


class ChangeItem(models.Model):
    """One object of a batch change (adopt, release, re-apply, accept: ChangeAction BATCH_ACTIONS):
    what was proposed for it at submission, its plan, and how its apply ended. The object is one of
    the change's kind (ChangeRequest.kind), by id: it may be gone by the time the change is applied."""

    change = models.ForeignKey(ChangeRequest, verbose_name="change", on_delete=models.CASCADE, related_name="items")
    object_id = models.PositiveBigIntegerField(verbose_name="object id")
    object_name = models.CharField(verbose_name="object", max_length=320)
    base_version = models.PositiveIntegerField(verbose_name="based on version", default=0)
    spec = models.JSONField(verbose_name="spec", null=True, blank=True,
                            help_text="Adopt/accept: what AWS had at submission; re-apply: the desired spec.")
    plan = models.JSONField(verbose_name="plan", default=list, blank=True)
    state = models.CharField(verbose_name="state", max_length=16, choices=ItemState.choices,
                             default=ItemState.PENDING)
    message = models.TextField(verbose_name="result", blank=True)
    calls = models.JSONField(verbose_name="API calls", default=list, blank=True)
    finished = models.DateTimeField(verbose_name="finished", null=True, blank=True)

    class Meta:
        ordering = ("change", "id")
        constraints = [models.UniqueConstraint(fields=["change", "object_id"],
                                               name="%(app_label)s_%(class)s_once_per_change")]
        indexes = [models.Index(fields=["change", "state"], name="changes_item_state_idx")]

    def __str__(self):
        return f"#{self.change_id} {self.object_name}"
