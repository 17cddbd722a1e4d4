"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "at this time the chain ended at event N, whose hash was H, and held C events",
signed with the chain key. They are appended, one JSON line each, to AUDIT_CHECKPOINT_PATH (by
default under VAR_DIR; in production put it on other storage than the database's: a mounted
volume, a file synced to object storage with versioning or object lock). Beat writes one every
AUDIT_CHECKPOINT_INTERVAL_SECONDS when the chain has grown, and `verify_audit` writes one after a
clean run. `verify_audit` then checks that every checkpoint's event still exists with that hash
and count, so removing the newest events (and moving the head back) or emptying and refilling
the table is found, even by someone who can rewrite the whole database.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from . import keys as chain_keys
from .models import AuditChainHead, AuditEvent

logger = logging.getLogger(__name__)
VERSION = 1


class CheckpointError(RuntimeError):
    """The checkpoint file itself was altered (a line not signed by any known key, or out of order)."""


@dataclass(frozen=True)
class Checkpoint:
    event_id: int
    hash: str
    count: int
    time: str

    def message(self, key_id: str) -> str:
        return json.dumps({"v": VERSION, "key_id": key_id, **asdict(self)}, sort_keys=True, separators=(",", ":"))


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_PATH)


def _last_line(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return ""
    return lines[-1].decode("utf-8", "replace") if lines else ""


def audit_checkpoint_write(*, using: str = DEFAULT_DB_ALIAS, force: bool = False) -> Checkpoint | None:
    """Append a signed checkpoint of the chain head, unless the newest checkpoint already covers it."""
    head = AuditChainHead.objects.using(using).filter(id=1).first()
    if head is None or head.last_event_id is None:
        return None
    newest = AuditEvent.objects.using(using).filter(id=head.last_event_id).values_list("hash", flat=True).first()
    if newest != head.last_hash:
        logger.error("Audit chain head points to event %s, which is missing or differs: no checkpoint written "
                     "(run verify_audit).", head.last_event_id)
        return None
    path = checkpoint_path()
    last = _last_line(path)
    if not force and last:
        try:
            if json.loads(last).get("event_id") == head.last_event_id:
                return None
        except ValueError:
            pass
    count = AuditEvent.objects.using(using).filter(id__lte=head.last_event_id).count()
    mark = Checkpoint(event_id=head.last_event_id, hash=head.last_hash, count=count,
                      time=timezone.now().isoformat(timespec="seconds"))
    key = chain_keys.signing_key()
    line = json.dumps({"v": VERSION, "key_id": key.id, **asdict(mark), "mac": key.sign(mark.message(key.id))},
                      sort_keys=True, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return mark


def audit_checkpoints_read(ring: dict[str, chain_keys.ChainKey] | None = None) -> Iterator[Checkpoint]:
    """The checkpoints in the file as it is now (lines appended while reading are left for the next run),
    each checked against the keys; raises CheckpointError for a line that is not genuine or out of order."""
    ring = ring if ring is not None else chain_keys.verification_keys()
    path = checkpoint_path()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        end = os.fstat(handle.fileno()).st_size
        previous = None
        number = 0
        while handle.tell() < end:
            raw = handle.readline()
            number += 1
            if not raw.endswith(b"\n"):
                break  # a line being written right now
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
                mark = Checkpoint(event_id=int(entry["event_id"]), hash=str(entry["hash"]), count=int(entry["count"]),
                                  time=str(entry["time"]))
                key = ring.get(str(entry.get("key_id")))
                genuine = key is not None and hmac.compare_digest(key.sign(mark.message(key.id)), str(entry["mac"]))
            except (ValueError, KeyError, TypeError):
                genuine = False
            if not genuine:
                raise CheckpointError(f"line {number} of the checkpoint file {path} is not signed by a known chain "
                                      "key (the file was altered, or AUDIT_CHAIN_OLD_KEYS lacks a rotated key)")
            if previous is not None and (mark.event_id < previous.event_id or mark.count < previous.count):
                raise CheckpointError(f"line {number} of the checkpoint file {path} goes back in the chain")
            previous = mark
            yield mark
