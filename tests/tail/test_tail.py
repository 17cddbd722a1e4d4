"""A live tail's life against the moto server over HTTP: the rule, queue, policy and tags it creates, events
arriving on the page's read endpoint, removal on Stop, when the page closes and on expiry; the sweep; refusals.

Tasks run in this process as their transaction commits (apply_inline); the killed-worker drill uses real
workers (test_sweep_drill.py)."""
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.choices import AuditAction
from audit.models import AuditEvent
from rules.models import Rule
from tail import services
from tail.models import TailSession, TailState

pytestmark = [pytest.mark.aws, pytest.mark.django_db(transaction=True)]

ALL_EVENTS = {"source": [{"prefix": ""}]}  # every event has a source; an empty prefix matches each


def start_on_bus(client, environment, bus="default"):
    response = client.post(reverse("tail:tail_start"), {"environment": environment.pk, "bus": bus})
    return response, TailSession.objects.order_by("-id").first()


def put_event(moto, source="com.example.orders", detail=None, bus="default"):
    answer = moto("events").put_events(Entries=[{"Source": source, "DetailType": "Order Placed",
                                                 "Detail": json.dumps(detail or {"orderId": "o-1"}),
                                                 "EventBusName": bus}])
    assert answer["FailedEntryCount"] == 0
    return answer["Entries"][0]["EventId"]


def read(client, session):
    response = client.post(reverse("tail:tail_events", args=[session.pk]))
    assert response.status_code == 200
    return response.json()


