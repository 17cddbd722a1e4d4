"""Batch changes (changes.batch): adopt, release, re-apply desired, accept what AWS has.

AWS is a moto server over HTTP, seeded with boto3. Unmanaged rows are made as discovery makes them
(sync status Unmanaged, the live spec read from AWS, no desired spec). Expected specs come from what
was seeded, in the shape the AWS API returns it.
"""
import json

import boto3
import pytest

from audit.choices import AuditAction
from audit.models import AuditEvent
from changes import kinds, polling
from changes.apply import change_request_apply
from changes.batch import NothingEligible, batch_create, batch_preview
from changes.choices import ChangeAction, ChangeState as S, ItemState, SyncStatus
from changes.models import ChangeItem
from changes.services import NotAllowed, change_request_approve
from environments import aws
from environments.models import Environment
from rules import aws_reader
from rules.models import Rule

pytestmark = [pytest.mark.aws]

PATTERN = {"source": ["aws.s3"]}


@pytest.fixture
def moto_events(aws_url):
    return boto3.client("events", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def seed_rule(events, name, *, bus="default", pattern=PATTERN, state="ENABLED"):
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State=state)


def discovered(environment, name, *, bus="default", **fields) -> Rule:
    """An unmanaged row as discovery writes it: what AWS has now, not managed."""
    handler = kinds.handler_for("rule")
    live, extra = handler.split_live(aws_reader.read_rule(environment, name=name, bus=bus))
    rule = Rule(environment=environment, event_bus_name=bus, name=name, sync_status=SyncStatus.UNMANAGED,
                live_spec=live, **extra, **fields)
    handler.denormalise(rule, live)
    rule.save()
    return rule


def expected_spec(name, *, bus="default", pattern=PATTERN, state="ENABLED"):
    """The desired spec an adopted rule gets: the seeded rule in the PutRule shape (no target, no tag)."""
    return {"Rule": {"Name": name, "EventBusName": bus, "EventPattern": json.dumps(pattern, separators=(",", ":")),
                     "State": state}, "Targets": [], "Tags": []}


class CallCounter:
    """Every request our AWS clients send (botocore's before-send), as changes.polling counts them."""

    def __init__(self):
        self.sent = []

    def hook(self, client, environment, service):
        client.meta.events.register_first("before-send", lambda **kw: self.sent.append(service))

    def __enter__(self):
        aws.add_client_hook(self.hook)
        return self

    def __exit__(self, *exc):
        aws.remove_client_hook(self.hook)


def events_of(change, action):
    return AuditEvent.objects.filter(related_id=str(change.pk), action=action)


@pytest.mark.django_db
def test_batch_create_takes_the_eligible_objects_and_counts_the_others(users, environment, moto_events):
    for name in ("a", "b", "c", "d", "e"):
        seed_rule(moto_events, name)
    a, b = discovered(environment, "a"), discovered(environment, "b")
    service = discovered(environment, "c", owner_service="events.amazonaws.com")
    stacked = discovered(environment, "d", stack_name="orders-stack")
    managed = discovered(environment, "e")
    Rule.objects.filter(pk=managed.pk).update(sync_status=SyncStatus.IN_SYNC, desired_spec=managed.live_spec, version=1)
    every = Rule.objects.filter(environment=environment)

    preview = batch_preview(kind="rule", action=ChangeAction.ADOPT, environment=environment, objects=every)
    assert sorted(preview.eligible) == sorted([a.pk, b.pk])
    assert preview.skipped == {"owner_service": 1, "stack": 1, "managed": 1}
    assert preview.stacks == ["orders-stack"] and preview.needs_confirmation == 1

    operator = users["operator"]
    change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=operator,
                          objects=every)
    assert change.rule is None and change.kind == "rule" and change.environment == environment
    assert change.object_name == "2 rules"
    assert change.batch_skipped == {"owner_service": 1, "stack": 1, "managed": 1}
    assert sorted(change.items.values_list("object_id", flat=True)) == sorted([a.pk, b.pk])
    assert all(item.state == ItemState.PENDING and item.plan == [] for item in change.items.all())
    assert change.items.get(object_id=a.pk).spec == expected_spec("a")
    # the environment needs no approval: approved at once and sent to the workers
    assert change.state == S.APPROVED
    # the objects a pending batch holds are left out of another one
    again = batch_preview(kind="rule", action=ChangeAction.ADOPT, environment=environment, objects=every,
                          confirmed_stacks=True)
    assert again.eligible == [stacked.pk] and again.skipped["open_change"] == 2
    # confirmed, the stack's rule is taken; the AWS service's never is
    with_stack = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=operator,
                              objects=[stacked, service], confirmed_stacks=True)
    assert list(with_stack.items.values_list("object_id", flat=True)) == [stacked.pk]
    assert with_stack.wizard["batch"]["confirmed_stacks"] is True

    # release takes managed objects only; re-apply and accept drifted or missing ones only
    release = batch_preview(kind="rule", action=ChangeAction.RELEASE, environment=environment, objects=every)
    assert release.eligible == [managed.pk]
    assert batch_preview(kind="rule", action=ChangeAction.REAPPLY, environment=environment,
                         objects=every).skipped["not_drifted"] == 1
    Rule.objects.filter(pk=managed.pk).update(sync_status=SyncStatus.MISSING)
    assert batch_preview(kind="rule", action=ChangeAction.ACCEPT, environment=environment,
                         objects=every).eligible == [managed.pk]
    with pytest.raises(NothingEligible, match="Nothing to adopt: 1 rule: owned by an AWS service"):
        batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=operator,
                     objects=[service])

    # objects of another environment are refused; so is a user without the Operators role there
    other = Environment.objects.create(name="Other", region="us-east-1", endpoint_url=environment.endpoint_url,
                                       account_id="123456789012")
    with pytest.raises(ValueError, match="not in Other"):
        batch_create(kind="rule", action=ChangeAction.RELEASE, environment=other, author=operator, objects=every)
    with pytest.raises(NotAllowed):
        batch_create(kind="rule", action=ChangeAction.RELEASE, environment=environment, author=users["viewer"],
                     objects=[managed])


