"""Writing and verifying the audit chain.

Each event's `hash` is HMAC-SHA256, under the chain key (audit.keys: never in the database), over
the key's id, the previous event's hash and this event's content. Someone who can write to the
database but does not hold the key cannot alter, insert or remove an event and recompute the
chain. Events written before keyed hashing (plain SHA-256, `key_id` empty) verify only up to the
legacy boundary sealed with the key when the database was migrated (AuditChainHead.legacy_*).
Signed checkpoints kept outside the database (audit.checkpoints) catch what a chain alone cannot:
the newest events removed together with the head, or the whole table emptied.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from core import safejson

from . import keys as chain_keys
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


def _body(fields: dict[str, Any], *, normalise: bool = True) -> str:
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["time"] = fields["time"].isoformat(timespec="microseconds") if fields.get("time") else None
    if normalise:
        payload = _normalise(payload)
    # Values read back from the database are JSON-native already, so verify skips the round trip.
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _digest(prev_hash: str, body: str, key: chain_keys.ChainKey | None) -> str:
    if key is None:  # events written before keyed hashing
        return hashlib.sha256(f"{prev_hash}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()
    return key.mac(f"{key.id}\n{prev_hash}\n{body}".encode("utf-8", "surrogatepass"))


def event_hash(prev_hash: str, fields: dict[str, Any], key: chain_keys.ChainKey | None = None) -> str:
    """The event's hash: HMAC-SHA256 under `key`, or plain SHA-256 (legacy events) when key is None."""
    return _digest(prev_hash, _body(fields), key)


def audit_event_hash_matches(event: AuditEvent) -> bool:
    """Does this one event's content match its hash (under the key it names)? The whole chain is verify's job."""
    if event.key_id:
        key = chain_keys.verification_keys().get(event.key_id)
        if key is None:
            return False
    else:
        key = None
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    return hmac.compare_digest(event_hash(event.prev_hash, fields, key), event.hash)


def legacy_seal(key: chain_keys.ChainKey, last_id: int, last_hash: str) -> str:
    """Seal of the unkeyed segment (events 1..last_id), so no unkeyed event can be added after it."""
    message = "\n".join(("legacy-segment", str(last_id), last_hash))
    return f"{key.id}:{key.sign(message)}"


