"""Figures fetched from CloudWatch (GetMetricData) and stored, so that pages never call AWS.

`Datapoint`: one Sum of one metric over one period (environment, namespace, metric, dimensions, period,
timestamp, value). `Watched`: each set of dimensions a fetch asked for, and when it was last fetched (a
metric that has no datapoint there then means 0 or "no data", see metrics.catalog). `Fetch`: each run
of the fetch, with the calls it made and what AWS said about partial results.
"""
from django.conf import settings
from django.db import models


class Datapoint(models.Model):
    environment = models.ForeignKey("environments.Environment", verbose_name="environment", on_delete=models.CASCADE,
                                    related_name="+")
    namespace = models.CharField(verbose_name="namespace", max_length=32)
    metric = models.CharField(verbose_name="metric", max_length=64)
    dimensions = models.CharField(verbose_name="dimensions", max_length=600,
                                  help_text='Sorted by name: "EventBusName=orders,RuleName=r".')
    period = models.PositiveIntegerField(verbose_name="period (s)")
    timestamp = models.DateTimeField(verbose_name="timestamp")
    value = models.FloatField(verbose_name="value (Sum)")
    fetched_at = models.DateTimeField(verbose_name="fetched")

    class Meta:
        verbose_name = "datapoint"
        constraints = [models.UniqueConstraint(
            fields=["environment", "namespace", "dimensions", "metric", "period", "timestamp"],
            name="%(app_label)s_%(class)s_one_per_period")]
        indexes = [models.Index(fields=["timestamp"], name="metrics_datapoint_time_idx"),
                   # the rules list's "failing" filter: a few metrics over the last 24 hours
                   models.Index(fields=["metric", "timestamp"], name="metrics_datapoint_metric_idx")]

    def __str__(self):
        return f"{self.namespace} {self.metric} {self.dimensions} {self.timestamp:%Y-%m-%d %H:%M} = {self.value:g}"


class Watched(models.Model):
    environment = models.ForeignKey("environments.Environment", verbose_name="environment", on_delete=models.CASCADE,
                                    related_name="+")
    namespace = models.CharField(verbose_name="namespace", max_length=32)
    dimensions = models.CharField(verbose_name="dimensions", max_length=600)
    fetched_at = models.DateTimeField(verbose_name="fetched")
    sparkline = models.JSONField(verbose_name="invocations per hour", default=list, blank=True,
                                 help_text="AWS/Events: the Invocations of each of the 24 hours up to the fetch (the "
                                           "rules list's sparkline, read without reading the datapoints).")

    class Meta:
        verbose_name = "watched dimensions"
        verbose_name_plural = "watched dimensions"
        constraints = [models.UniqueConstraint(fields=["environment", "namespace", "dimensions"],
                                               name="%(app_label)s_%(class)s_unique")]


class FetchState(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Fetch(models.Model):
    environment = models.ForeignKey("environments.Environment", verbose_name="environment", on_delete=models.CASCADE,
                                    related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="requested by", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(verbose_name="state", max_length=16, choices=FetchState.choices,
                             default=FetchState.RUNNING)
    started = models.DateTimeField(verbose_name="started", auto_now_add=True)
    finished = models.DateTimeField(verbose_name="finished", null=True, blank=True)
    queries = models.PositiveIntegerField(verbose_name="queries", default=0)
    calls = models.PositiveIntegerField(verbose_name="GetMetricData calls", default=0)
    datapoints = models.PositiveIntegerField(verbose_name="datapoints", default=0)
    messages = models.JSONField(verbose_name="messages from AWS", default=list, blank=True,
                                help_text="Partial results: GetMetricData's Messages (the first ones).")
    error = models.TextField(verbose_name="error", blank=True)

    class Meta:
        verbose_name = "metrics fetch"
        verbose_name_plural = "metrics fetches"
        indexes = [models.Index(fields=["environment", "-id"], name="metrics_fetch_env_idx")]

    def __str__(self):
        return f"metrics fetch #{self.pk} of {self.environment_id} ({self.state})"