@pytest.mark.django_db(transaction=True)
def test_adopt_makes_no_aws_call_and_manages_what_aws_has(users, environment, moto_events):
    names = [f"adopt-{i:03}" for i in range(30)]
    for name in names:
        seed_rule(moto_events, name, state="DISABLED" if name.endswith("7") else "ENABLED")
    rules = [discovered(environment, name) for name in names]
    with CallCounter() as counter:
        change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment,
                              author=users["operator"], objects=Rule.objects.filter(environment=environment))
        change_request_apply(change.pk)
    assert counter.sent == []  # no AWS call, at submission or apply
    change.refresh_from_db()
    assert change.state == S.APPLIED
    for rule in rules:
        rule.refresh_from_db()
        state = "DISABLED" if rule.name.endswith("7") else "ENABLED"
        assert rule.desired_spec == expected_spec(rule.name, state=state)
        assert (rule.version, rule.sync_status, rule.state) == (1, SyncStatus.IN_SYNC, state)
        assert rule.origin["adopted_by_change"] == change.pk
    adopted = events_of(change, AuditAction.ADOPTED)
    assert adopted.count() == 30
    assert sorted(adopted.values_list("object_id", flat=True)) == sorted(str(r.pk) for r in rules)
    assert adopted.get(object_id=str(rules[0].pk)).after == expected_spec("adopt-000")
    summary = events_of(change, AuditAction.BATCH_APPLIED).get()
    assert summary.message == "Adopt: 30 applied, 0 failed, 0 skipped"
    assert summary.data["applied"] == 30
    assert set(change.items.values_list("state", flat=True)) == {ItemState.APPLIED}


@pytest.mark.django_db(transaction=True)
def test_adopt_needing_approval_waits_for_a_reviewer_and_adopts_what_aws_has_then(users, production, aws_url):
    events = boto3.client("events", region_name="eu-west-1", endpoint_url=aws_url, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    seed_rule(events, "orders")
    seed_rule(events, "billing")
    orders, billing = discovered(production, "orders"), discovered(production, "billing")
    change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=production,
                          author=users["operator"], objects=[orders, billing])
    assert change.state == S.SUBMITTED
    with pytest.raises(NotAllowed):
        change_request_approve(change, reviewer=users["operator"])
    # AWS changes before the review: discovery (or a poll) reads the rule again
    seed_rule(events, "orders", pattern={"source": ["aws.ec2"]})
    live, _ = kinds.handler_for("rule").split_live(aws_reader.read_rule(production, name="orders", bus="default"))
    Rule.objects.filter(pk=orders.pk).update(live_spec=live)
    change_request_approve(change, reviewer=users["reviewer"])
    change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == S.APPLIED
    orders.refresh_from_db()
    assert orders.desired_spec == expected_spec("orders", pattern={"source": ["aws.ec2"]})
    assert orders.sync_status == SyncStatus.IN_SYNC
    item = change.items.get(object_id=orders.pk)
    assert "AWS changed since the change was submitted; adopted what AWS has now" in item.message
    assert item.spec == expected_spec("orders", pattern={"source": ["aws.ec2"]})
    assert "adopted what AWS has now" in events_of(change, AuditAction.ADOPTED).get(object_id=str(orders.pk)).message
    assert change.items.get(object_id=billing.pk).message == "Adopted as version 1"


