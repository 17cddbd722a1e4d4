"""Writing and verifying the audit chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core import safejson

from .context import current_request_meta
from .diff import diff as compute_diff
from .models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
SYSTEM = "system"
# The fields the hash covers, in order. Changing any of them in the database breaks the chain.
HASHED_FIELDS = ("time", "actor_id", "actor_name", "on_behalf_of_id", "action", "object_type", "object_id",
                 "object_repr", "related_type", "related_id", "environment_id", "environment_name", "before",
                 "after", "diff", "message", "data", "request_id", "ip_address", "user_agent")


def _normalise(value: Any) -> Any:
    """JSON-round-trip a value so the hash is the same before saving and after reading back.

    Last line of defence: a NUL or an unpaired surrogate that got this far (neither can be
    encoded as UTF-8 nor stored by PostgreSQL) becomes U+FFFD instead of breaking the chain.
    """
    text = json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
    return json.loads(safejson.scrub_json_text(text))


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["time"] = fields["time"].isoformat(timespec="microseconds") if fields.get("time") else None
    body = json.dumps(_normalise(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def audit_record(*, action: str, object_type: str, object_id: Any = "", object_repr: str = "", actor=None,
                 on_behalf_of=None, environment=None, related_type: str = "", related_id: Any = "",
                 before: Any = None, after: Any = None, message: str = "", data: Any = None,
                 with_diff: bool = True) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (or a new one)."""
    meta = current_request_meta()
    fields = {
        "time": timezone.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_name": safejson.scrub_text(actor.get_username()) if actor is not None else SYSTEM,
        "on_behalf_of_id": getattr(on_behalf_of, "pk", None),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "object_repr": safejson.scrub_text(str(object_repr)[:300]),
        "related_type": related_type,
        "related_id": str(related_id or ""),
        "environment_id": getattr(environment, "pk", None),
        "environment_name": getattr(environment, "name", "") or "",
        "before": _normalise(before),
        "after": _normalise(after),
        "diff": _normalise(compute_diff(before, after)) if with_diff and (before is not None or after is not None)
        else None,
        "message": safejson.scrub_text(message),
        "data": _normalise(data),
        "request_id": meta.request_id,
        "ip_address": meta.ip_address,
        "user_agent": safejson.scrub_text(meta.user_agent),
    }
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_hash": GENESIS})
        digest = event_hash(head.last_hash, fields)
        event = AuditEvent(prev_hash=head.last_hash, hash=digest, **fields)
        event.save()
        head.last_hash, head.last_event_id = digest, event.pk
        head.save(update_fields=["last_hash", "last_event_id"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    reason: str

    def __str__(self):
        where = f"event {self.event_id}" if self.event_id is not None else "the chain"
        return f"{where}: {self.reason}"


def audit_verify_chain(*, batch: int = 5000) -> ChainProblem | None:
    """Walk the chain from the first event. Return the first problem (altered or removed event), or None."""
    prev_hash = GENESIS
    last_id = 0
    previous_pk = None
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev_hash:
                after = f" after event {previous_pk}" if previous_pk is not None else " at the start"
                return ChainProblem(event.pk, f"an event is missing{after} (its previous hash does not match)")
            fields = {name: getattr(event, name) for name in HASHED_FIELDS}
            if event_hash(prev_hash, fields) != event.hash:
                return ChainProblem(event.pk, "its content was altered (the hash does not match)")
            prev_hash, previous_pk = event.hash, event.pk
        last_id = rows[-1].pk
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != prev_hash:
        return ChainProblem(head.last_event_id, "the newest event(s) were removed (the chain head does not match)")
    return None
