"""Tests for rules.catalog: the data files, their sample events, and the pattern form <-> JSON round trip."""

import json
import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from rules import catalog
from rules.catalog import ALL_EVENTS, FormState, NotRepresentable, build_pattern, pattern_to_form

DATA_FILES = sorted((Path(catalog.__file__).parent / "data").glob("*.json"))

SERVICE_KEYS = {"key", "label", "source", "event_types"}
EVENT_TYPE_KEYS = {"key", "label", "detail_types", "fields", "samples"}
FIELD_KEYS = {"key", "label", "any_label", "path", "kind"}
SAMPLE_KEYS = {"key", "label", "event"}
ENVELOPE_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}

EVENT_TYPES = [
    (svc["key"], etype)
    for svc in map(catalog.service, (s["key"] for s in catalog.services()))
    for etype in svc["event_types"]
    if etype["key"] != ALL_EVENTS
]
FIELDS = [(service_key, etype, field) for service_key, etype in EVENT_TYPES for field in etype["fields"]]


def _id(service_key, etype, field=None):
    return "/".join(filter(None, [service_key, etype["key"], field and field["key"]]))


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _matches(pattern, event):
    """EventBridge matching for what the form produces: nested objects and lists of strings."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        actual = event[key]
        if isinstance(expected, dict):
            if not (isinstance(actual, dict) and _matches(expected, actual)):
                return False
        elif not set(actual if isinstance(actual, list) else [actual]) & set(expected):
            return False
    return True


def _example_values(etype, field):
    """A value the form could offer for the field: a choice, or a value from the first sample."""
    return [field["choices"][0]] if field["kind"] == "choice-list" else [_get(etype["samples"][0]["event"], field["path"])]


#
# The data files
#


def test_catalog_covers_the_required_services():
    sources = {svc["source"] for svc in catalog.services()}

    assert sources >= {
        "aws.s3",
        "aws.ec2",
        "aws.autoscaling",
        "aws.cloudwatch",
        "aws.ecs",
        "aws.codepipeline",
        "aws.health",
        "aws.events",
        "aws.iam",
    }


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: path.name)
def test_data_file_has_the_required_keys(path):
    data = json.loads(path.read_text(encoding="utf-8"))

    assert set(data) == SERVICE_KEYS
    assert data["key"] == path.stem
    assert data["source"].startswith("aws.")
    assert data["event_types"]
    for etype in data["event_types"]:
        assert EVENT_TYPE_KEYS <= set(etype) <= EVENT_TYPE_KEYS | {"fixed"}, etype["key"]
        assert etype["key"] != ALL_EVENTS
        assert etype["detail_types"] and all(isinstance(dt, str) for dt in etype["detail_types"])
        assert etype["samples"], f"{etype['key']} has no sample event"
        for field in etype["fields"]:
            optional = {"choices"} if field["kind"] == "choice-list" else {"suggestions"}
            assert FIELD_KEYS <= set(field) <= FIELD_KEYS | optional, field["key"]
            assert field["kind"] in {"choice-list", "text-list"}
            assert field["path"] and all(isinstance(key, str) for key in field["path"])
            assert field["path"][0] not in {"source", "detail-type"}
            if field["kind"] == "choice-list":
                assert field["choices"] and all(isinstance(choice, str) for choice in field["choices"])
        for smp in etype["samples"]:
            assert set(smp) == SAMPLE_KEYS


def test_keys_and_sources_are_unique():
    services = catalog.services()
    sample_keys = [smp["key"] for smp in catalog.samples()]

    assert len({svc["source"] for svc in services}) == len(services)
    assert len(set(sample_keys)) == len(sample_keys)
    for svc in map(catalog.service, (s["key"] for s in services)):
        type_keys = [etype["key"] for etype in svc["event_types"]]
        detail_types = [dt for etype in svc["event_types"] for dt in etype["detail_types"]]
        assert len(set(type_keys)) == len(type_keys), svc["key"]
        assert len(set(detail_types)) == len(detail_types), f"{svc['key']}: a detail-type in two event types"


@pytest.mark.parametrize(("service_key", "etype"), EVENT_TYPES, ids=[_id(*args) for args in EVENT_TYPES])
def test_field_paths_are_distinct_and_apart_from_fixed_values(service_key, etype):
    paths = [tuple(field["path"]) for field in etype["fields"]]
    paths += [path for path, _ in catalog._leaves(etype.get("fixed", {}))]

    for path in paths:
        for other in paths:
            assert path == other or other[: len(path)] != path, f"{path} overlaps {other}"
    assert len(set(paths)) == len(paths)


#
# The sample events
#


@pytest.mark.parametrize("key", [smp["key"] for smp in catalog.samples()])
def test_sample_has_the_full_envelope(key):
    entry = next(smp for smp in catalog.samples() if smp["key"] == key)
    svc = catalog.service(entry["service"])
    etype = catalog.event_type(entry["service"], entry["event_type"])

    event = catalog.sample(key)

    assert set(event) == ENVELOPE_KEYS
    assert event["version"] == "0"
    assert str(uuid.UUID(event["id"])) == event["id"]
    assert event["account"] == "123456789012"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    datetime.fromisoformat(event["time"])
    assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", event["region"])
    assert isinstance(event["resources"], list) and all(isinstance(r, str) for r in event["resources"])
    assert isinstance(event["detail"], dict)
    assert event["source"] == svc["source"]
    assert event["detail-type"] in etype["detail_types"]
    assert entry["detail_type"] == event["detail-type"]


def test_sample_ids_are_unique():
    ids = [catalog.sample(smp["key"])["id"] for smp in catalog.samples()]

    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("service_key", "etype"), EVENT_TYPES, ids=[_id(*args) for args in EVENT_TYPES])
def test_every_sample_has_every_field_the_form_offers(service_key, etype):
    for smp in etype["samples"]:
        for path, fixed in catalog._leaves(etype.get("fixed", {})):
            assert _get(smp["event"], path) in fixed, smp["key"]
        for field in etype["fields"]:
            value = _get(smp["event"], field["path"])
            assert isinstance(value, str) and value, f"{smp['key']}: {field['path']}"
            if field["kind"] == "choice-list":
                assert value in field["choices"], f"{smp['key']}: {value!r}"


@pytest.mark.parametrize(("service_key", "etype"), EVENT_TYPES, ids=[_id(*args) for args in EVENT_TYPES])
def test_patterns_from_the_form_match_the_samples(service_key, etype):
    for smp in etype["samples"]:
        event = smp["event"]
        own_values = {field["key"]: [_get(event, field["path"])] for field in etype["fields"]}

        assert _matches(build_pattern(service_key, etype["key"]), event), smp["key"]
        assert _matches(build_pattern(service_key, etype["key"], [event["detail-type"]], own_values), event)
        assert _matches(build_pattern(service_key, ALL_EVENTS), event)


def test_lookups_return_copies():
    catalog.sample("s3-object-created")["detail"]["bucket"]["name"] = "changed"
    catalog.service("s3")["event_types"].clear()
    catalog.event_type("ec2", "ec2-instance-state-change")["fields"].clear()

    assert catalog.sample("s3-object-created")["detail"]["bucket"]["name"] == "processing-bucket-1"
    assert catalog.service("s3")["event_types"]
    assert catalog.event_type("ec2", "ec2-instance-state-change")["fields"]


def test_services_are_sorted_by_label_and_start_with_all_events():
    labels = [svc["label"] for svc in catalog.services()]

    assert labels == sorted(labels, key=str.casefold)
    for svc in catalog.services():
        assert catalog.service(svc["key"])["event_types"][0]["key"] == ALL_EVENTS


@pytest.mark.parametrize(
    "call",
    [
        lambda: catalog.service("nope"),
        lambda: catalog.event_type("s3", "nope"),
        lambda: catalog.sample("nope"),
        lambda: build_pattern("nope", "s3-notification"),
    ],
)
def test_unknown_keys_raise_key_error(call):
    with pytest.raises(KeyError):
        call()


#
# Form -> pattern
#


def test_build_pattern_worked_example():
    pattern = build_pattern("s3", "s3-notification", ["Object Created"], {"bucket": ["processing-bucket-1"]})

    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["processing-bucket-1"]}},
    }


def test_any_event_lists_every_detail_type_of_the_event_type():
    # given the console's "Any event" / "Any state" choices
    s3_any = build_pattern("s3", "s3-notification")
    ec2_any = build_pattern("ec2", "ec2-instance-state-change")

    # then the pattern names the event type's detail-types, so CloudTrail events of the same source stay out
    assert s3_any["detail-type"] == catalog.event_type("s3", "s3-notification")["detail_types"]
    assert ec2_any == {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]}


def test_build_pattern_nests_fields_and_fixed_values():
    alarm = build_pattern("cloudwatch", "cloudwatch-alarm-state-change", values={"state": ["ALARM"], "alarm": ["cpu"]})
    api_call = build_pattern("ec2", "ec2-api-call", values={"operation": ["StopInstances", "TerminateInstances"]})

    assert alarm["detail"] == {"state": {"value": ["ALARM"]}, "alarmName": ["cpu"]}
    assert api_call == {
        "source": ["aws.ec2"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["ec2.amazonaws.com"], "eventName": ["StopInstances", "TerminateInstances"]},
    }


def test_all_events_matches_the_whole_source():
    assert build_pattern("health", ALL_EVENTS) == {"source": ["aws.health"]}
    assert pattern_to_form({"source": ["aws.health"]}) == FormState("health", ALL_EVENTS, None, {})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("s3", "s3-notification", ["Object Exploded"]), "has no event"),
        (("s3", "s3-notification", []), "choose at least one event"),
        (("s3", "s3-notification", None, {"colour": ["red"]}), 'has no field "colour"'),
        (("s3", "s3-notification", None, {"bucket": []}), 'leave the field out for "Any bucket"'),
        (("s3", "s3-notification", None, {"bucket": "my-bucket"}), "give one or more values"),
        (("s3", "s3-notification", None, {"bucket": [""]}), "is not a text value"),
        (("ec2", "ec2-instance-state-change", None, {"state": ["rebooting"]}), '"rebooting" is not one of'),
        (("ec2", ALL_EVENTS, None, {"instance": ["i-1"]}), '"All Events" takes no'),
    ],
)
def test_build_pattern_rejects_what_the_form_would_not_offer(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_pattern(*args)


#
# Pattern -> form, and the round trip
#


@pytest.mark.parametrize(("service_key", "etype"), EVENT_TYPES, ids=[_id(*args) for args in EVENT_TYPES])
def test_round_trip_for_every_event_type(service_key, etype):
    every_field = {field["key"]: _example_values(etype, field) for field in etype["fields"]}
    form_states = [
        FormState(service_key, etype["key"], None, {}),
        FormState(service_key, etype["key"], None, every_field),
    ]
    if len(etype["detail_types"]) > 1:
        form_states.append(FormState(service_key, etype["key"], etype["detail_types"][-1:], every_field))

    for form_state in form_states:
        assert pattern_to_form(build_pattern(*form_state)) == form_state


@pytest.mark.parametrize(("service_key", "etype", "field"), FIELDS, ids=[_id(*args) for args in FIELDS])
def test_round_trip_for_every_field(service_key, etype, field):
    values = field["choices"] if field["kind"] == "choice-list" else _example_values(etype, field) + ["another"]
    form_state = FormState(service_key, etype["key"], None, {field["key"]: values})

    assert pattern_to_form(build_pattern(*form_state)) == form_state


def test_pattern_to_form_reads_hand_written_json():
    # given a pattern typed into the JSON editor, its lists in another order than the form writes them
    detail_types = catalog.event_type("autoscaling", "asg-instance-launch-terminate")["detail_types"]
    pattern = {
        "detail": {"AutoScalingGroupName": ["web-asg"]},
        "detail-type": list(reversed(detail_types)),
        "source": ["aws.autoscaling"],
    }

    # when / then: every detail-type of the event type reads as "Any event"
    assert pattern_to_form(pattern) == FormState(
        "autoscaling", "asg-instance-launch-terminate", None, {"group": ["web-asg"]}
    )


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (
            {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"object": {"key": [{"prefix": "in/"}]}}},
            'uses the "prefix" operator, which the pattern form cannot show',
        ),
        ({"source": [{"prefix": "aws."}]}, 'uses the "prefix" operator'),
        (
            {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"object": {"size": [{"numeric": [">", 0]}]}}},
            'uses the "numeric" operator',
        ),
        (
            {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
             "detail": {"state": [{"anything-but": ["pending"]}]}},
            'uses the "anything-but" operator',
        ),
        (
            {"source": ["aws.ec2"], "$or": [{"detail": {"state": ["running"]}}, {"detail": {"state": ["stopped"]}}]},
            'uses "$or"',
        ),
        ({"source": ["my.application"]}, 'source "my.application" is not an AWS service'),
        ({"source": ["aws.s3", "aws.ec2"]}, "matches 2 sources"),
        ({"detail-type": ["Object Created"]}, 'needs a "source" list'),
        ({"source": ["aws.ec2"], "detail-type": ["Something Else"]}, 'EC2 has no event "Something Else"'),
        (
            {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification", "AWS API Call via CloudTrail"]},
            "mixes events of several event types",
        ),
        (
            {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
             "detail": {"state": ["rebooting"]}},
            '"rebooting" is not one of',
        ),
        (
            {"source": ["aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": ["StopInstances"]}},
            'always sets "detail.eventSource" to ["ec2.amazonaws.com"]',
        ),
        (
            {"source": ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"],
             "detail": {"eventSource": ["s3.amazonaws.com"], "requestParameters": {"bucketName": ["b"]}}},
            'filters on "detail.requestParameters.bucketName", which the pattern form',
        ),
        ({"source": ["aws.ec2"], "region": ["us-east-1"]}, 'filters on "region" without a "detail-type"'),
        (
            {"source": ["aws.codepipeline"], "detail-type": ["CodePipeline Pipeline Execution State Change"],
             "detail": {"pipeline-execution-attempt": [1]}},
            '"detail.pipeline-execution-attempt" matches 1; the pattern form matches text only',
        ),
        ({"source": "aws.s3"}, '"source" must be a non-empty list'),
        ({}, "the pattern is empty"),
        (["aws.s3"], "must be a JSON object"),
    ],
)
def test_pattern_to_form_explains_what_the_form_cannot_show(pattern, reason):
    with pytest.raises(NotRepresentable, match=re.escape(reason)):
        pattern_to_form(pattern)


def test_not_representable_is_a_value_error():
    assert issubclass(NotRepresentable, ValueError)