@pytest.mark.django_db(transaction=True)
def test_release_then_adopt_again(users, environment, moto_events):
    seed_rule(moto_events, "kept")
    rule = discovered(environment, "kept")
    operator = users["operator"]
    change_request_apply(batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment,
                                      author=operator, objects=[rule]).pk)
    with CallCounter() as counter:
        release = batch_create(kind="rule", action=ChangeAction.RELEASE, environment=environment, author=operator,
                               objects=[rule])
        change_request_apply(release.pk)
    assert counter.sent == []
    release.refresh_from_db()
    rule.refresh_from_db()
    assert release.state == S.APPLIED and release.object_name == "default/kept"
    assert (rule.sync_status, rule.desired_spec, rule.version) == (SyncStatus.UNMANAGED, None, 1)
    assert rule.live_spec is not None and rule.state == "ENABLED"  # the list still shows what AWS has
    assert events_of(release, AuditAction.RELEASED).get().before == expected_spec("kept")
    assert moto_events.describe_rule(Name="kept")["State"] == "ENABLED"  # AWS untouched
    again = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=operator,
                         objects=[rule])
    change_request_apply(again.pk)
    rule.refresh_from_db()
    assert (rule.sync_status, rule.version, rule.desired_spec) == (SyncStatus.IN_SYNC, 2, expected_spec("kept"))


def adopt_all(environment, operator):
    change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=operator,
                          objects=Rule.objects.filter(environment=environment))
    change_request_apply(change.pk)


@pytest.mark.django_db(transaction=True)
def test_reapply_recreates_deleted_objects_and_one_failure_does_not_stop_the_rest(users, environment, moto_events):
    moto_events.create_event_bus(Name="orders")
    for name in ("r1", "r2", "r3"):
        seed_rule(moto_events, name)
    seed_rule(moto_events, "on-orders", bus="orders")
    for name in ("r1", "r2", "r3"):
        discovered(environment, name)
    discovered(environment, "on-orders", bus="orders")
    adopt_all(environment, users["operator"])
    # the emulator loses them: three rules deleted, and the custom bus with its rule
    for name in ("r1", "r2", "r3"):
        moto_events.delete_rule(Name=name)
    moto_events.delete_rule(Name="on-orders", EventBusName="orders")
    moto_events.delete_event_bus(Name="orders")
    polling.objects_poll(environment, "rule")
    assert set(Rule.objects.values_list("sync_status", flat=True)) == {SyncStatus.MISSING}

    change = batch_create(kind="rule", action=ChangeAction.REAPPLY, environment=environment,
                          author=users["operator"], objects=Rule.objects.filter(environment=environment))
    planned = change.items.get(object_name="default/r1").plan
    assert [call["operation"] for call in planned] == ["PutRule"]
    change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == S.APPLIED
    assert [r["Name"] for r in moto_events.list_rules()["Rules"]] == ["r1", "r2", "r3"]
    for name in ("r1", "r2", "r3"):
        rule = Rule.objects.get(name=name)
        assert (rule.sync_status, rule.version) == (SyncStatus.IN_SYNC, 2)
        item = change.items.get(object_id=rule.pk)
        assert item.state == ItemState.APPLIED and item.message == "Re-applied as version 2: 1 API call"
        assert [(c["operation"], c["ok"]) for c in item.calls] == [("PutRule", True)]
    failed = change.items.get(object_name="orders/on-orders")
    assert failed.state == ItemState.FAILED and "orders" in failed.message and failed.message.startswith("Failed:")
    assert Rule.objects.get(name="on-orders").sync_status == SyncStatus.FAILED
    summary = events_of(change, AuditAction.BATCH_APPLIED).get()
    assert summary.message == "Re-apply desired: 3 applied, 1 failed, 0 skipped"


