"""bench/seed_account.py at a small size: what it made, read back with boto3 from the moto server."""
import boto3
import pytest

from bench.seed_account import Seeded, seed_account
from environments.models import Environment

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def test_seeded_account_is_what_the_report_says(aws_url):
    seeded = seed_account(aws_url, rules=13, buses=3, schedules=31, groups=3, threads=4, demo=False)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    events, scheduler = session.client("events", endpoint_url=aws_url), session.client("scheduler", endpoint_url=aws_url)

    buses = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert sorted(buses) == ["bench-bus-01", "bench-bus-02", "default"]
    rules = {bus: events.list_rules(EventBusName=bus, Limit=100)["Rules"] for bus in buses}
    assert {bus: len(found) for bus, found in rules.items()} == {"default": 5, "bench-bus-01": 4, "bench-bus-02": 4}
    assert seeded.rules_per_bus == {"default": 5, "bench-bus-01": 4, "bench-bus-02": 4}
    targets = {r["Name"]: len(events.list_targets_by_rule(Rule=r["Name"], EventBusName=bus)["Targets"])
               for bus, found in rules.items() for r in found}
    assert max(targets.values()) == 5 and min(targets.values()) == 0  # up to 5 targets each, some none
    assert sum(targets.values()) == seeded.targets
    tagged = [r for found in rules.values() for r in found
              if events.list_tags_for_resource(ResourceARN=r["Arn"])["Tags"]]
    assert len(tagged) == seeded.tagged_rules > 0
    assert any("ScheduleExpression" in r for r in rules["default"])  # scheduled rules, on the default bus only
    assert not any("ScheduleExpression" in r for bus in buses if bus != "default" for r in rules[bus])

    groups = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert sorted(groups) == ["bench-group-01", "bench-group-02", "default"]
    schedules = scheduler.list_schedules(MaxResults=100)["Schedules"]
    assert len(schedules) == 31 == seeded.schedules
    assert {g: sum(s["GroupName"] == g for s in schedules) for g in groups} == {
        "default": 11, "bench-group-01": 10, "bench-group-02": 10}
    one = scheduler.get_schedule(Name=schedules[0]["Name"], GroupName=schedules[0]["GroupName"])
    assert one["Target"]["RoleArn"].startswith("arn:aws:iam::123456789012:role/")

    assert seeded.demo == {}  # demo=False: no demo environments (the benches add them; environments.demo is
    assert not Environment.objects.exists()  # tested on its own)

    assert seeded.fewest_discovery_calls() == {
        "ListEventBuses": 1, "ListRules": 3, "ListTargetsByRule": 13, "ListTagsForResource": 13,
        "ListScheduleGroups": 1, "ListSchedules": 1, "GetSchedule": 31}


def test_fewest_calls_count_pages_of_a_hundred():
    seeded = Seeded(region="us-east-1", rules_per_bus={"default": 100, "a": 101, "b": 0},
                    schedules_per_group={"default": 200, "g": 50})
    assert seeded.fewest_discovery_calls() == {
        "ListEventBuses": 1, "ListRules": 1 + 2 + 1, "ListTargetsByRule": 201, "ListTagsForResource": 201,
        "ListScheduleGroups": 1, "ListSchedules": 3, "GetSchedule": 250}
    assert seeded.fewest_steady_calls()["GetSchedule"] == 0
    assert seeded.fewest_steady_calls()["ListSchedules"] == 3