def audit_record(*, action: str, object_type: str, object_id: Any = "", object_repr: str = "", actor=None,
                 on_behalf_of=None, environment=None, related_type: str = "", related_id: Any = "",
                 before: Any = None, after: Any = None, message: str = "", data: Any = None,
                 with_diff: bool = True, using: str = DEFAULT_DB_ALIAS) -> AuditEvent:
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
    key = chain_keys.signing_key()
    with transaction.atomic(using=using):
        head, _ = (AuditChainHead.objects.using(using).select_for_update()
                   .get_or_create(id=1, defaults={"last_hash": GENESIS}))
        digest = event_hash(head.last_hash, fields, key)
        event = AuditEvent(prev_hash=head.last_hash, hash=digest, key_id=key.id, **fields)
        event.save(using=using)
        head.last_hash, head.last_event_id = digest, event.pk
        head.save(using=using, update_fields=["last_hash", "last_event_id"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    reason: str

    def __str__(self):
        where = f"event {self.event_id}" if self.event_id is not None else "the chain"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Verification:
    problem: ChainProblem | None
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


_COLUMNS = ("id", "prev_hash", "hash", "key_id", *HASHED_FIELDS)


def _rows(using: str, up_to: int, batch: int) -> Iterator[tuple]:
    """Events 1..up_to in id order, `batch` at a time (keyset pagination: constant memory)."""
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.using(using).filter(id__gt=last_id, id__lte=up_to)
                    .order_by("id").values_list(*_COLUMNS)[:batch])
        if not rows:
            return
        yield from rows
        last_id = rows[-1][0]


def audit_verify(*, using: str = DEFAULT_DB_ALIAS, batch: int = 5000, checkpoints: bool = True) -> Verification:
    """Walk the chain from the first event to the head, and hold it against the checkpoints outside the database.

    Finds: an altered event (its keyed hash does not match), a removed or inserted event (the next
    event's previous hash does not match), an event signed by no known key, an unkeyed event after
    the sealed legacy segment, the newest events removed (the head does not match, or a checkpoint
    names an event that is gone or differs), and events emptied and refilled (TRUNCATE).
    """
    from .checkpoints import CheckpointError, audit_checkpoints_read

    ring = chain_keys.verification_keys()
    # Checkpoints first (up to the file's present end), then the head: every checkpoint read was
    # taken from a head no newer than the one read here.
    try:
        marks = audit_checkpoints_read(ring) if checkpoints else iter(())
        mark = next(marks, None)
    except CheckpointError as exc:
        return Verification(ChainProblem(None, str(exc)))
    head = AuditChainHead.objects.using(using).filter(id=1).first()
    head_id = head.last_event_id if head is not None and head.last_event_id is not None else 0
    legacy_id = head.legacy_last_id if head is not None else None
    legacy_seal_value = head.legacy_seal if head is not None else ""

    prev_hash, previous_pk, count, checked = GENESIS, None, 0, 0
    try:
        for row in _rows(using, head_id, batch):
            pk, row_prev, row_hash, key_id = row[0], row[1], row[2], row[3]
            fields = dict(zip(HASHED_FIELDS, row[4:]))
            if mark is not None and mark.event_id < pk:
                return Verification(ChainProblem(mark.event_id, f"this event, recorded by the checkpoint of "
                                                 f"{mark.time}, is missing (events were removed)"), count)
            if row_prev != prev_hash:
                after = f" after event {previous_pk}" if previous_pk is not None else " at the start"
                return Verification(ChainProblem(pk, f"an event is missing{after} (its previous hash does not match)"),
                                    count)
            if not key_id:
                if legacy_id is None or pk > legacy_id:
                    return Verification(ChainProblem(pk, "it has an unkeyed (plain SHA-256) hash after the sealed "
                                                     "legacy segment: forged"), count)
                key = None
            else:
                key = ring.get(key_id)
                if key is None:
                    return Verification(ChainProblem(pk, f"it is signed by an unknown key (id {key_id}); if the key "
                                                     "was rotated, list the old one in AUDIT_CHAIN_OLD_KEYS"), count)
            if not hmac.compare_digest(_digest(prev_hash, _body(fields, normalise=False), key), row_hash):
                return Verification(ChainProblem(pk, "its content was altered (the hash does not match)"), count)
            count += 1
            if legacy_id is not None and pk == legacy_id and not _legacy_seal_ok(ring, legacy_seal_value, pk, row_hash):
                return Verification(ChainProblem(pk, "the seal of the legacy (unkeyed) segment does not match"), count)
            while mark is not None and mark.event_id == pk:
                if not hmac.compare_digest(mark.hash, row_hash) or mark.count != count:
                    return Verification(ChainProblem(pk, f"it differs from the checkpoint of {mark.time} (the "
                                                     "events were replaced)"), count)
                checked += 1
                mark = next(marks, None)
            prev_hash, previous_pk = row_hash, pk
    except CheckpointError as exc:
        return Verification(ChainProblem(None, str(exc)), count)

    if legacy_id is not None and (previous_pk is None or previous_pk < legacy_id):
        return Verification(ChainProblem(legacy_id, "the end of the sealed legacy segment is missing"), count)
    if mark is not None:
        return Verification(ChainProblem(mark.event_id, f"the checkpoint of {mark.time} recorded {mark.count} events "
                                         f"up to this one, but the chain now ends at "
                                         f"{'event ' + str(previous_pk) if previous_pk else 'nothing'}: the newest "
                                         "events were removed"), count)
    if head is not None and (head.last_hash != prev_hash or (previous_pk or 0) != head_id):
        return Verification(ChainProblem(head.last_event_id, "the newest event(s) were removed (the chain head does "
                                         "not match)"), count)
    beyond = AuditEvent.objects.using(using).filter(id__gt=head_id).order_by("id").values_list("id", flat=True).first()
    if beyond is not None:
        now = AuditChainHead.objects.using(using).filter(id=1).values_list("last_event_id", flat=True).first()
        if now is None or now < beyond:
            return Verification(ChainProblem(beyond, "it lies beyond the chain head (the head was moved back)"),
                                count)
    return Verification(None, count, previous_pk, prev_hash, checked)


def _legacy_seal_ok(ring: dict[str, chain_keys.ChainKey], seal: str, last_id: int, last_hash: str) -> bool:
    key_id, _, _ = (seal or "").partition(":")
    key = ring.get(key_id)
    return key is not None and hmac.compare_digest(legacy_seal(key, last_id, last_hash), seal)


def audit_verify_chain(*, batch: int = 5000, using: str = DEFAULT_DB_ALIAS) -> ChainProblem | None:
    """The first problem in the chain (altered, removed, forged or truncated events), or None."""
    return audit_verify(using=using, batch=batch).problem
