"""Tests for awslang.transform: what a target receives (Input / InputPath / InputTransformer).

Expected outputs come from the AWS docs "Amazon EventBridge input transformation" (example
table, predefined variables) and from AWS-recorded results (localstack's AWS-validated
snapshots: missing variables, aws.events.event shape, PutTargets error messages).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from awslang.transform import TransformError, render_target_input, validate_target_input

RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"
DOC_EVENT = {  # the EC2 event of the documentation page
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
DOC_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}


def render(target: dict, event: dict = DOC_EVENT, **kwargs) -> str:
    return render_target_input({"Id": "t1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q", **target}, event,
                               rule_arn=RULE_ARN, rule_name="example", **kwargs)


def transformer(template: str, paths: dict | None = None) -> dict:
    return {"InputTransformer": {"InputPathsMap": DOC_PATHS if paths is None else paths,
                                 "InputTemplate": template}}


DOCUMENTED = [
    ("simple string", '"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ("string with escaped quotes", '"instance \\"<instance>\\" is in <state>"',
     '"instance \\"i-0123456789\\" is in RUNNING"'),
    ("simple JSON", '{\n  "instance" : <instance>,\n  "state": <state>\n}',
     '{"instance":"i-0123456789","state":"RUNNING"}'),
    ("JSON with strings and variables",
     '{\n "instance" : <instance>,\n "state": "<state>",\n "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
     '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}'),
    ("JSON with variables and static information",
     '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}',
     '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}'),
    ("reserved variables in a string", '"<aws.events.rule-name> triggered"', '"example triggered"'),
    ("CloudWatch Logs template", '{"timestamp" : <timestamp>, "message": "instance \\"<instance>\\" is in <state>"}',
     '{"timestamp":"2015-11-11T21:29:54Z","message":"instance \\"i-0123456789\\" is in RUNNING"}'),
    ("plain text (API reference)", "<instance> is in state <state>", "i-0123456789 is in state RUNNING"),
    ("plain text with quotes (API reference)", '<instance> is in state "<state>"',
     'i-0123456789 is in state "RUNNING"'),
    ("JSON with a variable in and out of quotes (API reference)",
     '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<state>\\""}',
     '{"myInstance":"i-0123456789","myStatus":"i-0123456789 is in state \\"RUNNING\\""}'),
]


@pytest.mark.parametrize("name,template,expected", DOCUMENTED, ids=[c[0] for c in DOCUMENTED])
def test_documented_examples(name, template, expected):
    assert render(transformer(template)) == expected


def test_reserved_variables_in_json():
    output = json.loads(render(transformer(
        '{"instance": <instance>, "ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>,'
        ' "at": <aws.events.event.ingestion-time>, "originalEvent": <aws.events.event>,'
        ' "full": <aws.events.event.json>}')))
    assert output["ruleArn"] == RULE_ARN and output["ruleName"] == "example"
    assert output["at"] == "2015-11-11T21:29:54Z"
    # AWS delivers the metadata without "detail" and spells detail-type as detailType
    assert list(output["originalEvent"]) == ["id", "account", "detailType", "time", "source", "region",
                                             "resources", "version"]
    assert output["originalEvent"]["detailType"] == "EC2 Instance State-change Notification"
    assert output["full"] == DOC_EVENT


def test_predefined_variables_need_no_paths_map():  # AWS-recorded template
    target = {"InputTransformer": {"InputTemplate": '"Message <aws.events.rule-arn> <aws.events.rule-name> '
                                                    '<aws.events.event.ingestion-time>"'}}
    validate_target_input(target)
    at = datetime(2024, 6, 11, 10, 33, 10, tzinfo=timezone(timedelta(hours=2)))
    assert render(target, ingestion_time=at) == f'"Message {RULE_ARN} example 2024-06-11T08:33:10Z"'
    assert render(target, ingestion_time="2024-01-01T00:00:00.123Z").endswith('2024-01-01T00:00:00.123Z"')
    no_time = {k: v for k, v in DOC_EVENT.items() if k != "time"}
    stamp = render(target, no_time).split()[-1].rstrip('"')
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


def test_missing_paths_render_empty():  # AWS-recorded: the variable becomes empty
    paths = {"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.notinmessage"}
    text = '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"'
    assert render(transformer(text, paths)) == (
        '"Event of EC2 Instance State-change Notification type, at time 2015-11-11T21:29:54Z, info '
        'extracted from detail "')
    as_json = render(transformer('{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}', paths))
    assert json.loads(as_json) == {"detailType": "EC2 Instance State-change Notification",
                                   "time": "2015-11-11T21:29:54Z", "command": ""}
    assert render(transformer("<command>!", paths)) == "!"


@pytest.mark.parametrize("path,template,expected", [
    ("$.detail", '{"d": <v>}', '{"d":{"instance-id":"i-0123456789","state":"RUNNING"}}'),
    ("$.detail", '{"d": "<v>"}', '{"d":"{instance-id:i-0123456789,state:RUNNING}"}'),  # inner quotes removed
    ("$.resources", '{"r": <v>}', '{"r":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]}'),
    ("$.resources[0]", '{"r": <v>}', '{"r":"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}'),
    ("$.version", "v<v>", "v0"),
    ("$.detail", "detail=<v>", 'detail={"instance-id":"i-0123456789","state":"RUNNING"}'),
])
def test_value_placement(path, template, expected):
    assert render(transformer(template, {"v": path})) == expected


def test_numbers_booleans_and_null_keep_their_json_type():
    event = {**DOC_EVENT, "detail": {"n": 5, "f": 1.5, "b": False, "z": None}}
    paths = {k: f"$.detail.{k}" for k in ("n", "f", "b", "z")}
    assert render(transformer('{"n": <n>, "f": <f>, "b": <b>, "z": <z>}', paths), event) == \
        '{"n":5,"f":1.5,"b":false,"z":null}'
    assert render(transformer('"<n> <f> <b> <z>"', paths), event) == '"5 1.5 false null"'


def test_values_are_not_escaped():  # AWS: "EventBridge doesn't escape values extracted by Input Path"
    event = {**DOC_EVENT, "detail": {"msg": 'say "hi"'}}
    assert render(transformer('{"m": "<m>"}', {"m": "$.detail.msg"}), event) == '{"m":"say "hi""}'


def test_whitespace_inside_strings_is_kept():
    assert render(transformer('{ "a b" : "x  <state>  y" }')) == '{"a b":"x  RUNNING  y"}'


@pytest.mark.parametrize("path,expected", [
    ("$.detail", '{"instance-id":"i-0123456789","state":"RUNNING"}'),
    ("$.detail.state", '"RUNNING"'),  # AWS-recorded: a string selection arrives JSON-quoted
    ("$", json.dumps(DOC_EVENT, separators=(",", ":"))),
    ("$.resources[0]", '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
    ("$.resources[5]", ""),
    ("$.detail.nothing", ""),
    ("$.detail.*", '["i-0123456789","RUNNING"]'),
    ("$.resources[*]", '["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]'),
])
def test_input_path(path, expected):
    assert render({"InputPath": path}) == expected


def test_wildcard_over_array_of_objects():
    event = {**DOC_EVENT, "detail": {"items": [{"sku": "a"}, {"sku": "b"}, {"other": 1}]}}
    assert render({"InputPath": "$.detail.items[*].sku"}, event) == '["a","b"]'


def test_constant_input_and_whole_event():
    assert render({"Input": '{"fixed": [1, 2]}'}) == '{"fixed": [1, 2]}'
    assert render({}) == json.dumps(DOC_EVENT, separators=(",", ":"))
    assert render({"Input": None, "InputPath": None}) == json.dumps(DOC_EVENT, separators=(",", ":"))
    assert render({}, json.dumps(DOC_EVENT)) == json.dumps(DOC_EVENT, separators=(",", ":"))


INVALID_TARGETS = [
    ({"Input": "{}", "InputPath": "$.detail"},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1"),
    ({"InputPath": "$.detail", **transformer("<state>")}, "Only one of Input, InputPath, or InputTransformer"),
    ({"Input": "{not json"}, "Input is not valid JSON"),
    ({"Input": "NaN"}, "Input is not valid JSON"),
    ({"Input": 5}, "Input must be JSON text"),
    ({"Input": json.dumps("x" * 8200)}, "the limit is 8,192"),
    ({"InputPath": "detail"}, 'must start with "$"'),
    ({"InputPath": ""}, "a JSONPath such as"),
    ({"InputPath": "$['detail']"}, "use dot notation"),
    ({"InputPath": "$.detail..state"}, "not supported at position 8"),
    ({"InputPath": "$.a[-1]"}, "not supported"),
    ({"InputPath": "$." + "a" * 256}, "the limit is 256"),
    ({"InputTransformer": "x"}, "InputTransformer must be an object"),
    ({"InputTransformer": {"InputPathsMap": {}}}, "InputTemplate is required"),
    ({"InputTransformer": {"InputTemplate": ""}}, "InputTemplate is required"),
    ({"InputTransformer": {"InputTemplate": "x" * 8193}}, "the limit is 8,192"),
    ({"InputTransformer": {"InputPathsMap": [], "InputTemplate": "x"}}, "InputPathsMap must be an object"),
    (transformer('"Event of <state> type, with not defined key <notdefinedkey>"'),
     "InputTemplate contains invalid placeholder <notdefinedkey>"),
    (transformer("<aws.events.rule-nam>"), "invalid placeholder <aws.events.rule-nam>"),
    (transformer("<x>", {f"v{i}": "$.detail" for i in range(101)}), "101 variables; the limit is 100"),
    (transformer("x", {"aws.events.rule-name": "$.detail"}), "'aws.events.rule-name' is reserved"),
    (transformer("x", {"AWS.thing": "$.detail"}), "is reserved"),
    (transformer("x", {"bad name": "$.detail"}), "must be 1-256 letters, digits"),
    (transformer("x", {"n" * 257: "$.detail"}), "must be 1-256 letters, digits"),
    (transformer("x", {"v": "detail.state"}), "InputPathsMap['v']: JSONPath 'detail.state' must start with"),
    (transformer("x", {"v": 5}), "InputPathsMap['v']: a JSONPath"),
    (transformer('{<state>: "x"}'), "placeholder <state> cannot be used as an object key"),
    (transformer('{"a": <state> "b": 1}'), "not valid JSON once placeholders are filled in"),
    (transformer('[<state>,]'), "not valid JSON"),
]


@pytest.mark.parametrize("target,message", INVALID_TARGETS, ids=[m for _, m in INVALID_TARGETS])
def test_invalid_targets(target, message):
    full = {"Id": "t1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q", **target}
    with pytest.raises(TransformError) as error:
        validate_target_input(full)
    assert message in str(error.value)
    with pytest.raises(TransformError):
        render_target_input(full, DOC_EVENT, rule_arn=RULE_ARN, rule_name="example")


def test_target_must_be_an_object():
    with pytest.raises(TransformError, match="must be an object"):
        validate_target_input(["Id"])


@pytest.mark.parametrize("target", [
    {},
    {"Input": '"text"'},
    {"InputPath": "$"},
    {"InputPath": "$.detail.requestParameters.x-amz-acl/v2_1[3].*"},
    transformer("static text only", {}),
    transformer('{"a": "<a>", "b": [<a>, <aws.events.event>]}', {"a": "$.detail.a"}),
    transformer('"quoted {<a>}: not a key"', {"a": "$.detail.a"}),
    transformer("a < b > c <a>", {"a": "$.detail.a"}),  # "<" not forming a placeholder is text
])
def test_valid_targets(target):
    validate_target_input({"Id": "t1", **target})
