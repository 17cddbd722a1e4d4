"""Discovery runs: reading everything an environment's account and Region already has (event buses,
rules, schedule groups, schedules) so that what EventConsole does not manage shows as Unmanaged."""
from django.db import models
from django.urls import reverse


class RunState(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"


class DiscoveryRun(models.Model):
    """One discovery of one environment. Progress is written while it runs, so a page (reloaded or
    not) shows it; a run whose worker died is found by its heartbeat and marked Interrupted."""

    environment = models.ForeignKey("environments.Environment", verbose_name="environment",
                                    on_delete=models.CASCADE, related_name="discovery_runs")
    state = models.CharField(verbose_name="state", max_length=16, choices=RunState.choices,
                             default=RunState.RUNNING, db_index=True)
    requested_by = models.ForeignKey("auth.User", verbose_name="requested by", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    started = models.DateTimeField(verbose_name="started", auto_now_add=True)
    heartbeat = models.DateTimeField(verbose_name="last progress", null=True, blank=True)
    finished = models.DateTimeField(verbose_name="finished", null=True, blank=True)
    stage = models.CharField(verbose_name="now reading", max_length=200, blank=True)
    found = models.PositiveIntegerField(verbose_name="objects found", default=0)
    created = models.PositiveIntegerField(verbose_name="new unmanaged objects", default=0)
    updated = models.PositiveIntegerField(verbose_name="unmanaged objects changed in AWS", default=0)
    removed = models.PositiveIntegerField(verbose_name="unmanaged objects gone from AWS", default=0)
    api_calls = models.PositiveIntegerField(verbose_name="API calls", default=0)
    throttled = models.PositiveIntegerField(verbose_name="throttled calls", default=0)
    counts = models.JSONField(verbose_name="found by kind", default=dict, blank=True)
    error = models.TextField(verbose_name="error", blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name = "discovery run"
        indexes = [models.Index(fields=["environment", "-id"], name="inventory_run_env_idx")]

    def __str__(self):
        return f"Discovery #{self.pk} of {self.environment_id} ({self.state})"

    def get_absolute_url(self):
        return reverse("environments:environment_detail", args=[self.environment_id])
