"""Poll: read every managed rule of an environment from AWS, compare with desired, record drift.

Calls: ListRules per bus (paged, 100 a page: it returns the whole rule but its targets and tags),
ListTargetsByRule per rule, and the Resource Groups Tagging API's GetResources for every rule's
tags in a few paged calls. That is one call per rule plus paging. Where GetResources is not
allowed, or on the local emulator (moto does not list rules there), tags are read with
ListTagsForResource per rule: two calls per rule plus paging.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction, ObjectType
from audit.services import audit_record
from changes.choices import SyncStatus
from changes.selectors import apply_in_progress
from environments import aws

from . import aws_reader
from .kind import status_against
from .models import Rule

DRIFT_STATES = (SyncStatus.DRIFTED, SyncStatus.MISSING)


@dataclass
class PollReport:
    rules: int = 0
    in_sync: int = 0
    drifted: int = 0
    missing: int = 0
    api_calls: int = 0
    changed: list[str] = field(default_factory=list)


def _count_calls(environment, services=("events", "resourcegroupstaggingapi")):
    counter = {"n": 0}

    def hook(**kwargs):
        counter["n"] += 1

    for service in services:
        aws.client(environment, service).meta.events.register("after-call", hook)

    def stop():
        for service in services:
            aws.client(environment, service).meta.events.unregister("after-call", hook)
        return counter["n"]
    return stop


def rules_poll(environment) -> PollReport:
    report = PollReport()
    stop_counting = _count_calls(environment)
    try:
        rules = list(Rule.objects.filter(environment=environment).only(
            "id", "name", "event_bus_name", "desired_spec", "sync_status", "version"))
        listings = {bus: aws_reader.list_rules(environment, bus) for bus in {r.event_bus_name for r in rules}}
        tags = aws_reader.tags_by_arn(environment) if rules else {}
        events = aws.client(environment, "events")
        for rule in rules:
            entry = listings[rule.event_bus_name].get(rule.name)
            if entry is None:
                live = None
            else:
                targets = aws_reader.list_targets(events, rule.name, rule.event_bus_name)
                rule_tags = (tags.get(entry["Arn"], []) if tags is not None
                             else events.list_tags_for_resource(ResourceARN=entry["Arn"]).get("Tags", []))
                live = aws_reader.spec_from_api(entry, targets, rule_tags)
            _record(rule, live, environment=environment, report=report)
    finally:
        report.api_calls = stop_counting()
    return report


def _record(rule: Rule, live, *, environment, report: PollReport) -> None:
    from changes.services import changes_mark_stale

    status, drift = status_against(rule.desired_spec, live, environment=environment)
    report.rules += 1
    report.in_sync += status == SyncStatus.IN_SYNC
    report.drifted += status == SyncStatus.DRIFTED
    report.missing += status == SyncStatus.MISSING
    with transaction.atomic():
        locked = Rule.objects.select_for_update().filter(pk=rule.pk).first()
        if locked is None or locked.version != rule.version:
            return  # deleted or applied meanwhile: the next poll sees the new state
        if apply_in_progress(locked):
            return  # an apply is writing this rule right now
        previous = locked.sync_status
        if previous == SyncStatus.FAILED and status != SyncStatus.IN_SYNC:
            status = SyncStatus.FAILED  # keep showing the failed apply until it is fixed
        if locked.desired_spec is None:
            status = SyncStatus.PENDING
        locked.live_spec, locked.sync_status, locked.drift, locked.last_polled = live, status, drift, timezone.now()
        locked.save(update_fields=["live_spec", "sync_status", "drift", "last_polled", "last_updated"])
        common = dict(object_type=ObjectType.RULE, object_id=locked.pk, object_repr=locked.object_name,
                      environment=environment)
        if status in DRIFT_STATES and previous not in DRIFT_STATES:
            report.changed.append(locked.object_name)
            message = ("The rule is missing in AWS" if status == SyncStatus.MISSING
                       else f"The rule in AWS differs from the desired spec in {len(drift)} field(s)")
            audit_record(action=AuditAction.DRIFT_DETECTED, before=locked.desired_spec, after=live, message=message,
                         **common)
            changes_mark_stale(kind="rule", target=locked, reason=f"Drift detected: {message.lower()}")
        elif status == SyncStatus.IN_SYNC and previous in DRIFT_STATES:
            report.changed.append(locked.object_name)
            audit_record(action=AuditAction.DRIFT_CLEARED, message="The rule in AWS matches the desired spec again",
                         with_diff=False, **common)
