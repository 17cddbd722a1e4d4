"""Managed EventBridge rules: desired spec (PutRule body + PutTargets entries + tags) and live state."""
from django.db import models
from django.urls import reverse

from changes.models import ManagedObject


class Rule(ManagedObject):
    event_bus_name = models.CharField(verbose_name="event bus", max_length=256, default="default")
    name = models.CharField(verbose_name="name", max_length=64)
    # Denormalised from desired_spec for the list page (filters, sorting) without reading JSON.
    state = models.CharField(verbose_name="state", max_length=48, blank=True)
    description = models.CharField(verbose_name="description", max_length=512, blank=True)
    schedule_expression = models.CharField(verbose_name="schedule expression", max_length=256, blank=True)
    targets_count = models.PositiveSmallIntegerField(verbose_name="targets", default=0)
    # The policy statements EventConsole added so that targets receive events (delivery.policies):
    # [{"service", "resource", "sid"[, "policy"]}]. Exactly these, never others', are removed later.
    delivery_statements = models.JSONField(verbose_name="statements added", default=list, blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = "rule"
        constraints = [
            models.UniqueConstraint(fields=["environment", "event_bus_name", "name"],
                                    name="%(app_label)s_%(class)s_unique_per_bus"),
        ]
        indexes = [models.Index(fields=["name"], name="rules_rule_name_idx")]

    def __str__(self):
        return self.object_name

    @property
    def object_name(self) -> str:
        return f"{self.event_bus_name}/{self.name}"

    def get_absolute_url(self):
        return reverse("rules:rule_detail", args=[self.pk])
