"""Managed EventBridge Scheduler schedules: desired spec (the CreateSchedule body) and live state."""
from django.conf import settings
from django.db import models
from django.urls import reverse

from changes.models import ManagedObject


class Schedule(ManagedObject):
    group_name = models.CharField(verbose_name="schedule group", max_length=64, default="default")
    name = models.CharField(verbose_name="name", max_length=64)
    # Denormalised from desired_spec for the list page (filters, sorting) without reading JSON.
    state = models.CharField(verbose_name="state", max_length=16, blank=True)
    expression = models.CharField(verbose_name="schedule expression", max_length=256, blank=True)
    timezone = models.CharField(verbose_name="time zone", max_length=64, blank=True)
    target_arn = models.CharField(verbose_name="target", max_length=1600, blank=True)
    next_run = models.DateTimeField(verbose_name="next run", null=True, blank=True, db_index=True)
    description = models.CharField(verbose_name="description", max_length=512, blank=True)
    start_date = models.DateTimeField(verbose_name="start date and time", null=True, blank=True)
    end_date = models.DateTimeField(verbose_name="end date and time", null=True, blank=True)
    action_after_completion = models.CharField(verbose_name="action after schedule completion", max_length=8,
                                               blank=True)
    live_modified = models.CharField(verbose_name="modified in AWS", max_length=40, blank=True,
                                     help_text="LastModificationDate of the live state read last: poll reads the "
                                               "schedule again only when AWS reports another one.")

    class Meta:
        ordering = ("name",)
        verbose_name = "schedule"
        constraints = [
            models.UniqueConstraint(fields=["environment", "group_name", "name"],
                                    name="%(app_label)s_%(class)s_unique_per_group"),
        ]
        indexes = [models.Index(fields=["name"], name="schedules_schedule_name_idx"),
                   models.Index(fields=["group_name", "name"], name="schedules_schedule_group_idx")]

    def __str__(self):
        return self.object_name

    @property
    def object_name(self) -> str:
        return f"{self.group_name}/{self.name}"

    @property
    def target_label(self) -> str:
        from .targets import describe_target

        return describe_target(self.target_arn)

    def get_absolute_url(self):
        return reverse("schedules:schedule_detail", args=[self.pk])


class ScheduleRun(models.Model):
    """One invocation of a schedule's target by EventConsole: Run now, or the local emulator firing it
    (schedules/invocations.py). At most one emulator run per schedule and scheduled time (a unique
    constraint that two beats or workers both firing cannot pass); a run's row is written before its
    target is invoked, so a crashed worker's run shows no result rather than running twice."""

    RUN_NOW, EMULATOR = "run_now", "emulator"
    TRIGGERS = [(RUN_NOW, "Run now"), (EMULATOR, "Fired by the emulator")]

    schedule = models.ForeignKey(Schedule, verbose_name="schedule", on_delete=models.CASCADE, related_name="runs")
    time = models.DateTimeField(verbose_name="time", db_index=True, help_text="When the target was invoked.")
    trigger = models.CharField(verbose_name="trigger", max_length=16, choices=TRIGGERS)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="run by", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    scheduled_time = models.DateTimeField(verbose_name="scheduled time")
    execution_id = models.CharField(verbose_name="execution ID", max_length=64)
    ok = models.BooleanField(verbose_name="succeeded", null=True, help_text="None while the call is under way "
                             "(or when the worker making it was lost).")
    api = models.CharField(verbose_name="API", max_length=128, blank=True)
    request = models.JSONField(verbose_name="request", default=dict, blank=True)
    response = models.JSONField(verbose_name="response", null=True, blank=True)
    error_code = models.CharField(verbose_name="error code", max_length=128, blank=True)
    error_words = models.TextField(verbose_name="error", blank=True)
    note = models.CharField(verbose_name="note", max_length=300, blank=True,
                            help_text="What else happened, e.g. the one-time schedule deleted after its run.")

    class Meta:
        ordering = ("-time", "-pk")
        verbose_name = "schedule run"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "scheduled_time"], condition=models.Q(trigger="emulator"),
                                    name="schedules_run_once_per_scheduled_time"),
        ]
        indexes = [models.Index(fields=["schedule", "-time"], name="schedules_run_recent_idx")]

    def __str__(self):
        return f"{self.schedule} at {self.scheduled_time:%Y-%m-%d %H:%M:%S}"

    @property
    def trigger_words(self) -> str:
        if self.trigger == self.RUN_NOW:
            return f"Run now by {self.actor.get_username() if self.actor else 'a deleted user'}"
        return "Fired by the emulator"

    @property
    def result_words(self) -> str:
        if self.ok is None:
            return "No answer recorded: the worker making the call stopped before it ended."
        return "Succeeded" if self.ok else self.error_words
