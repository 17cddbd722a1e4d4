"""The dead-letter queues of rule targets and schedules, and their depth as a worker last read it."""
from django.db import models
from django.urls import reverse


class DeadLetterQueue(models.Model):
    """One rule target's (`DeadLetterConfig.Arn`) or one schedule's (`Target.DeadLetterConfig.Arn`)
    dead-letter queue, with its depth as the worker last read it (dead_letters.depth). Several targets
    may share a queue: each has its row, and one read of the queue fills them all."""

    environment = models.ForeignKey("environments.Environment", verbose_name="environment",
                                    on_delete=models.CASCADE, related_name="dead_letter_queues")
    rule = models.ForeignKey("rules.Rule", verbose_name="rule", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="dead_letter_queues")
    schedule = models.ForeignKey("schedules.Schedule", verbose_name="schedule", on_delete=models.CASCADE,
                                 null=True, blank=True, related_name="dead_letter_queues")
    target_id = models.CharField(verbose_name="target ID", max_length=64, blank=True,
                                 help_text="The rule target's Id (a schedule has one target: empty).")
    target_arn = models.CharField(verbose_name="target", max_length=1600, blank=True)
    queue_arn = models.CharField(verbose_name="dead-letter queue", max_length=1600)
    queue_url = models.CharField(verbose_name="queue URL", max_length=2048, blank=True)
    visible = models.PositiveIntegerField(verbose_name="messages available", null=True, blank=True,
                                          help_text="ApproximateNumberOfMessages")
    in_flight = models.PositiveIntegerField(verbose_name="messages in flight", null=True, blank=True,
                                            help_text="ApproximateNumberOfMessagesNotVisible")
    delayed = models.PositiveIntegerField(verbose_name="messages delayed", null=True, blank=True,
                                          help_text="ApproximateNumberOfMessagesDelayed")
    fetched = models.DateTimeField(verbose_name="depth read", null=True, blank=True)
    error = models.TextField(verbose_name="last error", blank=True)

    class Meta:
        ordering = ("id",)
        verbose_name = "dead-letter queue"
        constraints = [
            models.UniqueConstraint(fields=["rule", "target_id"], condition=models.Q(rule__isnull=False),
                                    name="%(app_label)s_%(class)s_one_per_rule_target"),
            models.UniqueConstraint(fields=["schedule"], condition=models.Q(schedule__isnull=False),
                                    name="%(app_label)s_%(class)s_one_per_schedule"),
            models.CheckConstraint(condition=models.Q(rule__isnull=False) ^ models.Q(schedule__isnull=False),
                                   name="%(app_label)s_%(class)s_rule_or_schedule"),
        ]

    def __str__(self):
        return f"{self.owner_words}: {self.queue_name}"

    @property
    def kind(self) -> str:
        return "rule" if self.rule_id else "schedule"

    @property
    def owner(self):
        return self.rule if self.rule_id else self.schedule

    @property
    def owner_words(self) -> str:
        if self.rule_id:
            return f"rule {self.rule.object_name}, target {self.target_id}"
        return f"schedule {self.schedule.object_name}"

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    @property
    def depth(self) -> int | None:
        if self.visible is None:
            return None
        return self.visible + (self.in_flight or 0) + (self.delayed or 0)

    def get_absolute_url(self):
        return reverse("dead_letters:peek", args=[self.pk])
