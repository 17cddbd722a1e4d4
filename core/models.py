"""Process-level records: the beat heartbeat that /healthz and the health page show."""
from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic task went all the way from beat through the broker to a worker.

    One row per name (upserted), so the table never grows.
    """

    name = models.CharField(verbose_name="name", max_length=64, unique=True)
    last_seen = models.DateTimeField(verbose_name="last seen")
    worker = models.CharField(verbose_name="worker host", max_length=255, blank=True)
    count = models.PositiveBigIntegerField(verbose_name="beats recorded", default=0)

    class Meta:
        verbose_name = "heartbeat"

    def __str__(self):
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
