"""Heartbeat and health checks."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"


def heartbeat_record(*, name: str = BEAT, worker: str = "") -> Heartbeat:
    """Upsert the heartbeat row. Safe to run twice (the later call simply wins)."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(last_seen=now, worker=worker, count=F("count") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"last_seen": now, "worker": worker, "count": 1})
    return Heartbeat.objects.get(name=name)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def public(self) -> str:
        """What anyone may see: "ok" or "down", never the detail (accounts, ARNs, hosts)."""
        return "ok" if self.ok else "down"


def _timed(name: str, fn) -> Check:
    start = time.monotonic()
    try:
        ok, detail = fn()
    except Exception as exc:  # a health check reports every failure, whatever it is
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(name=name, ok=ok, detail=detail, seconds=round(time.monotonic() - start, 3))


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, f"{connection.vendor} ok"


def _check_broker():
    from eventconsole.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.AWS_HEALTH_TIMEOUT)
        transport = conn.transport_cls
    return True, f"{transport} ok"


def _check_heartbeat():
    beat = Heartbeat.objects.filter(name=BEAT).first()
    if beat is None:
        return False, "no heartbeat recorded yet: is celery beat (and a worker) running?"
    age = (timezone.now() - beat.last_seen).total_seconds()
    if age > settings.HEARTBEAT_MAX_AGE_SECONDS:
        return False, f"last heartbeat {age:.0f}s ago (limit {settings.HEARTBEAT_MAX_AGE_SECONDS}s): beat or the workers are down"
    return True, f"last heartbeat {age:.0f}s ago from {beat.worker or 'a worker'}"


def health_checks() -> list[Check]:
    """Database, broker, last beat heartbeat and every environment's AWS endpoint."""
    from environments.models import Environment
    from environments.services import environment_check_endpoint

    checks = [_timed("database", _check_database)]
    checks.append(_timed("broker", _check_broker))
    if checks[0].ok:
        checks.append(_timed("heartbeat", _check_heartbeat))
        try:
            environments = list(Environment.objects.all())
        except Exception as exc:  # e.g. a database not migrated yet: report it, never a 500
            checks.append(Check(name="environments", ok=False, detail=f"{type(exc).__name__}: {exc}"))
            environments = []
        if environments:
            with ThreadPoolExecutor(max_workers=min(8, len(environments))) as pool:
                checks += list(pool.map(
                    lambda env: _timed(f"aws:{env.name}", lambda: environment_check_endpoint(env)), environments))
    return checks


HEALTH_CACHE_KEY = "core:health-checks"
_health_lock = threading.Lock()


def health_checks_cached() -> list[Check]:
    """`health_checks()`, reused for HEALTH_CACHE_SECONDS (per process, in Django's cache).

    A flood of /healthz requests then makes at most one STS call per environment per interval:
    requests that arrive while the checks run wait for that one run instead of starting their own.
    """
    ttl = settings.HEALTH_CACHE_SECONDS
    if ttl <= 0:
        return health_checks()
    found = cache.get(HEALTH_CACHE_KEY)
    if found is None:
        with _health_lock:
            found = cache.get(HEALTH_CACHE_KEY)
            if found is None:
                found = health_checks()
                cache.set(HEALTH_CACHE_KEY, found, ttl)
    return found
