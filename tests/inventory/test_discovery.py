"""Discovery against a moto server over HTTP, seeded with boto3: what it finds, what it costs, what it
leaves alone, and what disappears."""
import json
from collections import Counter

import pytest
from botocore.awsrequest import AWSResponse

from audit.models import AuditEvent
from changes.choices import ChangeAction, ChangeState, SyncStatus
from changes.models import ChangeItem, ChangeRequest
from environments import aws
from inventory.discovery import environment_discover
from inventory.models import RunState
from rules.models import Rule
from schedules.models import Schedule
from tests.rules.test_apply import submit_and_apply as rule_submit_and_apply
from tests.schedules.test_apply import spec as schedule_spec
from tests.schedules.test_apply import submit_and_apply as schedule_submit_and_apply
from tests.support.recording import recorded_calls

pytestmark = [pytest.mark.django_db, pytest.mark.aws]
calls = pytest.fixture(recorded_calls, name="calls")

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler-role"
ORDERS = {"source": ["shop.orders"], "detail-type": ["Order Created"]}
INVOICES = {"source": ["billing"], "detail": {"status": ["paid"]}}


def seed(environment) -> dict:
    """What an account already has, made directly in AWS (not through EventConsole)."""
    events, scheduler = aws.client(environment, "events"), aws.client(environment, "scheduler")
    sqs, cfn = aws.client(environment, "sqs"), aws.client(environment, "cloudformation")
    queue = sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="orders-q")["QueueUrl"],
                                     AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="orders.created-v1_a", EventPattern=json.dumps(ORDERS), State="ENABLED",
                    Description="by hand", Tags=[{"Key": "team", "Value": "orders"}])
    events.put_targets(Rule="orders.created-v1_a", Targets=[{"Id": "q1", "Arn": queue}])
    events.create_event_bus(Name="billing")
    events.put_rule(Name="invoice_paid.v2", EventBusName="billing", EventPattern=json.dumps(INVOICES),
                    State="DISABLED")
    events.put_targets(Rule="invoice_paid.v2", EventBusName="billing",
                       Targets=[{"Id": "a", "Arn": queue}, {"Id": "b", "Arn": queue, "Input": '{"x": 1}'}])
    # An AWS service's own rule: an archive makes Events-Archive-<name>, ManagedBy the archive service.
    events.create_archive(ArchiveName="keep", EventSourceArn=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")
    # A stack's rule on the default bus: its PhysicalResourceId is the rule's name.
    template = {"Resources": {"Nightly": {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": "rate(1 day)", "State": "ENABLED"}}}}
    stack_id = cfn.create_stack(StackName="ops", TemplateBody=json.dumps(template))["StackId"]
    stack_rule = next(r["PhysicalResourceId"] for r in cfn.list_stack_resources(StackName="ops")["StackResourceSummaries"]
                      if r["LogicalResourceId"] == "Nightly")
    scheduler.create_schedule_group(Name="team_a")
    target = {"Arn": queue, "RoleArn": ROLE}
    scheduler.create_schedule(Name="nightly.report-1", ScheduleExpression="cron(0 2 * * ? *)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    scheduler.create_schedule(Name="hourly-sync_2", GroupName="team_a", ScheduleExpression="rate(1 hour)",
                              FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}, Target=target,
                              State="DISABLED")
    return {"queue": queue, "stack_id": stack_id, "stack_rule": stack_rule}


def managed(users, environment, queue):
    """One rule and one schedule EventConsole already manages (created through a change request)."""
    rule = {"Rule": {"Name": "managed-rule", "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": json.dumps({"source": ["mine"]})}, "Targets": [{"Id": "q", "Arn": queue}],
            "Tags": []}
    rule_submit_and_apply(users["operator"], environment, rule)
    schedule_submit_and_apply(users["operator"], environment, schedule_spec(name="managed_schedule"))
    return Rule.objects.get(name="managed-rule"), Schedule.objects.get(name="managed_schedule")


def unmanaged(model):
    return {(o.event_bus_name if model is Rule else o.group_name, o.name): o for o in model.objects.unmanaged()}


def snapshot(obj):
    return (obj.desired_spec, obj.version, obj.sync_status, obj.live_spec, obj.owner_service, obj.stack_name)


def test_discovery_finds_exactly_what_is_not_managed_with_its_spec_owner_and_stack(users, environment):
    seeded = seed(environment)
    rule, schedule = managed(users, environment, seeded["queue"])
    before = (snapshot(rule), snapshot(schedule))

    run = environment_discover(environment, requested_by=users["operator"])

    assert run.state == RunState.SUCCEEDED, run.error
    rules, schedules = unmanaged(Rule), unmanaged(Schedule)
    assert set(rules) == {("default", "orders.created-v1_a"), ("billing", "invoice_paid.v2"),
                          ("default", "Events-Archive-keep"), ("default", seeded["stack_rule"])}
    assert set(schedules) == {("default", "nightly.report-1"), ("team_a", "hourly-sync_2")}
    # the right specs, in the spec's shape
    orders = rules[("default", "orders.created-v1_a")]
    assert json.loads(orders.live_spec["Rule"]["EventPattern"]) == ORDERS
    assert orders.live_spec["Rule"]["Description"] == "by hand"
    assert orders.live_spec["Targets"] == [{"Id": "q1", "Arn": seeded["queue"]}]
    assert orders.live_spec["Tags"] == [{"Key": "team", "Value": "orders"}]
    assert (orders.desired_spec, orders.version, orders.state, orders.targets_count) == (None, 0, "ENABLED", 1)
    invoice = rules[("billing", "invoice_paid.v2")]
    assert invoice.live_spec["Rule"]["EventBusName"] == "billing" and invoice.state == "DISABLED"
    assert [(t["Id"], t.get("Input")) for t in invoice.live_spec["Targets"]] == [("a", None), ("b", '{"x": 1}')]
    archive = rules[("default", "Events-Archive-keep")]
    assert archive.owner_service == "prod.vhs.events.aws.internal" and archive.stack_name == ""
    stack_rule = rules[("default", seeded["stack_rule"])]
    assert stack_rule.stack_name == "ops" and stack_rule.owner_service == ""
    assert stack_rule.origin["stack"] == {"name": "ops", "id": seeded["stack_id"], "logical_id": "Nightly"}
    assert stack_rule.schedule_expression == "rate(1 day)"
    assert orders.origin["discovered_by_run"] == run.pk and orders.first_seen and orders.last_seen
    hourly = schedules[("team_a", "hourly-sync_2")]
    assert (hourly.expression, hourly.state, hourly.target_arn) == ("rate(1 hour)", "DISABLED", seeded["queue"])
    assert hourly.live_spec["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert hourly.live_spec["Target"]["RoleArn"] == ROLE and hourly.live_modified
    nightly = schedules[("default", "nightly.report-1")]
    assert nightly.expression == "cron(0 2 * * ? *)" and nightly.next_run is not None
    # what EventConsole already managed: one row each, untouched but for last_seen
    assert Rule.objects.filter(name="managed-rule").count() == 1 == Schedule.objects.filter(name="managed_schedule").count()
    rule.refresh_from_db(), schedule.refresh_from_db()
    assert (snapshot(rule), snapshot(schedule)) == before
    assert rule.last_seen is not None and schedule.last_seen is not None
    # the run's figures and one audit event
    assert (run.found, run.created, run.updated, run.removed) == (8, 6, 0, 0)
    assert run.counts == {"rule": 5, "schedule": 3}
    event = AuditEvent.objects.get(action="discovery.finished")
    assert (event.object_type, event.object_id, event.environment_id) == ("environment", str(environment.pk), environment.pk)
    assert event.actor_id == users["operator"].pk


def test_a_second_run_costs_the_listings_only_and_follows_changes_in_aws(users, environment, calls):
    managed(users, environment, seed(environment)["queue"])
    calls.clear()
    first = environment_discover(environment)
    assert first.state == RunState.SUCCEEDED, first.error
    assert Counter(calls)["GetSchedule"] == 2  # the two unmanaged schedules, read once

    # when nothing changed
    calls.clear()
    steady = environment_discover(environment)
    # then: no GetSchedule, and the calls are the formula (README, "Discovery"), on the emulator (tags per rule):
    # ListEventBuses 1 + ListRules 1 per bus (2) + 2 per unmanaged rule (targets, tags: 4 rules)
    # + ListScheduleGroups 1 + ListSchedules 1 + ListStacks 1 + ListStackResources 1 per stack (1)
    assert steady.state == RunState.SUCCEEDED, steady.error
    assert Counter(calls) == {"ListEventBuses": 1, "ListRules": 2, "ListTargetsByRule": 4, "ListTagsForResource": 4,
                              "ListScheduleGroups": 1, "ListSchedules": 1, "ListStacks": 1, "ListStackResources": 1}
    assert steady.api_calls == 1 + 2 + 2 * 4 + 1 + 1 + 1 + 1 == len(calls)
    assert (steady.created, steady.updated, steady.removed, steady.throttled) == (0, 0, 0, 0)
    assert Rule.objects.count() == 5 and Schedule.objects.count() == 3

    # when a schedule is updated in AWS, and a rule and a schedule are deleted there
    scheduler, events = aws.client(environment, "scheduler"), aws.client(environment, "events")
    scheduler.update_schedule(Name="hourly-sync_2", GroupName="team_a", ScheduleExpression="rate(2 hours)",
                              FlexibleTimeWindow={"Mode": "OFF"},
                              Target=scheduler.get_schedule(Name="hourly-sync_2", GroupName="team_a")["Target"])
    scheduler.delete_schedule(Name="nightly.report-1")
    events.remove_targets(Rule="orders.created-v1_a", Ids=["q1"])
    events.delete_rule(Name="orders.created-v1_a")
    calls.clear()
    moved = environment_discover(environment)
    # then the updated one is read again (one GetSchedule), the deleted ones leave Unmanaged
    assert moved.state == RunState.SUCCEEDED, moved.error
    assert Counter(calls)["GetSchedule"] == 1
    assert (moved.created, moved.updated, moved.removed) == (0, 1, 2)
    hourly = Schedule.objects.get(name="hourly-sync_2")
    assert hourly.expression == "rate(2 hours)" and hourly.live_spec["ScheduleExpression"] == "rate(2 hours)"
    assert hourly.sync_status == SyncStatus.UNMANAGED
    assert not Schedule.objects.filter(name="nightly.report-1").exists()
    assert not Rule.objects.filter(name="orders.created-v1_a").exists()
    assert AuditEvent.objects.filter(action="discovery.finished").count() == 3


@pytest.mark.parametrize("count", [100, 101])
def test_a_bus_with_a_page_of_exactly_100_rules_or_one_more(environment, count):
    events = aws.client(environment, "events")
    events.create_event_bus(Name="big.bus-1_x")
    names = {f"r.{i:03d}-x_{i % 7}" for i in range(count)}
    for name in names:
        events.put_rule(Name=name, EventBusName="big.bus-1_x", EventPattern=json.dumps({"source": [name]}))
    run = environment_discover(environment)
    assert run.state == RunState.SUCCEEDED, run.error
    found = list(Rule.objects.unmanaged().filter(event_bus_name="big.bus-1_x").values_list("name", flat=True))
    assert sorted(found) == sorted(names)  # none lost, none repeated
    assert json.loads(Rule.objects.get(event_bus_name="big.bus-1_x", name="r.042-x_0").live_spec["Rule"]["EventPattern"]) \
        == {"source": ["r.042-x_0"]}


def test_cloudformation_refused_does_not_fail_discovery_and_is_said_on_the_run(environment):
    seeded = seed(environment)
    assert environment_discover(environment).state == RunState.SUCCEEDED
    assert Rule.objects.get(name=seeded["stack_rule"]).stack_name == "ops"
    events = aws.client(environment, "events")
    events.put_rule(Name="later", EventPattern=json.dumps({"source": ["later"]}))

    def deny(request, **kwargs):  # AWS's answer to credentials without cloudformation:ListStacks
        body = (b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
                b'<Code>AccessDenied</Code><Message>User is not authorized to perform: cloudformation:ListStacks'
                b'</Message></Error><RequestId>1</RequestId></ErrorResponse>')

        class Body:
            def stream(self, **kwargs):
                yield body
        return AWSResponse(request.url, 403, {"Content-Type": "text/xml"}, Body())

    def refuse_cloudformation(client, env, service):
        if service == "cloudformation":
            client.meta.events.register("before-send", deny)

    aws.add_client_hook(refuse_cloudformation)
    try:
        run = environment_discover(environment)
    finally:
        aws.remove_client_hook(refuse_cloudformation)
    assert run.state == RunState.SUCCEEDED
    assert run.error.startswith("CloudFormation could not be read, so stack ownership was not updated: AWS refused")
    assert Rule.objects.unmanaged().filter(name="later").exists()
    assert Rule.objects.get(name=seeded["stack_rule"]).stack_name == "ops"  # what was known is kept


def test_an_object_gone_from_aws_stays_while_an_open_change_holds_it(users, environment):
    events = aws.client(environment, "events")
    events.put_rule(Name="to-adopt", EventPattern=json.dumps({"source": ["a"]}))
    environment_discover(environment)
    rule = Rule.objects.unmanaged().get(name="to-adopt")
    change = ChangeRequest.objects.create(kind="rule", action=ChangeAction.ADOPT, environment=environment,
                                          author=users["operator"], state=ChangeState.SUBMITTED)
    ChangeItem.objects.create(change=change, object_id=rule.pk, object_name=rule.object_name, spec=rule.live_spec)
    events.delete_rule(Name="to-adopt")

    held = environment_discover(environment)
    assert held.removed == 0 and Rule.objects.filter(pk=rule.pk).exists()

    ChangeRequest.objects.filter(pk=change.pk).update(state=ChangeState.REJECTED)
    released = environment_discover(environment)
    assert released.removed == 1 and not Rule.objects.filter(pk=rule.pk).exists()