def test_listening_to_a_bus_creates_a_tagged_rule_and_queue_that_only_this_rule_may_send_to(
        operator, environment, moto, apply_inline):
    response, session = start_on_bus(operator, environment)
    assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
    session.refresh_from_db()
    assert session.state == TailState.OPEN and session.name.startswith(f"eventconsole-tail-{session.pk}-")
    events, sqs = moto("events"), moto("sqs")
    rule = events.describe_rule(Name=session.name)
    assert json.loads(rule["EventPattern"]) == ALL_EVENTS and rule["State"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]}
    expires = timezone.datetime.fromisoformat(tags["eventconsole:expires"])
    assert tags["eventconsole:tail"] == str(session.pk)
    assert timedelta(seconds=895) < expires - timezone.now() <= timedelta(seconds=900)  # TAIL_TIME_LIMIT_SECONDS
    url = sqs.get_queue_url(QueueName=session.name)["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == tags
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "QueueArn"])["Attributes"]
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == attributes["QueueArn"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
    (target,) = events.list_targets_by_rule(Rule=session.name)["Targets"]
    assert target["Arn"] == attributes["QueueArn"]
    created = AuditEvent.objects.get(action=AuditAction.TAIL_CREATED)
    assert created.object_repr == session.name and created.data["rule_arn"] == rule["Arn"]
    assert created.on_behalf_of_id == session.created_by_id and created.environment_name == "Sandbox"


def test_events_arrive_on_the_read_endpoint_once_and_stop_removes_everything(operator, environment, moto,
                                                                            apply_inline):
    _, session = start_on_bus(operator, environment)
    first, second = put_event(moto, detail={"n": 1}), put_event(moto, source="com.example.other", detail={"n": 2})
    got = []
    for _ in range(5):  # each read waits up to a second for messages; two events may come in two reads
        got += [e["event"] for e in read(operator, session)["events"]]
        if len(got) == 2:
            break
    assert sorted((e["id"], e["detail"]["n"]) for e in got) == sorted([(first, 1), (second, 2)])
    assert read(operator, session)["events"] == []  # read messages were deleted from the queue
    page = operator.get(session.get_absolute_url()).content.decode()  # its Send a test event: this bus
    assert f"?environment={environment.pk}&amp;bus=default" in page
    form = operator.get(f"{reverse('tail:send_test_event')}?environment={environment.pk}&bus=default").context["form"]
    assert (form.initial["environment"], form.initial["bus"]) == (environment.pk, "default")
    assert TailSession.objects.get(pk=session.pk).received == 2

    response = operator.post(reverse("tail:tail_stop", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.state, session.closed_reason) == (TailState.CLOSED, "stopped")
    assert moto("events").list_rules(NamePrefix="eventconsole-tail-")["Rules"] == []
    assert moto("sqs").list_queues(QueueNamePrefix="eventconsole-tail-").get("QueueUrls", []) == []
    removed = AuditEvent.objects.get(action=AuditAction.TAIL_REMOVED)
    assert removed.data["removed"] == [f"rule {session.name} on default", f"queue {session.name}"]
    assert read(operator, session)["state"] == "closed"
    put_event(moto)  # the bus works on: nothing points at the deleted queue


def test_closing_the_page_beacon_removes_the_tail(operator, environment, moto, apply_inline):
    _, session = start_on_bus(operator, environment)
    response = operator.post(reverse("tail:tail_stop", args=[session.pk]), {"beacon": "1"})
    assert response.status_code == 204
    session.refresh_from_db()
    assert (session.state, session.closed_reason) == (TailState.CLOSED, "page closed")
    assert moto("events").list_rules(NamePrefix="eventconsole-tail-")["Rules"] == []


def test_one_worker_at_a_time_removes_a_closing_tail_and_records_it_once(operator, environment, moto, apply_inline):
    # the tail opens inline; its removal is then asked by hand, as the stop, the expiry and each beat's sweep
    # may all ask at once
    _, session = start_on_bus(operator, environment)
    session.refresh_from_db()
    assert session.state == TailState.OPEN
    now = timezone.now()
    # another worker claimed the removal a moment ago: this one leaves it alone (no AWS call, no audit event)
    TailSession.objects.filter(pk=session.pk).update(state=TailState.CLOSING, closed_reason="stopped", closed_at=now)
    services.tail_close(session.pk)
    assert [r["Name"] for r in moto("events").list_rules(NamePrefix="eventconsole-tail-")["Rules"]] == [session.name]
    assert not AuditEvent.objects.filter(action=AuditAction.TAIL_REMOVED).exists()
    # a claim older than CLOSE_CLAIM (its worker died, or AWS failed) is taken over, and recorded once
    TailSession.objects.filter(pk=session.pk).update(closed_at=now - services.CLOSE_CLAIM - timedelta(seconds=1))
    services.tail_close(session.pk)
    services.tail_close(session.pk)  # asked again: it is closed already
    session.refresh_from_db()
    assert session.state == TailState.CLOSED
    assert moto("events").list_rules(NamePrefix="eventconsole-tail-")["Rules"] == []
    removed = AuditEvent.objects.get(action=AuditAction.TAIL_REMOVED)
    assert removed.data["removed"] == [f"rule {session.name} on default", f"queue {session.name}"]


def test_stopped_before_its_worker_began_nothing_is_created(users, environment, moto, apply_inline):
    session = TailSession.objects.create(environment=environment, pattern=json.dumps(ALL_EVENTS),
                                         name="eventconsole-tail-1-abc", created_by=users["operator"],
                                         expires_at=timezone.now() + timedelta(minutes=5))
    assert services.tail_stop(session, reason="stopped") is True
    services.tail_open(session.pk)  # the worker's task arrives late
    session.refresh_from_db()
    assert (session.state, session.closed_reason) == (TailState.CLOSED, "stopped")
    assert moto("events").list_rules()["Rules"] == []
    assert moto("sqs").list_queues().get("QueueUrls", []) == []


def test_a_failed_start_says_why_in_words_and_leaves_nothing(operator, environment, moto, apply_inline):
    _, session = start_on_bus(operator, environment, bus="missing-bus")  # PutRule on a bus that does not exist
    session.refresh_from_db()
    assert (session.state, session.closed_reason) == (TailState.FAILED, "failed to start")
    assert "PutRule" in session.error and "missing-bus" in session.error
    assert moto("sqs").list_queues().get("QueueUrls", []) == []


def test_a_rules_tail_uses_its_pattern_on_its_bus(operator, environment, moto, apply_inline):
    moto("events").create_event_bus(Name="orders")
    pattern = json.dumps({"source": ["com.example.orders"]})
    rule = Rule.objects.create(environment=environment, event_bus_name="orders", name="orders-rule", version=1,
                               desired_spec={"Rule": {"Name": "orders-rule", "EventBusName": "orders",
                                                      "EventPattern": pattern}, "Targets": [], "Tags": []})
    operator.post(reverse("tail:tail_start"), {"rule": rule.pk})
    session = TailSession.objects.get()
    assert (session.rule, session.event_bus_name, session.state) == (rule, "orders", TailState.OPEN)
    assert moto("events").describe_rule(Name=session.name, EventBusName="orders")["EventPattern"] == pattern
    put_event(moto, source="com.example.other", bus="orders")
    put_event(moto, source="com.example.orders", detail={"n": 7}, bus="orders")
    got = [e["event"] for _ in range(3) for e in read(operator, session)["events"]]
    assert [(e["source"], e["detail"]) for e in got] == [("com.example.orders", {"n": 7})]


def test_the_time_limit_closes_the_tail_and_the_sweep_removes_only_what_is_ours_and_expired(
        operator, environment, moto, apply_inline):
    _, session = start_on_bus(operator, environment)
    events, sqs = moto("events"), moto("sqs")
    # Beside it: a rule and a queue named like ours but not tagged as ours, one of ours not expired yet,
    # and one of ours expired whose console row is gone (another installation, a restored database).
    later = (timezone.now() + timedelta(hours=2)).isoformat(timespec="seconds")
    gone = (timezone.now() - timedelta(minutes=1)).isoformat(timespec="seconds")
    events.put_rule(Name="eventconsole-tail-somebody-else", EventPattern=json.dumps(ALL_EVENTS))
    sqs.create_queue(QueueName="eventconsole-tail-somebody-else")
    for name, expires in (("eventconsole-tail-999-later", later), ("eventconsole-tail-998-orphan", gone)):
        tags = {"eventconsole:tail": "x", "eventconsole:expires": expires}
        events.put_rule(Name=name, EventPattern=json.dumps(ALL_EVENTS), Tags=[{"Key": k, "Value": v}
                                                                            for k, v in tags.items()])
        sqs.create_queue(QueueName=name, tags=tags)

    report = services.tail_sweep(now=timezone.now() + timedelta(seconds=901))  # past the session's 900 s limit
    session.refresh_from_db()
    assert (session.state, session.closed_reason) == (TailState.CLOSED, "time limit reached")
    # the orphan expired a minute ago; "later" expires in two hours, an hour after the sweep's "now"
    assert report == {"Sandbox": 2}
    rules = sorted(r["Name"] for r in events.list_rules(NamePrefix="eventconsole-tail-")["Rules"])
    assert rules == ["eventconsole-tail-999-later", "eventconsole-tail-somebody-else"]
    queues = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues(QueueNamePrefix="eventconsole-tail-")["QueueUrls"])
    assert queues == ["eventconsole-tail-999-later", "eventconsole-tail-somebody-else"]
    swept = AuditEvent.objects.filter(action=AuditAction.TAIL_REMOVED, data__reason="swept")
    assert sorted(e.message for e in swept) == [
        "The sweep removed queue eventconsole-tail-998-orphan: left behind past its expiry",
        "The sweep removed rule eventconsole-tail-998-orphan on default: left behind past its expiry"]


def test_refused_where_an_admin_turned_tailing_off(operator, client_for, environment, moto, apply_inline):
    edit = client_for("admin").get(reverse("environments:environment_edit", args=[environment.pk])).content.decode()
    assert 'name="tailing_allowed"' in edit and "Live tail" in edit  # on the environment's form, on by default
    assert environment.tailing_allowed is True
    environment.tailing_allowed = False
    environment.save()
    response = operator.post(reverse("tail:tail_start"), {"environment": environment.pk, "bus": "default"},
                             follow=True)
    assert "Live tails are turned off in Sandbox" in response.content.decode()
    assert not TailSession.objects.exists()
    assert moto("events").list_rules()["Rules"] == []


def test_a_viewer_may_not_listen_and_nobody_reads_anothers_tail(client_for, environment, moto, apply_inline):
    response = client_for("viewer").post(reverse("tail:tail_start"), {"environment": environment.pk}, follow=True)
    assert "You may not open a live tail in Sandbox" in response.content.decode()
    assert not TailSession.objects.exists()
    _, session = start_on_bus(client_for("operator"), environment)
    admin = client_for("admin")
    assert admin.post(reverse("tail:tail_events", args=[session.pk])).status_code == 403
    assert admin.post(reverse("tail:tail_stop", args=[session.pk])).status_code == 403
    page = admin.get(reverse("tail:tail_detail", args=[session.pk])).content.decode()  # what it is, not its events
    assert "Only the person who opened a live tail sees its events" in page and "tail.js" not in page


@pytest.mark.parametrize("data", [{"environment": "x"}, {"environment": "99999999999"}, {"rule": "nope"},
                                  {"environment": "{env}", "bus": "two words"}, {"environment": "{env}", "bus": "<b>"},
                                  {"environment": "{env}", "bus": "b" * 300}])
def test_bad_input_to_start_is_a_message_never_a_500(operator, environment, data):
    data = {k: v.replace("{env}", str(environment.pk)) for k, v in data.items()}
    response = operator.post(reverse("tail:tail_start"), data, follow=True)
    assert response.status_code == 200 and not TailSession.objects.exists()
    assert response.context["messages"]


def test_discovery_leaves_the_temporary_rule_out(operator, environment, moto, apply_inline):
    from inventory.discovery import environment_discover

    _, session = start_on_bus(operator, environment)
    moto("events").put_rule(Name="made-by-hand", EventPattern=json.dumps({"source": ["x"]}))
    environment_discover(environment)
    assert list(Rule.objects.values_list("name", flat=True)) == ["made-by-hand"]
