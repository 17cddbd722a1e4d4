"""The shared AWS call rate limit: one token bucket per (account, Region, AWS service).

Every request `environments.aws.client()` sends takes a token first (a botocore `before-send`
handler, so each retry counts as the call it is). The bucket is shared by every process that
talks to that account and Region:

- backend "redis": one key per bucket in Redis, updated by a Lua script (atomic on the server, with
  the server's clock), so every web, worker and beat process on every machine shares it;
- backend "file": one state file per bucket under VAR_DIR/ratelimit/, updated under an exclusive
  `fcntl.flock`, so every process on this machine shares it (the embedded default: SQLite and the
  filesystem broker on one machine). Several machines need the Redis backend.

The bucket is a GCRA (generic cell rate algorithm) token bucket with reservations: a call is given
the earliest moment it may go, `interval` = 1 / rate after the previous one, with a burst of
`burst(rate)` calls; it books that moment atomically and sleeps until then. So in any window of
W seconds at most burst + rate × W calls go out, whatever the number of processes, and waiting
callers go in the order they asked, without polling.

A call that would have to wait longer than its bound books nothing and raises `WaitTooLong`;
`environments.aws` turns that into `BudgetSpent` for a person waiting on a page and
`RateLimitExceeded` for background work.

Settings: AWS_RATE_LIMIT_BACKEND ("auto" | "redis" | "file" | "off"; auto = redis when
AWS_RATE_LIMIT_REDIS_URL is set, else file), AWS_RATE_LIMIT_REDIS_URL (default: the Celery broker
URL when it is redis://... or rediss://...) and AWS_RATE_LIMIT_KEY_PREFIX (default empty: every process
sharing the store shares the buckets, as they share AWS's quota; the test suite gives each of its
processes its own prefix, so parallel test processes do not wait on each other's calls).
"""
from __future__ import annotations

import fcntl
import hashlib
import math
import os
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError
from django.conf import settings

if TYPE_CHECKING:
    from .models import Environment

__all__ = ["Bucket", "bucket_for", "acquire", "backend_name", "burst", "WaitTooLong", "RateLimitExceeded",
           "RateLimitUnavailable", "BACKGROUND_MAX_WAIT_SECONDS", "REDIS_KEY_PREFIX"]

# A background call (discovery, poll, apply) waits at most this long for its turn; past it the call
# fails with RateLimitExceeded rather than hanging a worker (at 20 calls a second that is a queue of
# 1,200 calls ahead of it).
BACKGROUND_MAX_WAIT_SECONDS = 60.0
# The burst: this many seconds' worth of calls may go back to back after a quiet spell. With the default
# 20/s, at most 30 calls in any one second, below the 50 a second of EventBridge's published quota.
BURST_SECONDS = 0.5
REDIS_KEY_PREFIX = "eventconsole:ratelimit:"


def burst(rate: float) -> int:
    """How many calls may go back to back at `rate` calls a second."""
    return max(1, math.floor(rate * BURST_SECONDS))


@dataclass(frozen=True)
class Bucket:
    key: str  # "[<endpoint URL>|]<account id>|<Region>|<service>"
    rate: float  # calls per second

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        """GCRA's burst tolerance: a call may go this long before its theoretical time."""
        return (burst(self.rate) - 1) * self.interval


def bucket_for(environment: Environment, service_name: str) -> Bucket:
    """The bucket of `service_name` in the environment's account and Region, at its api_rate_limit. Behind an
    endpoint (an emulator), the endpoint is part of the account: two emulators are two accounts."""
    account = environment.account_id or "default-credentials"
    if environment.endpoint_url:
        account = f"{environment.endpoint_url.rstrip('/')}|{account}"
    return Bucket(key=f"{account}|{environment.region}|{service_name}", rate=float(environment.api_rate_limit))


class WaitTooLong(Exception):
    """The call's turn is further away than it may wait; nothing was booked."""

    def __init__(self, bucket: Bucket, wait: float, bound: float):
        self.bucket, self.wait, self.bound = bucket, wait, bound
        super().__init__(f"{bucket.key}: next turn in {wait:.2f} s, more than {bound:g} s")


class RateLimitExceeded(BotoCoreError):
    """A background call would wait longer than BACKGROUND_MAX_WAIT_SECONDS for the shared rate limit."""

    fmt = ("EventConsole's own AWS rate limit ({rate:g} calls a second to {service} in {scope}) would have made this "
           "call wait {wait:.0f} s, more than {bound:g} s: too many calls are queued for this account and Region. "
           "Try again later, or raise the environment's \"AWS calls per second\".")


class RateLimitUnavailable(BotoCoreError):
    """The shared rate limit's store (Redis, or the state file) cannot be reached: no call is sent unmetered."""

    fmt = "The shared AWS rate limit could not reach its store ({where}): {error}"


