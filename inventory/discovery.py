"""Discovery: read every object of every kind that an environment's account and Region has, and keep
what EventConsole does not manage as Unmanaged rows (for any kind: it never names one).

For each registered kind with a `discover` reader (changes.kinds.KindHandler), page by page:

- an object not stored yet becomes an unmanaged row: its live spec (the kind's `split_live`), the
  list columns (the kind's `denormalise`), the AWS service that owns it, first and last seen;
- an unmanaged row whose object changed in AWS gets the new live spec (under its row lock, and only
  while it is still unmanaged: an adoption that got there first wins);
- any other row seen (managed, or unchanged) gets only its `last_seen`.

New rows are inserted with bulk_create and changed ones written with bulk_update, a page (100
objects) in one transaction, and rows only seen are touched CHUNK at a time: the cost grows with the
account in steps of a query per page, which is what lets it read 55,000 objects.

Then CloudFormation says which unmanaged objects a stack owns (inventory.ownership; a refusal of
these credentials is said on the run and does not fail it). Only after every kind was read to the
end are the unmanaged rows that were not seen deleted (gone from AWS), except those an open change
holds. A run that fails (AWS unreachable, throttled past the retries) or is interrupted (its worker
killed) deletes nothing, and adopted objects are never touched beyond `last_seen`; running again is
safe, as (environment, container, name) is unique.

Progress (objects found, API calls, throttled calls, what is being read, a heartbeat) is written
on the DiscoveryRun while it works. One run per environment at a time: a running run whose
heartbeat is recent blocks another; one without progress for DISCOVERY_STALE_SECONDS is marked
Interrupted. A run that succeeds writes one audit event (DISCOVERED) for the environment.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from changes import kinds
from changes.choices import OPEN_STATES, SyncStatus
from changes.models import ChangeItem, ChangeRequest
from environments import aws
from environments.models import Environment

from . import ownership
from .models import DiscoveryRun, RunState

log = logging.getLogger(__name__)

CHUNK = 500  # rows per bulk write, ids per UPDATE/DELETE


class DiscoveryBusy(Exception):
    """Another discovery of the environment is running (and making progress)."""

    def __init__(self, run: DiscoveryRun):
        self.run = run
        super().__init__(f"A discovery of {run.environment.name} is already running (started "
                         f"{timezone.localtime(run.started):%Y-%m-%d %H:%M:%S}); its progress is shown below.")


def discoverable_kinds() -> list[kinds.Kind]:
    return [kind for kind in kinds.all_kinds() if hasattr(kind.handler, "discover")]


# ---------------------------------------------------------------------------------------------
# Runs: one at a time per environment; a run without progress is interrupted
# ---------------------------------------------------------------------------------------------
def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.DISCOVERY_STALE_SECONDS)


def runs_mark_interrupted(environment=None, *, now: datetime | None = None) -> int:
    """Mark Interrupted the running runs (of `environment`, or all) with no progress for
    DISCOVERY_STALE_SECONDS: their worker died. Returns how many."""
    now = now or timezone.now()
    cut = _stale_before(now)
    stale = DiscoveryRun.objects.filter(state=RunState.RUNNING).filter(
        Q(heartbeat__lt=cut) | Q(heartbeat__isnull=True, started__lt=cut))
    if environment is not None:
        stale = stale.filter(environment=environment)
    return stale.update(state=RunState.INTERRUPTED, finished=now, stage="Interrupted", error=(
        f"No progress for {settings.DISCOVERY_STALE_SECONDS} s: the worker running it stopped. "
        "Nothing was deleted; run it again."))


def run_start(environment, *, requested_by=None) -> DiscoveryRun:
    """A new run, waiting for a worker (heartbeat None until one claims it); DiscoveryBusy while another
    run of the environment is running."""
    with transaction.atomic():
        Environment.objects.select_for_update().filter(pk=environment.pk).first()  # one starter at a time
        runs_mark_interrupted(environment)
        running = DiscoveryRun.objects.filter(environment=environment, state=RunState.RUNNING).first()
        if running is not None:
            raise DiscoveryBusy(running)
        return DiscoveryRun.objects.create(environment=environment, requested_by=requested_by,
                                           stage="Waiting for a worker")


def _claim(run: DiscoveryRun) -> bool:
    return bool(DiscoveryRun.objects.filter(pk=run.pk, state=RunState.RUNNING, heartbeat__isnull=True)
                .update(heartbeat=timezone.now(), stage="Starting"))


def latest_run(environment) -> DiscoveryRun | None:
    return DiscoveryRun.objects.filter(environment=environment).select_related("requested_by").first()


# ---------------------------------------------------------------------------------------------
# Counting API calls and throttled answers on the clients discovery uses
# ---------------------------------------------------------------------------------------------
class _Counter:
    """Requests sent (botocore's before-send: every attempt, retries included) and answers that were
    throttles (needs-retry sees every answer, the last one too), on the clients of `services`."""

    def __init__(self, environment, services):
        self.sent: list[int] = []  # list.append is atomic: the readers run in threads
        self.throttles: list[str] = []
        self.clients = [aws.client(environment, service) for service in sorted(set(services))]
        for client in self.clients:
            client.meta.events.register_first("before-send", self._sent)
            client.meta.events.register("needs-retry", self._answered)

    def _sent(self, **kwargs):
        self.sent.append(1)

    def _answered(self, response=None, **kwargs):
        if response is None:
            return None
        http, parsed = response
        code = (parsed or {}).get("Error", {}).get("Code", "")
        if code in aws.THROTTLE_CODES or getattr(http, "status_code", 0) == 429:
            self.throttles.append(code or "429")
        return None  # never a retry delay: botocore's own handler decides

    def stop(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-send", self._sent)
            client.meta.events.unregister("needs-retry", self._answered)


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
def environment_discover(environment, *, run: DiscoveryRun | None = None, requested_by=None) -> DiscoveryRun:
    """Discover every kind's objects in `environment` (synchronous: what the task runs).

    `run`: a run made by `run_start` (Discover now, beat) for this worker to claim; without one, a new
    run is started (DiscoveryBusy when another is running). A run that was already claimed and has
    made progress recently is left to its worker (DiscoveryBusy); one found interrupted (its worker
    died: a redelivered task) is followed by a new run. Returns the run, finished.
    """
    if run is None:
        run = run_start(environment, requested_by=requested_by)
    if not _claim(run):
        runs_mark_interrupted(environment)
        run.refresh_from_db()
        if run.state == RunState.RUNNING:
            raise DiscoveryBusy(run)
        if run.state != RunState.INTERRUPTED:
            return run  # finished already (a task delivered twice)
        run = run_start(environment, requested_by=run.requested_by)
        _claim(run)
    run.refresh_from_db()
    return _Discovery(environment, run).run()


class _Discovery:
    def __init__(self, environment, run: DiscoveryRun):
        self.environment, self.run_row = environment, run
        self.kinds = discoverable_kinds()
        self.found = self.created = self.updated = self.removed = 0
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []
        self.touch: list[int] = []

    # -- progress ---------------------------------------------------------------------------------
    def progress(self, stage: str, **more) -> None:
        DiscoveryRun.objects.filter(pk=self.run_row.pk).update(
            stage=stage[:200], heartbeat=timezone.now(), found=self.found, created=self.created,
            updated=self.updated, removed=self.removed, api_calls=len(self.counter.sent),
            throttled=len(self.counter.throttles), counts=self.counts, **more)

    def run(self) -> DiscoveryRun:
        services = {ownership.SERVICE, *(s for kind in self.kinds for s in kind.handler.DISCOVER_SERVICES)}
        self.counter = _Counter(self.environment, services)
        try:
            for kind in self.kinds:
                self.discover_kind(kind)
            self.stacks()
            for kind in self.kinds:
                self.remove_gone(kind)
            self.finish()
        except (BotoCoreError, ClientError) as exc:
            self.fail(aws.describe_error(exc))
        except Exception as exc:  # a bug: said on the run (nothing deleted), and logged with its traceback
            log.exception("Discovery of %s failed", self.environment.name)
            self.fail(f"Discovery stopped on an unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self.counter.stop()
        self.run_row.refresh_from_db()
        return self.run_row

    def fail(self, error: str) -> None:
        self.progress("Failed", state=RunState.FAILED, finished=timezone.now(),
                      error=f"{error} Nothing was deleted; what was read so far is kept. Run it again.")

    def finish(self) -> None:
        words = ", ".join(f"{n} {kind.label.lower()}{'s' if n != 1 else ''}"
                          for kind in self.kinds for n in [self.counts.get(kind.name, 0)])
        message = (f"Discovery found {words}: {self.created} new unmanaged, {self.updated} changed in AWS, "
                   f"{self.removed} gone from AWS; {len(self.counter.sent)} API calls, "
                   f"{len(self.counter.throttles)} throttled.")
        with transaction.atomic():
            self.progress("Done", state=RunState.SUCCEEDED, finished=timezone.now(), error=" ".join(self.notes))
            audit_record(action=AuditAction.DISCOVERED, object_type=ObjectType.ENVIRONMENT,
                         object_id=self.environment.pk, object_repr=self.environment.name,
                         environment=self.environment, actor=self.run_row.requested_by, message=message,
                         with_diff=False, data={"run": self.run_row.pk, "found": self.counts, "created": self.created,
                                                "updated": self.updated, "removed": self.removed,
                                                "api_calls": len(self.counter.sent),
                                                "throttled": len(self.counter.throttles), "notes": self.notes})

    # -- one kind ---------------------------------------------------------------------------------
    def discover_kind(self, kind: kinds.Kind) -> None:
        handler, model, container = kind.handler, kind.model_class, kind.container_field
        label = f"{kind.label.lower()}s"
        self.progress(f"Reading {label}")
        fields = ("id", "sync_status", container, "name", *handler.DISCOVER_FIELDS)
        known = {(getattr(row, container), row.name): row
                 for row in model.objects.filter(environment=self.environment).only(*fields).iterator(chunk_size=2000)}
        added: set[tuple[str, str]] = set()
        self.counts[kind.name] = 0
        for page in handler.discover(self.environment, known=known):
            self.record_page(kind, page.objects, known, added)
            self.progress(f"Reading {label}: {page.where}")
        self.flush_touch(model)

    def record_page(self, kind: kinds.Kind, found, known, added: set) -> None:
        handler, model, container = kind.handler, kind.model_class, kind.container_field
        now = timezone.now()
        new, candidates = [], {}
        for item in found:
            key = (item.container, item.name)
            row = known.get(key)
            if row is None and (key in added or item.live is None):
                continue  # listed twice (the listing moved under us): once is enough
            self.found += 1
            self.counts[kind.name] += 1
            if row is None:
                obj = model(environment=self.environment, name=item.name, **{container: item.container},
                            sync_status=SyncStatus.UNMANAGED, desired_spec=None, version=0,
                            owner_service=item.owner_service, origin={"discovered_by_run": self.run_row.pk},
                            first_seen=now, last_seen=now)
                self.fill(handler, obj, item.live, now)
                new.append(obj)
                added.add(key)
            elif row.is_managed or item.live is None:
                self.touch.append(row.pk)
            else:
                candidates[row.pk] = item
        with transaction.atomic():
            if new:
                # A row someone created meanwhile (a create applied, another run) keeps its place: no duplicate.
                model.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
                self.created += len(new)
            if candidates:
                self.update_changed(kind, candidates, now)
        if len(self.touch) >= CHUNK:
            self.flush_touch(model)

    @staticmethod
    def fill(handler, obj, live, now) -> None:
        snapshot, extra = handler.split_live(live)
        obj.live_spec = snapshot
        for name, value in extra.items():
            setattr(obj, name, value)
        handler.denormalise(obj, snapshot, now=now)

    def update_changed(self, kind: kinds.Kind, candidates: dict, now) -> None:
        """Write the unmanaged rows whose object changed in AWS; touch the others."""
        handler, model = kind.handler, kind.model_class
        rows = list(model.objects.select_for_update().filter(pk__in=list(candidates), sync_status=SyncStatus.UNMANAGED))
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        changed, written = [], set()
        for obj in rows:
            item = candidates[obj.pk]
            before = {f.attname: getattr(obj, f.attname) for f in fields}
            self.fill(handler, obj, item.live, now)
            obj.owner_service = item.owner_service
            after = {f.attname: getattr(obj, f.attname) for f in fields}
            moved = {name for name in after if after[name] != before[name]}
            if moved - {"next_run"}:  # a next run moving on with time alone is no change in AWS
                obj.last_seen = now
                changed.append(obj)
                written |= moved
        if changed:
            model.objects.bulk_update(changed, fields=sorted(written | {"last_seen"}), batch_size=CHUNK)
            self.updated += len(changed)
        self.touch += [pk for pk in candidates if pk not in {obj.pk for obj in changed}]

    def flush_touch(self, model) -> None:
        now = timezone.now()
        while self.touch:
            chunk, self.touch = self.touch[:CHUNK], self.touch[CHUNK:]
            model.objects.filter(pk__in=chunk).update(last_seen=now)

    # -- CloudFormation ---------------------------------------------------------------------------
    def stacks(self) -> None:
        typed = {kind.cloudformation_type: kind for kind in self.kinds
                 if kind.cloudformation_type and hasattr(kind.handler, "stack_key")}
        if not typed:
            return
        self.progress("Reading CloudFormation stacks (which objects a stack owns)")
        try:
            resources = ownership.stack_resources(self.environment, set(typed))
        except ownership.OwnershipUnknown as exc:
            self.notes.append(f"CloudFormation could not be read, so stack ownership was not updated: {exc}")
            return
        for cf_type, kind in typed.items():
            self.record_stacks(kind, [r for r in resources if r.resource_type == cf_type])

    def record_stacks(self, kind: kinds.Kind, resources) -> None:
        """Set (or clear) stack_name and origin["stack"] on the kind's unmanaged rows."""
        model, container = kind.model_class, kind.container_field
        exact, by_name = {}, {}
        for resource in resources:
            where, name = kind.handler.stack_key(resource.physical_id)
            if where:
                exact[(where, name)] = resource
            else:
                by_name[name] = resource
        rows = model.objects.unmanaged().filter(environment=self.environment).filter(
            Q(stack_name__gt="") | Q(name__in=list(by_name)) | Q(name__in=[name for _, name in exact]))
        rows = list(rows.only("id", container, "name", "stack_name", "origin"))
        named: dict[str, list] = {}
        for obj in rows:
            named.setdefault(obj.name, []).append(obj)
        changed = []
        for obj in rows:
            resource = exact.get((getattr(obj, container), obj.name))
            if resource is None and obj.name in by_name and len(named[obj.name]) == 1:
                resource = by_name[obj.name]  # the id names no container: the one object of that name
            stack_name = resource.stack_name if resource else ""
            origin = {k: v for k, v in (obj.origin or {}).items() if k != "stack"}
            if resource:
                origin["stack"] = resource.origin()
            if stack_name != obj.stack_name or origin != (obj.origin or {}):
                obj.stack_name, obj.origin = stack_name, origin
                changed.append(obj)
        model.objects.bulk_update(changed, fields=["stack_name", "origin"], batch_size=CHUNK)

    # -- what is gone -----------------------------------------------------------------------------
    def remove_gone(self, kind: kinds.Kind) -> None:
        """Delete the kind's unmanaged rows this run did not see, but those an open change holds."""
        model = kind.model_class
        self.progress(f"Removing the {kind.label.lower()}s gone from AWS")
        held = set(ChangeRequest.objects.filter(kind=kind.name, environment=self.environment, state__in=OPEN_STATES)
                   .exclude(**{f"{kind.change_field}__isnull": True})
                   .values_list(kind.change_field, flat=True))
        held |= set(ChangeItem.objects.filter(change__kind=kind.name, change__environment=self.environment,
                                              change__state__in=OPEN_STATES).values_list("object_id", flat=True))
        unseen = Q(last_seen__lt=self.run_row.started) | Q(last_seen__isnull=True)
        gone = [pk for pk in model.objects.unmanaged().filter(environment=self.environment).filter(unseen)
                .values_list("pk", flat=True) if pk not in held]
        for start in range(0, len(gone), CHUNK):
            with transaction.atomic():
                deleted = model.objects.unmanaged().filter(pk__in=gone[start:start + CHUNK]).filter(unseen).delete()
            self.removed += deleted[1].get(model._meta.label, 0)
