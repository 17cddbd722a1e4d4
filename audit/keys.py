"""The audit chain's secret keys: never stored in the database.

AUDIT_CHAIN_KEY signs new events (HMAC-SHA256). AUDIT_CHAIN_OLD_KEYS (comma-separated) are keys
used before a rotation: they only verify. Each event records the id of the key that signed it; a
key's id is derived from the key itself (an HMAC of a fixed label), so it names the key without
revealing it.

Outside local mode AUDIT_CHAIN_KEY is required (the system check `audit.E001` says so). In local
mode, when it is unset, a key is generated once into VAR_DIR/audit-chain.key (mode 0600) and read
from there by every process (web, worker, beat, commands).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "audit-chain.key"
MIN_KEY_LENGTH = 32


@dataclass(frozen=True, eq=True)
class ChainKey:
    id: str
    secret: bytes

    def sign(self, message: str) -> str:
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()

    @cached_property
    def _keyed(self):
        return hmac.new(self.secret, digestmod=hashlib.sha256)

    def mac(self, message: bytes) -> str:
        """HMAC-SHA256 of `message` (from a copy of the keyed state: the key is set up once)."""
        state = self._keyed.copy()
        state.update(message)
        return state.hexdigest()


def key_id(secret: bytes) -> str:
    return hmac.new(secret, b"eventconsole audit chain key id", hashlib.sha256).hexdigest()[:16]


def _make(secret: str) -> ChainKey:
    raw = secret.strip().encode()
    return ChainKey(id=key_id(raw), secret=raw)


def _local_key(path: Path) -> str:
    """Read the local-mode key file, creating it (0600, exclusive create) the first time."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    for _ in range(100):  # another process may have created it an instant ago and be writing it
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    raise ImproperlyConfigured(f"The audit chain key file {path} is empty.")


@lru_cache(maxsize=8)
def _ring(current: str, old: tuple[str, ...], local: bool, var_dir: str) -> tuple[ChainKey, dict[str, ChainKey]]:
    if not current:
        if not local:
            raise ImproperlyConfigured("AUDIT_CHAIN_KEY is required outside local mode (see docs/operations.md).")
        current = _local_key(Path(var_dir) / KEY_FILE_NAME)
    signing = _make(current)
    ring = {key.id: key for key in map(_make, filter(None, (o.strip() for o in old)))}
    ring[signing.id] = signing
    return signing, ring


def _settings() -> tuple[str, tuple[str, ...], bool, str]:
    return (getattr(settings, "AUDIT_CHAIN_KEY", "") or "", tuple(getattr(settings, "AUDIT_CHAIN_OLD_KEYS", ())),
            bool(getattr(settings, "LOCAL_MODE", False)), str(settings.VAR_DIR))


def signing_key() -> ChainKey:
    """The key new events and checkpoints are signed with."""
    return _ring(*_settings())[0]


def verification_keys() -> dict[str, ChainKey]:
    """Every key that may have signed an event: the current one and AUDIT_CHAIN_OLD_KEYS, by key id."""
    return _ring(*_settings())[1]
