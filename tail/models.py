"""A live tail of a bus: a temporary rule and SQS queue in AWS, and what the console knows of them."""
from django.conf import settings
from django.db import models
from django.urls import reverse


class TailState(models.TextChoices):
    STARTING = "starting", "Starting"  # a worker is creating the rule and queue
    OPEN = "open", "Listening"
    CLOSING = "closing", "Closing"  # a worker is removing them
    CLOSED = "closed", "Closed"
    FAILED = "failed", "Failed"


LIVE_STATES = (TailState.STARTING, TailState.OPEN)


class TailSession(models.Model):
    environment = models.ForeignKey("environments.Environment", verbose_name="environment", on_delete=models.PROTECT,
                                    related_name="tail_sessions")
    event_bus_name = models.CharField(verbose_name="event bus", max_length=256, default="default")
    rule = models.ForeignKey("rules.Rule", verbose_name="rule", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="tail_sessions",
                             help_text="The rule whose pattern is tailed (empty: all events).")
    pattern = models.TextField(verbose_name="event pattern")
    name = models.CharField(verbose_name="name in AWS", max_length=64, blank=True,
                            help_text="The temporary rule's and queue's name (eventconsole-tail-…).")
    rule_arn = models.CharField(verbose_name="temporary rule ARN", max_length=1600, blank=True)
    queue_url = models.CharField(verbose_name="temporary queue URL", max_length=1024, blank=True)
    queue_arn = models.CharField(verbose_name="temporary queue ARN", max_length=1024, blank=True)
    state = models.CharField(verbose_name="state", max_length=16, choices=TailState.choices,
                             default=TailState.STARTING, db_index=True)
    error = models.TextField(verbose_name="error", blank=True)
    closed_reason = models.CharField(verbose_name="closed because", max_length=64, blank=True)
    received = models.PositiveIntegerField(verbose_name="events received", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="opened by", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(verbose_name="opened", auto_now_add=True)
    expires_at = models.DateTimeField(verbose_name="expires", db_index=True)
    closed_at = models.DateTimeField(verbose_name="closed", null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name = "live tail"

    def __str__(self):
        return self.name or f"live tail #{self.pk}"

    def get_absolute_url(self):
        return reverse("tail:tail_detail", args=[self.pk])

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def what(self) -> str:
        """What is tailed, in words."""
        return f"rule {self.rule.name}'s pattern" if self.rule_id and self.rule else "all events"
