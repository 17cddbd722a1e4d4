"""Managed EventBridge Scheduler schedules: desired spec (the CreateSchedule body) and live state."""
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
