"""AuditEvent: append-only and hash-chained, written by services in the same transaction as the change.

Each event's `hash` is HMAC-SHA256, under a key kept outside the database, over the previous
event's hash and this event's content, so an altered, inserted or removed row breaks the chain
and cannot be re-chained without the key (`python manage.py verify_audit` finds it). The app
never updates or deletes an event: save() refuses an existing row, delete() refuses, and the
queryset's update()/delete() refuse. On PostgreSQL triggers also refuse UPDATE, DELETE and
TRUNCATE, and let the chain head only move forward to an existing event.
"""
from django.conf import settings
from django.db import models

from .choices import AuditAction, ObjectType


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    _raw_delete = delete


class AuditEvent(models.Model):
    time = models.DateTimeField(verbose_name="time", db_index=True)
    # DO_NOTHING (and no database constraint): deleting a user must never rewrite past events.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="actor", on_delete=models.DO_NOTHING, null=True,
                              blank=True, related_name="+", db_constraint=False)
    actor_name = models.CharField(verbose_name="actor name", max_length=150,
                                  help_text="The user's name when it happened, or 'system' for a worker.")
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="on behalf of", on_delete=models.DO_NOTHING,
                                     null=True, blank=True, related_name="+", db_constraint=False,
                                     help_text="For system actions: the user whose approval caused them.")
    action = models.CharField(verbose_name="action", max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(verbose_name="object type", max_length=16, choices=ObjectType.choices)
    object_id = models.CharField(verbose_name="object id", max_length=64, blank=True)
    object_repr = models.CharField(verbose_name="object", max_length=300, blank=True)
    related_type = models.CharField(verbose_name="related object type", max_length=16, blank=True,
                                    choices=ObjectType.choices)
    related_id = models.CharField(verbose_name="related object id", max_length=64, blank=True)
    environment_id = models.BigIntegerField(verbose_name="environment id", null=True, blank=True)
    environment_name = models.CharField(verbose_name="environment", max_length=64, blank=True)
    before = models.JSONField(verbose_name="before", null=True, blank=True)
    after = models.JSONField(verbose_name="after", null=True, blank=True)
    diff = models.JSONField(verbose_name="difference", null=True, blank=True)
    message = models.TextField(verbose_name="message", blank=True)
    data = models.JSONField(verbose_name="data", null=True, blank=True,
                            help_text="API calls and their results, or other details.")
    request_id = models.CharField(verbose_name="request id", max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(verbose_name="IP address", null=True, blank=True)
    user_agent = models.CharField(verbose_name="user agent", max_length=300, blank=True)
    prev_hash = models.CharField(verbose_name="previous hash", max_length=64)
    hash = models.CharField(verbose_name="hash", max_length=64, unique=True)
    key_id = models.CharField(verbose_name="key id", max_length=16, blank=True, default="",
                              help_text="Id of the chain key that signed this event; empty for events hashed "
                                        "with plain SHA-256 before keyed hashing.")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx"),
            models.Index(fields=["related_type", "related_id", "-id"], name="audit_related_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
            models.Index(fields=["environment_id", "-id"], name="audit_environment_idx"),
        ]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """One row: the hash of the newest event. Locked while an event is appended, so the chain stays a chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    last_event_id = models.BigIntegerField(null=True)
    # Events up to legacy_last_id were hashed without a key (earlier releases); the seal (key id and an
    # HMAC of that id and its hash) was written with the chain key when keyed hashing was introduced.
    legacy_last_id = models.BigIntegerField(null=True, blank=True)
    legacy_seal = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        verbose_name = "audit chain head"