def backend_name() -> str:
    """The backend in force: "redis", "file" or "off"."""
    choice = (settings.AWS_RATE_LIMIT_BACKEND or "auto").lower()
    if choice == "auto":
        return "redis" if settings.AWS_RATE_LIMIT_REDIS_URL else "file"
    if choice not in ("redis", "file", "off"):
        raise ValueError(f"AWS_RATE_LIMIT_BACKEND must be auto, redis, file or off, not {choice!r}")
    return choice


def acquire(bucket: Bucket, *, max_wait: float, sleep=time.sleep) -> float:
    """Book the next turn in `bucket` and sleep until it comes; the seconds waited.

    Raises WaitTooLong (booking nothing) when the turn is more than `max_wait` seconds away, and
    RateLimitUnavailable when the backend's store cannot be reached.
    """
    backend = backend_name()
    if backend == "off":
        return 0.0
    wait = (_redis_reserve if backend == "redis" else _file_reserve)(bucket, max(0.0, max_wait))
    if wait > 0:
        sleep(wait)
    return wait


# ---------------------------------------------------------------------------------------------
# The GCRA step, shared by the file backend (Python) and the Redis backend (the same in Lua).
# ---------------------------------------------------------------------------------------------
def _step(tat: float, now: float, bucket: Bucket, max_wait: float) -> tuple[float | None, float]:
    """(new theoretical arrival time, or None when the call may not book; seconds to wait)."""
    if tat < now:
        tat = now
    wait = max(0.0, tat - bucket.tolerance - now)
    if wait > max_wait:
        return None, wait
    return tat + bucket.interval, wait


# ---------------------------------------------------------------------------------------------
# File backend: VAR_DIR/ratelimit/<hash>.bucket holds one double (the theoretical arrival time,
# wall-clock seconds), read and written under an exclusive flock. Opened per call: an flock belongs
# to the open file, which a forked child would otherwise share with its parent.
# ---------------------------------------------------------------------------------------------
_STATE = struct.Struct("<d")
# A stored time further ahead than this is from a clock that has since gone back: start afresh.
_CLOCK_SLACK = 3600.0


def _state_dir() -> Path:
    return Path(settings.VAR_DIR) / "ratelimit"


def _stored_key(bucket: Bucket) -> str:
    """The bucket's name in the store: AWS_RATE_LIMIT_KEY_PREFIX, then the bucket's key."""
    return f"{settings.AWS_RATE_LIMIT_KEY_PREFIX}{bucket.key}"


def state_path(bucket: Bucket) -> Path:
    digest = hashlib.sha256(_stored_key(bucket).encode()).hexdigest()[:24]
    return _state_dir() / f"{digest}.bucket"


def _file_reserve(bucket: Bucket, max_wait: float) -> float:
    path = state_path(bucket)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise RateLimitUnavailable(where=str(path), error=exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, _STATE.size, 0)
        now = time.time()
        tat = _STATE.unpack(raw)[0] if len(raw) == _STATE.size else 0.0
        if not math.isfinite(tat) or tat > now + _CLOCK_SLACK:
            tat = 0.0
        new, wait = _step(tat, now, bucket, max_wait)
        if new is None:
            raise WaitTooLong(bucket, wait, max_wait)
        os.pwrite(fd, _STATE.pack(new), 0)
        return wait
    finally:
        os.close(fd)  # closing releases the lock


# ---------------------------------------------------------------------------------------------
# Redis backend: the same step in Lua, with the Redis server's clock (one clock for every machine).
# ---------------------------------------------------------------------------------------------
_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, string.format('%.6f', wait)} end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now + 60) * 1000))
return {1, string.format('%.6f', wait)}
"""
_redis_lock = threading.Lock()
_redis_clients: dict[str, tuple] = {}


def _redis_script(url: str):
    with _redis_lock:
        entry = _redis_clients.get(url)
        if entry is None:
            import redis

            connection = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
            entry = (connection, connection.register_script(_LUA))
            _redis_clients[url] = entry
        return entry[1]


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def _redis_reserve(bucket: Bucket, max_wait: float) -> float:
    import redis

    url = settings.AWS_RATE_LIMIT_REDIS_URL
    if not url:
        raise RateLimitUnavailable(where="Redis", error="AWS_RATE_LIMIT_BACKEND is redis but AWS_RATE_LIMIT_REDIS_URL "
                                                        "is empty")
    try:
        allowed, wait = _redis_script(url)(keys=[REDIS_KEY_PREFIX + _stored_key(bucket)],
                                           args=[repr(bucket.interval), repr(bucket.tolerance), repr(max_wait)])
    except redis.RedisError as exc:
        raise RateLimitUnavailable(where=f"Redis at {_redacted(url)}", error=exc) from exc
    wait = float(wait)
    if not int(allowed):
        raise WaitTooLong(bucket, wait, max_wait)
    return wait