@pytest.mark.django_db(transaction=True)
def test_accept_makes_what_aws_has_the_desired_spec(users, environment, moto_events):
    seed_rule(moto_events, "edited")
    seed_rule(moto_events, "gone")
    discovered(environment, "edited")
    discovered(environment, "gone")
    adopt_all(environment, users["operator"])
    seed_rule(moto_events, "edited", pattern={"source": ["aws.ec2"]}, state="DISABLED")  # edited in the console
    moto_events.delete_rule(Name="gone")
    polling.objects_poll(environment, "rule")
    edited, gone = Rule.objects.get(name="edited"), Rule.objects.get(name="gone")
    assert (edited.sync_status, gone.sync_status) == (SyncStatus.DRIFTED, SyncStatus.MISSING)
    with CallCounter() as counter:
        change = batch_create(kind="rule", action=ChangeAction.ACCEPT, environment=environment,
                              author=users["operator"], objects=[edited, gone])
        change_request_apply(change.pk)
    assert counter.sent == []
    edited.refresh_from_db()
    assert edited.desired_spec == expected_spec("edited", pattern={"source": ["aws.ec2"]}, state="DISABLED")
    assert (edited.sync_status, edited.version, edited.state) == (SyncStatus.IN_SYNC, 2, "DISABLED")
    assert not Rule.objects.filter(pk=gone.pk).exists()  # missing: removed, as an applied delete is
    assert set(ChangeItem.objects.filter(change=change).values_list("state", flat=True)) == {ItemState.APPLIED}
    assert events_of(change, AuditAction.APPLIED).filter(object_id__in=[str(edited.pk), str(gone.pk)]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_adopting_a_schedule_makes_what_scheduler_has_the_desired_spec(users, environment, aws_url):
    from schedules import aws_reader as schedule_reader
    from schedules.models import Schedule

    scheduler = boto3.client("scheduler", region_name="us-east-1", endpoint_url=aws_url,
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    target = {"Arn": "arn:aws:sqs:us-east-1:123456789012:jobs", "RoleArn": "arn:aws:iam::123456789012:role/sched"}
    scheduler.create_schedule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    handler = kinds.handler_for("schedule")
    live, extra = handler.split_live(schedule_reader.read_schedule(environment, name="nightly", group="default"))
    schedule = Schedule(environment=environment, name="nightly", sync_status=SyncStatus.UNMANAGED, live_spec=live,
                        **extra)
    handler.denormalise(schedule, live)
    schedule.save()
    with CallCounter() as counter:
        change = batch_create(kind="schedule", action=ChangeAction.ADOPT, environment=environment,
                              author=users["operator"], objects=[schedule])
        change_request_apply(change.pk)
    assert counter.sent == []
    schedule.refresh_from_db()
    assert (schedule.version, schedule.sync_status) == (1, SyncStatus.IN_SYNC)
    desired = schedule.desired_spec
    assert (desired["Name"], desired["GroupName"], desired["ScheduleExpression"], desired["State"]) == (
        "nightly", "default", "cron(0 2 * * ? *)", "ENABLED")
    assert (desired["Target"]["Arn"], desired["Target"]["RoleArn"]) == (target["Arn"], target["RoleArn"])
    assert "Arn" not in desired and schedule.next_run is not None


@pytest.mark.django_db(transaction=True)
def test_a_worker_told_to_stop_hands_the_batch_back_and_the_next_one_applies_it(users, environment, moto_events):
    from changes import apply
    from changes.choices import AttemptStatus

    for name in ("s1", "s2"):
        seed_rule(moto_events, name)
        discovered(environment, name)
    change = batch_create(kind="rule", action=ChangeAction.ADOPT, environment=environment, author=users["operator"],
                          objects=Rule.objects.all())
    apply.stop_requested.set()  # SIGTERM reached the pool process (changes.tasks) as the apply starts
    try:
        change_request_apply(change.pk, task_id="stopping")
    finally:
        apply.stop_requested.clear()
    change.refresh_from_db()
    assert change.state == S.APPROVED and change.lease_owner == ""
    assert set(change.items.values_list("state", flat=True)) == {ItemState.PENDING}
    stopped = change.apply_attempts.get()
    assert (stopped.status, stopped.error_code) == (AttemptStatus.FAILED, "WorkerStopped")
    assert set(Rule.objects.values_list("sync_status", flat=True)) == {SyncStatus.UNMANAGED}
    change_request_apply(change.pk)
    change.refresh_from_db()
    assert change.state == S.APPLIED and change.attempts == 2
    assert set(Rule.objects.values_list("version", "sync_status")) == {(1, SyncStatus.IN_SYNC)}
