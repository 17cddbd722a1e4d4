"""Table-driven tests for awslang.patterns: every operator, the documented examples, invalid patterns.

References: docs/aws-behaviours.md, "Event patterns" (the AWS documentation's examples, where it
is silent or wrong, and the answers and rejections of aws/event-ruler, the matcher EventBridge runs).
"""
from __future__ import annotations

import json

import pytest

from awslang import patterns
from awslang.patterns import Mismatch, PatternError, RuleIndex, canonical, explain, matches, pretty, validate

ACCOUNT = "123456789012"


def envelope(detail: dict | None = None, **fields) -> dict:
    """A complete event as PutEvents delivers it (the TestEventPattern envelope)."""
    event = {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Test",
        "source": "dash.p", "account": ACCOUNT, "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1", "resources": [], "detail": {} if detail is None else detail,
    }
    event.update(fields)
    return event


def check(pattern, event, expected: bool) -> None:
    """matches() and explain() agree with the expected answer, for dict and JSON-text input."""
    assert matches(pattern, event) is expected
    assert matches(json.dumps(pattern), json.dumps(event)) is expected
    assert (explain(pattern, event) is None) is expected


# --------------------------------------------------------------------------------------------
# docs/aws-behaviours.md, "Event patterns": the 82 probe cases with aws/event-ruler's answers (the reference).
# --------------------------------------------------------------------------------------------

EVENT_RULER_CASES = [
    (1, "exact string", {'detail': {'state': ['running']}}, {'state': 'running'}, True),
    (2, "exact string, other value", {'detail': {'state': ['running']}}, {'state': 'stopped'}, False),
    (3, "exact is case-sensitive", {'detail': {'state': ['running']}}, {'state': 'Running'}, False),
    (4, "exact number", {'detail': {'n': [5]}}, {'n': 5}, True),
    (5, "exact number vs 5.0", {'detail': {'n': [5]}}, {'n': 5.0}, True),
    (6, "exact number vs string '5'", {'detail': {'n': [5]}}, {'n': '5'}, False),
    (7, "exact true vs string 'true'", {'detail': {'f': [True]}}, {'f': 'true'}, False),
    (8, "exact true", {'detail': {'f': [True]}}, {'f': True}, True),
    (9, "exact null", {'detail': {'x': [None]}}, {'x': None}, True),
    (10, "exact null, field missing", {'detail': {'x': [None]}}, {}, False),
    (11, "exact empty string", {'detail': {'x': ['']}}, {'x': ''}, True),
    (12, "pattern array = OR", {'detail': {'state': ['pending', 'running']}}, {'state': 'running'}, True),
    (13, "event array (resources)", {'resources': ['arn:b']}, {'resources': ['arn:a', 'arn:b']}, True),
    (14, "event array of scalars", {'detail': {'tags': ['b']}}, {'tags': ['a', 'b']}, True),
    (15, "event array of objects", {'detail': {'items': {'sku': ['A1']}}}, {'items': [{'sku': 'B'}, {'sku': 'A1'}]}, True),
    (16, "array consistency (a=1,b=4 in different elements)", {'detail': {'items': {'a': [1], 'b': [4]}}}, {'items': [{'a': 1, 'b': 2}, {'a': 3, 'b': 4}]}, False),
    (17, "nested objects", {'detail': {'x': {'y': {'z': ['deep']}}}}, {'x': {'y': {'z': 'deep'}}}, True),
    (18, "nested objects, wrong leaf", {'detail': {'x': {'y': {'z': ['deep']}}}}, {'x': {'y': {'z': 'shallow'}}}, False),
    (19, "AND across fields", {'detail-type': ['Test'], 'detail': {'a': [1]}}, {'a': 1}, True),
    (20, "prefix", {'detail': {'k': [{'prefix': 'img/'}]}}, {'k': 'img/a.png'}, True),
    (21, "prefix, no match", {'detail': {'k': [{'prefix': 'img/'}]}}, {'k': 'doc/a.png'}, False),
    (22, "prefix on a number", {'detail': {'k': [{'prefix': '1'}]}}, {'k': 123}, False),
    (23, "prefix equals-ignore-case", {'detail': {'k': [{'prefix': {'equals-ignore-case': 'IMG/'}}]}}, {'k': 'img/a'}, True),
    (24, "suffix", {'detail': {'k': [{'suffix': '.png'}]}}, {'k': 'a.png'}, True),
    (25, "suffix, no match", {'detail': {'k': [{'suffix': '.png'}]}}, {'k': 'a.jpg'}, False),
    (26, "suffix equals-ignore-case", {'detail': {'k': [{'suffix': {'equals-ignore-case': '.PNG'}}]}}, {'k': 'a.png'}, True),
    (27, "anything-but string", {'detail': {'s': [{'anything-but': 'init'}]}}, {'s': 'running'}, True),
    (28, "anything-but string, excluded", {'detail': {'s': [{'anything-but': 'init'}]}}, {'s': 'init'}, False),
    (29, "anything-but list, excluded", {'detail': {'s': [{'anything-but': ['stopped', 'overloaded']}]}}, {'s': 'stopped'}, False),
    (30, "anything-but list", {'detail': {'s': [{'anything-but': ['stopped', 'overloaded']}]}}, {'s': 'running'}, True),
    (31, "anything-but number list, excluded", {'detail': {'n': [{'anything-but': [100, 200]}]}}, {'n': 100}, False),
    (32, "anything-but number list", {'detail': {'n': [{'anything-but': [100, 200]}]}}, {'n': 150}, True),
    (33, "anything-but, field missing", {'detail': {'s': [{'anything-but': 'init'}]}}, {}, False),
    (34, "anything-but, event array with excluded value", {'detail': {'s': [{'anything-but': 'a'}]}}, {'s': ['a', 'b']}, True),
    (35, "anything-but, event array only excluded", {'detail': {'s': [{'anything-but': 'a'}]}}, {'s': ['a']}, False),
    (36, "anything-but prefix, excluded", {'detail': {'s': [{'anything-but': {'prefix': 'init'}}]}}, {'s': 'initializing'}, False),
    (37, "anything-but prefix", {'detail': {'s': [{'anything-but': {'prefix': 'init'}}]}}, {'s': 'running'}, True),
    (38, "anything-but suffix, excluded", {'detail': {'s': [{'anything-but': {'suffix': '.txt'}}]}}, {'s': 'a.txt'}, False),
    (39, "anything-but suffix", {'detail': {'s': [{'anything-but': {'suffix': '.txt'}}]}}, {'s': 'a.png'}, True),
    (40, "anything-but equals-ignore-case, excluded", {'detail': {'s': [{'anything-but': {'equals-ignore-case': ['Stopped']}}]}}, {'s': 'STOPPED'}, False),
    (41, "anything-but wildcard, excluded", {'detail': {'s': [{'anything-but': {'wildcard': '*/lib/*'}}]}}, {'s': 'a/lib/b'}, False),
    (42, "anything-but prefix list, excluded", {'detail': {'s': [{'anything-but': {'prefix': ['a', 'b']}}]}}, {'s': 'bx'}, False),
    (43, "numeric range hit", {'detail': {'n': [{'numeric': ['>', 0, '<=', 5]}]}}, {'n': 5}, True),
    (44, "numeric range miss", {'detail': {'n': [{'numeric': ['>', 0, '<=', 5]}]}}, {'n': 0}, False),
    (45, "numeric vs string '3'", {'detail': {'n': [{'numeric': ['>', 0]}]}}, {'n': '3'}, False),
    (46, "numeric = 300 vs 3.0e2", {'detail': {'n': [{'numeric': ['=', 300]}]}}, {'n': 300.0}, True),
    (47, "numeric, event array", {'detail': {'n': [{'numeric': ['>', 10]}]}}, {'n': [1, 20]}, True),
    (48, "numeric vs true", {'detail': {'n': [{'numeric': ['>', 0]}]}}, {'n': True}, False),
    (49, "exists true, present", {'detail': {'c': [{'exists': True}]}}, {'c': 'x'}, True),
    (50, "exists true, missing", {'detail': {'c': [{'exists': True}]}}, {}, False),
    (51, "exists false, missing", {'detail': {'c': [{'exists': False}]}}, {}, True),
    (52, "exists false, present", {'detail': {'c': [{'exists': False}]}}, {'c': 'x'}, False),
    (53, "exists true, value null", {'detail': {'c': [{'exists': True}]}}, {'c': None}, True),
    (54, "exists true, value is object", {'detail': {'c': [{'exists': True}]}}, {'c': {'d': 1}}, False),
    (55, "exists false, value is object", {'detail': {'c': [{'exists': False}]}}, {'c': {'d': 1}}, True),
    (56, "exists true, value empty array", {'detail': {'c': [{'exists': True}]}}, {'c': []}, False),
    (57, "cidr v4 hit", {'detail': {'ip': [{'cidr': '10.0.0.0/24'}]}}, {'ip': '10.0.0.255'}, True),
    (58, "cidr v4 miss", {'detail': {'ip': [{'cidr': '10.0.0.0/24'}]}}, {'ip': '10.0.1.1'}, False),
    (59, "cidr v6 hit", {'detail': {'ip': [{'cidr': '2001:db8::/32'}]}}, {'ip': '2001:db8::1'}, True),
    (60, "equals-ignore-case", {'detail': {'u': [{'equals-ignore-case': 'alice'}]}}, {'u': 'ALICE'}, True),
    (61, "equals-ignore-case miss", {'detail': {'u': [{'equals-ignore-case': 'alice'}]}}, {'u': 'bob'}, False),
    (62, "wildcard hit", {'detail': {'p': [{'wildcard': 'dir/*.png'}]}}, {'p': 'dir/a/b.png'}, True),
    (63, "wildcard miss", {'detail': {'p': [{'wildcard': 'dir/*.png'}]}}, {'p': 'dir/a.jpg'}, False),
    (64, "wildcard escaped star", {'detail': {'p': [{'wildcard': 'a\\*b'}]}}, {'p': 'axb'}, False),
    (65, "$or top-level, 2nd branch", {'$or': [{'detail': {'a': [1]}}, {'detail': {'b': [2]}}]}, {'b': 2}, True),
    (66, "$or top-level, no branch", {'$or': [{'detail': {'a': [1]}}, {'detail': {'b': [2]}}]}, {'b': 3}, False),
    (67, "$or inside detail", {'detail': {'$or': [{'a': [1]}, {'b': [2]}]}}, {'a': 1}, True),
    (68, "mixed list: prefix or exact", {'detail': {'s': [{'prefix': 'a'}, 'zzz']}}, {'s': 'zzz'}, True),
    (69, "dotted key in pattern", {'detail': {'a.b': ['v']}}, {'a': {'b': 'v'}}, True),
    (70, "event array of objects + prefix", {'detail': {'items': {'sku': [{'prefix': 'A'}]}}}, {'items': [{'sku': 'B'}, {'sku': 'A1'}]}, True),
    (71, "exists true inside array of objects", {'detail': {'items': {'sku': [{'exists': True}]}}}, {'items': [{'sku': 'B'}]}, True),
    (72, "exact [1] vs true", {'detail': {'n': [1]}}, {'n': True}, False),
    (73, "exact [true] vs 1", {'detail': {'n': [True]}}, {'n': 1}, False),
    (74, "anything-but [0] vs false", {'detail': {'n': [{'anything-but': [0]}]}}, {'n': False}, True),
    (75, "anything-but [100] vs string '100'", {'detail': {'n': [{'anything-but': [100]}]}}, {'n': '100'}, True),
    (76, "wildcard two stars", {'detail': {'p': [{'wildcard': 'a*b*c'}]}}, {'p': 'aXbYc'}, True),
    (77, "wildcard on a number", {'detail': {'p': [{'wildcard': '1*'}]}}, {'p': 123}, False),
    (78, "exact value vs object", {'detail': {'c': ['x']}}, {'c': {'d': 1}}, False),
    (79, "envelope: account", {'account': ['123456789012']}, {}, True),
    (80, "envelope: region prefix", {'region': [{'prefix': 'us-'}]}, {}, True),
    (81, "envelope: time prefix", {'time': [{'prefix': '2024-01-01T'}]}, {}, True),
    (82, "envelope: detail-type equals-ignore-case", {'detail-type': [{'equals-ignore-case': 'TEST'}]}, {}, True),
]


@pytest.mark.parametrize("number,name,pattern,detail,expected", EVENT_RULER_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in EVENT_RULER_CASES])
def test_event_ruler_reference_cases(number, name, pattern, detail, expected):
    detail = dict(detail)
    resources = detail.pop("resources") if "resources" in pattern else []
    check(pattern, envelope(detail, resources=resources), expected)


# --------------------------------------------------------------------------------------------
# docs/aws-behaviours.md, "Event patterns": the AWS documentation's examples (pattern -> event -> result)
# --------------------------------------------------------------------------------------------

EC2_EVENT = {
    "version": "0", "id": "ee376907-2647-4179-9203-343cfb3017a4",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "111122223333", "time": "2017-10-02T18:43:48Z", "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}
ASG_EVENT = {
    "version": "0", "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
    "detail-type": "EC2 Instance Launch Successful", "source": "aws.autoscaling",
    "account": "123456789012", "time": "2015-11-11T21:31:47Z", "region": "us-east-1",
    "resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-"
                  "b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
                  "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"],
    "detail": {"eventVersion": "", "responseElements": None},
}
MACIE_EVENT = envelope({"schemaVersion": "2.0", "severity": {"score": 1, "description": "Low"},
                        "count": 2}, source="aws.macie", **{"detail-type": "Macie Finding"})
CONTENT_EVENT = {  # the event-ruler README event used by the content-filtering examples
    "version": "0", "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "012345679012", "time": "2017-10-02T16:24:49Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
               "instance-id": "i-000000aaaaaa00000", "state": "running"},
}


def with_detail(event: dict, **detail) -> dict:
    return {**event, "detail": {**event["detail"], **detail}}


DOCUMENTED_EXAMPLES = [
    ("1 EC2 state", {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
                     "detail": {"state": ["terminated"]}}, EC2_EVENT, True),
    ("2 source OR", {"source": ["aws.ec2", "aws.fargate"]}, EC2_EVENT, True),
    ("2 source OR, other source", {"source": ["aws.ec2", "aws.fargate"]}, ASG_EVENT | {"source": "aws.s3"}, False),
    ("3 null value", {"source": ["aws.autoscaling"], "detail-type": ["EC2 Instance Launch Successful"],
                      "detail": {"responseElements": [None]}}, ASG_EVENT, True),
    ("4 empty string", {"detail": {"eventVersion": [""]}}, ASG_EVENT, True),
    ("4 null pattern", {"detail": {"responseElements": [None]}}, ASG_EVENT, True),
    ("4 empty string does not match null", {"detail": {"responseElements": [""]}}, ASG_EVENT, False),
    ("4 null does not match empty string", {"detail": {"eventVersion": [None]}}, ASG_EVENT, False),
    ("5 Macie nested", {"source": ["aws.macie"], "detail-type": ["Macie Finding"],
                        "detail": {"severity": {"score": [1]}, "count": [2]}}, MACIE_EVENT, True),
    ("6 resources intersection", {"resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}, ASG_EVENT, True),
    ("7 time prefix", {"time": [{"prefix": "2017-10-02"}]}, EC2_EVENT, True),
    ("8 suffix", {"detail": {"FileName": [{"suffix": ".png"}]}},
     envelope({"FileName": "image.png"}), True),
    ("8 suffix, no match", {"detail": {"FileName": [{"suffix": ".png"}]}},
     envelope({"FileName": "image.jpg"}), False),
    ("9 anything-but prefix", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, CONTENT_EVENT, True),
    ("9 anything-but prefix, excluded", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
     with_detail(CONTENT_EVENT, state="initializing"), False),
    ("10 numeric", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                               "x-limit": [{"numeric": ["=", 3.018e2]}]}}, CONTENT_EVENT, True),
    ("10 numeric, one fails", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                                          "d-count": [{"numeric": ["<", 10]}],
                                          "x-limit": [{"numeric": ["=", 3.018e2]}]}},
     with_detail(CONTENT_EVENT, **{"c-count": 6}), False),
    ("11 cidr", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, CONTENT_EVENT, True),
    ("11 cidr, outside", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}},
     with_detail(CONTENT_EVENT, **{"source-ip": "10.0.1.0"}), False),
    ("12 exists", {"detail": {"state": [{"exists": True}]}}, with_detail(EC2_EVENT, state="pending"), True),
    ("12 exists, absent", {"detail": {"state": [{"exists": True}]}},
     envelope({"c-count": {"c1": 100}}), False),
    ("13 equals-ignore-case", {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
     EC2_EVENT, True),
    ("14 complex", {"time": [{"prefix": "2017-10-02"}],
                    "detail": {"state": [{"anything-but": "initializing"}],
                               "c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                               "x-limit": [{"anything-but": [100, 200, 300]}]}}, CONTENT_EVENT, True),
    ("14 complex, x-limit excluded", {"time": [{"prefix": "2017-10-02"}],
                                      "detail": {"x-limit": [{"anything-but": [100, 200, 300]}],
                                                 "state": [{"anything-but": "initializing"}]}},
     with_detail(CONTENT_EVENT, **{"x-limit": 200}), False),
    ("15 $or numerics", {"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                                            {"d-count": [{"numeric": ["<", 10]}]},
                                            {"x-limit": [{"numeric": ["=", 3.018e2]}]}]}},
     with_detail(CONTENT_EVENT, **{"c-count": 50, "d-count": 50}), True),
    ("15 $or numerics, no branch", {"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                                                       {"d-count": [{"numeric": ["<", 10]}]},
                                                       {"x-limit": [{"numeric": ["=", 3.018e2]}]}]}},
     with_detail(CONTENT_EVENT, **{"c-count": 50, "d-count": 50, "x-limit": 1}), False),
    ("16 prefix ignore case EventB", {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
     envelope({"service": "EVENTBRIDGE"}), True),
    ("16 prefix ignore case eventb", {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
     envelope({"service": "eventbus"}), True),
    ("16 prefix ignore case, other", {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
     envelope({"service": "Event"}), False),
    ("17 wildcard suffix", {"detail": {"f": [{"wildcard": "*.png"}]}}, envelope({"f": "dir/a.png"}), True),
    ("17 wildcard contains", {"detail": {"f": [{"wildcard": "*Title*"}]}}, envelope({"f": "MyTitleHere"}), True),
    ("17 wildcard contains, no", {"detail": {"f": [{"wildcard": "*Title*"}]}}, envelope({"f": "MyTitlHere"}), False),
    # item 18: community-verified divergences
    ("18 anything-but matches null (localstack#9711)", {"detail": {"foo": [{"anything-but": ["baz"]}]}},
     envelope({"foo": None}), True),
    ("18 empty prefix matches every source (localstack#12148)", {"source": [{"prefix": ""}]}, EC2_EVENT, True),
    ("18 exists true on a leaf", {"detail": {"c": [{"exists": True}]}}, envelope({"c": "x"}), True),
    ("18 exists false on an object (not a leaf)", {"detail": {"c": [{"exists": False}]}},
     envelope({"c": {"d": 1}}), True),
]


@pytest.mark.parametrize("name,pattern,event,expected", DOCUMENTED_EXAMPLES,
                         ids=[c[0] for c in DOCUMENTED_EXAMPLES])
def test_documented_examples(name, pattern, event, expected):
    check(pattern, event, expected)


def test_duplicate_keys_last_occurrence_wins():
    # docs: the prefix on "location" is ignored, only the later anything-but applies
    text = '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'
    assert matches(text, envelope({"location": "eu-west"}))
    assert matches(text, envelope({"location": "us-west"}))
    assert not matches(text, envelope({"location": "us-east"}))


# --------------------------------------------------------------------------------------------
# Operators, one table each
# --------------------------------------------------------------------------------------------

D = envelope  # shorthand: D({...detail...})

OPERATOR_CASES = [
    # exact values and JSON types
    ("string", ["a"], "a", True), ("string, number event", ["5"], 5, False),
    ("number 5 vs 5.0", [5], 5.0, True), ("number 300 vs 3.0e2", [300], 3.0e2, True),
    ("float pattern vs int", [2.0], 2, True), ("number vs bool", [1], True, False),
    ("bool vs number", [True], 1, False), ("false vs 0", [False], 0, False),
    ("null vs missing-ish empty", [None], "", False), ("empty string", [""], "", True),
    ("big integer", [123456789012345], 123456789012345, True),
    ("out-of-range number exact", [1e10], 10000000000, True),
    ("event array", ["b"], ["a", "b"], True), ("event array, none", ["c"], ["a", "b"], False),
    ("nested event arrays", ["c"], [["a"], ["b", ["c"]]], True),
    ("string pattern never matches object", ["x"], {"x": "x"}, False),
    ("literal star is not a wildcard", ["*"], "*", True), ("literal star vs text", ["*"], "abc", False),
    ("backslash", ["\\"], "\\", True),
    ("IP spelled differently", ["2001:db8::1"], "2001:0db8:0000::1", True),
    ("IP equal text", ["10.0.0.1"], "10.0.0.1", True), ("IP different", ["10.0.0.1"], "10.0.0.2", False),
    # prefix / suffix
    ("prefix", [{"prefix": "ab"}], "abc", True), ("prefix equal", [{"prefix": "abc"}], "abc", True),
    ("prefix longer", [{"prefix": "abcd"}], "abc", False), ("prefix case", [{"prefix": "A"}], "abc", False),
    ("empty prefix, string", [{"prefix": ""}], "anything", True), ("empty prefix, empty", [{"prefix": ""}], "", True),
    ("empty prefix, number", [{"prefix": ""}], 1, False), ("empty prefix, null", [{"prefix": ""}], None, False),
    ("prefix in array", [{"prefix": "x"}], ["a", "xa"], True),
    ("prefix ignore case", [{"prefix": {"equals-ignore-case": "AB"}}], "aBc", True),
    ("suffix", [{"suffix": "bc"}], "abc", True), ("suffix, no", [{"suffix": "bc"}], "abd", False),
    ("suffix on number", [{"suffix": "3"}], 123, False),
    ("suffix ignore case", [{"suffix": {"equals-ignore-case": ".PNG"}}], "A.Png", True),
    ("suffix ignore case, no", [{"suffix": {"equals-ignore-case": ".PNG"}}], "A.jpg", False),
    # equals-ignore-case
    ("eic", [{"equals-ignore-case": "Alice"}], "aLiCe", True), ("eic, other", [{"equals-ignore-case": "Alice"}], "Alic", False),
    ("eic empty", [{"equals-ignore-case": ""}], "", True), ("eic empty vs text", [{"equals-ignore-case": ""}], "a", False),
    ("eic on null", [{"equals-ignore-case": "null"}], None, False),
    ("exactly", [{"exactly": "a"}], "a", True), ("exactly, other", [{"exactly": "a"}], "A", False),
    # anything-but
    ("ab string", [{"anything-but": "a"}], "b", True), ("ab string, excluded", [{"anything-but": "a"}], "a", False),
    ("ab string vs number", [{"anything-but": "5"}], 5, True), ("ab string vs null", [{"anything-but": "a"}], None, True),
    ("ab string vs bool", [{"anything-but": "true"}], True, True),
    ("ab number", [{"anything-but": 5}], 6, True), ("ab number vs 5.0", [{"anything-but": 5}], 5.0, False),
    ("ab number list vs string", [{"anything-but": [100]}], "100", True),
    ("ab number list vs false", [{"anything-but": [0]}], False, True),
    ("ab list in event array, one allowed", [{"anything-but": ["a"]}], ["a", "b"], True),
    ("ab list in event array, all excluded", [{"anything-but": ["a"]}], ["a", "a"], False),
    ("ab on object", [{"anything-but": "a"}], {"x": 1}, False),
    ("ab prefix", [{"anything-but": {"prefix": "in"}}], "out", True),
    ("ab prefix, excluded", [{"anything-but": {"prefix": "in"}}], "inside", False),
    ("ab prefix vs number (AWS)", [{"anything-but": {"prefix": "init"}}], 12, True),
    ("ab prefix vs null", [{"anything-but": {"prefix": "init"}}], None, True),
    ("ab prefix list", [{"anything-but": {"prefix": ["a", "b"]}}], "cx", True),
    ("ab prefix list, excluded", [{"anything-but": {"prefix": ["a", "b"]}}], "bx", False),
    ("ab suffix", [{"anything-but": {"suffix": ".txt"}}], "a.png", True),
    ("ab suffix list, excluded", [{"anything-but": {"suffix": [".txt", ".md"]}}], "a.md", False),
    ("ab ignore case", [{"anything-but": {"equals-ignore-case": "Stop"}}], "go", True),
    ("ab ignore case, excluded", [{"anything-but": {"equals-ignore-case": "Stop"}}], "STOP", False),
    ("ab ignore case list, excluded", [{"anything-but": {"equals-ignore-case": ["a", "B"]}}], "b", False),
    ("ab ignore case vs null (AWS)", [{"anything-but": {"equals-ignore-case": "initializing"}}], None, True),
    ("ab wildcard", [{"anything-but": {"wildcard": "*/lib/*"}}], "a/bin/b", True),
    ("ab wildcard, excluded", [{"anything-but": {"wildcard": "*/lib/*"}}], "a/lib/b", False),
    ("ab wildcard vs number (AWS)", [{"anything-but": {"wildcard": "*/dir/*"}}], 123, True),
    ("ab wildcard list, excluded", [{"anything-but": {"wildcard": ["x*", "*y"]}}], "ay", False),
    # numeric
    ("num =", [{"numeric": ["=", 100]}], 100.0, True), ("num = other", [{"numeric": ["=", 100]}], 100.5, False),
    ("num <", [{"numeric": ["<", 10]}], 9.999, True), ("num < boundary", [{"numeric": ["<", 10]}], 10, False),
    ("num <=", [{"numeric": ["<=", 10]}], 10, True), ("num >", [{"numeric": [">", 10]}], 10, False),
    ("num >=", [{"numeric": [">=", 10]}], 10, True), ("num > negative", [{"numeric": [">", -1.5]}], -1, True),
    ("num range open", [{"numeric": [">", 0, "<", 1]}], 0.5, True), ("num range open top", [{"numeric": [">", 0, "<", 1]}], 1, False),
    ("num range closed", [{"numeric": [">=", 0, "<=", 1]}], 0, True), ("num range closed top", [{"numeric": [">=", 0, "<=", 1]}], 1, True),
    ("num string", [{"numeric": [">", 0]}], "1", False), ("num null", [{"numeric": [">", 0]}], None, False),
    ("num bool", [{"numeric": [">=", 0]}], False, False),
    ("num outside -5e9..5e9", [{"numeric": [">", 0]}], 6e9, False),
    ("num at the limit", [{"numeric": [">", 0]}], 5e9, True),
    ("num event array", [{"numeric": ["<", 0]}], [5, -5], True),
    ("num six decimals", [{"numeric": ["=", 0.000001]}], 1e-6, True),
    # exists
    ("exists true, value", [{"exists": True}], "x", True), ("exists true, null", [{"exists": True}], None, True),
    ("exists true, empty string", [{"exists": True}], "", True),
    ("exists true, empty array", [{"exists": True}], [], False), ("exists true, object", [{"exists": True}], {"a": 1}, False),
    ("exists true, array of nulls", [{"exists": True}], [None], True),
    ("exists false, value", [{"exists": False}], "x", False), ("exists false, empty array", [{"exists": False}], [], True),
    ("exists false, null", [{"exists": False}], None, False),
    ("exists false or value", [{"exists": False}, "x"], "x", True),
    ("exists false or value, other", [{"exists": False}, "x"], "y", False),
    # cidr
    ("cidr v4", [{"cidr": "10.0.0.0/24"}], "10.0.0.255", True), ("cidr v4 out", [{"cidr": "10.0.0.0/24"}], "10.0.1.0", False),
    ("cidr host bits set", [{"cidr": "10.0.0.7/24"}], "10.0.0.1", True),
    ("cidr /32", [{"cidr": "10.1.2.3/32"}], "10.1.2.3", True), ("cidr /0", [{"cidr": "0.0.0.0/0"}], "8.8.8.8", True),
    ("cidr v6", [{"cidr": "2001:db8::/32"}], "2001:db8:ffff::1", True), ("cidr v6 out", [{"cidr": "2001:db8::/32"}], "2001:db9::1", False),
    ("cidr v4 pattern, v6 event", [{"cidr": "0.0.0.0/0"}], "::1", False),
    ("cidr not an IP", [{"cidr": "10.0.0.0/8"}], "ten", False), ("cidr number (AWS)", [{"cidr": "10.0.0.0/24"}], 123, False),
    # wildcard
    ("wildcard", [{"wildcard": "dir/*.png"}], "dir/a/b.png", True), ("wildcard no star", [{"wildcard": "abc"}], "abc", True),
    ("wildcard star only", [{"wildcard": "*"}], "", True), ("wildcard star vs number", [{"wildcard": "*"}], 1, False),
    ("wildcard empty middle", [{"wildcard": "a*b"}], "ab", True), ("wildcard overlap", [{"wildcard": "ab*ba"}], "aba", False),
    ("wildcard many", [{"wildcard": "a*b*c*d"}], "axxbyycd", True),
    ("wildcard escaped star", [{"wildcard": "a\\*b"}], "a*b", True), ("wildcard escaped star, other", [{"wildcard": "a\\*b"}], "axb", False),
    ("wildcard escaped backslash", [{"wildcard": "a\\\\*"}], "a\\xyz", True),
    ("wildcard newline", [{"wildcard": "a*b"}], "a\nb", True),
    ("wildcard regex chars literal", [{"wildcard": "a.c*"}], "abc", False),
    # mixed lists are OR
    ("mixed prefix or exact", [{"prefix": "a"}, "zzz"], "zzz", True),
    ("mixed numeric or null", [{"numeric": [">", 5]}, None], None, True),
]


@pytest.mark.parametrize("name,values,value,expected", OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_operators(name, values, value, expected):
    check({"detail": {"f": values}}, D({"f": value}), expected)


def test_missing_field_matches_only_exists_false():
    event = D({})
    for values in (["a"], [None], [""], [{"prefix": ""}], [{"anything-but": "a"}], [{"numeric": [">", 0]}],
                   [{"exists": True}], [{"cidr": "0.0.0.0/0"}], [{"wildcard": "*"}], [{"equals-ignore-case": ""}]):
        check({"detail": {"f": values}}, event, False)
    check({"detail": {"f": [{"exists": False}]}}, event, True)


def test_resources_null_pattern_vs_empty_array():  # AWS-recorded (localstack arrays_empty_null_NEG)
    check({"resources": [None]}, envelope(resources=[]), False)


# --------------------------------------------------------------------------------------------
# Structure: nesting, dotted names, arrays of objects, $or
# --------------------------------------------------------------------------------------------

STRUCTURE_CASES = [
    ("pattern object vs event leaf", {"detail": {"a": {"b": ["x"]}}}, {"a": "x"}, False),
    ("pattern leaf vs event object", {"detail": {"a": ["x"]}}, {"a": {"b": "x"}}, False),
    ("dotted pattern key", {"detail": {"a.b": ["v"]}}, {"a": {"b": "v"}}, True),
    ("dotted event key", {"detail": {"a": {"b": ["v"]}}}, {"a.b": "v"}, True),
    ("dotted key at the top", {"detail.a": ["v"]}, {"a": "v"}, True),
    ("array of objects", {"detail": {"items": {"sku": ["A1"]}}}, {"items": [{"sku": "B"}, {"sku": "A1"}]}, True),
    ("array of arrays of objects", {"detail": {"items": {"sku": ["A1"]}}}, {"items": [[{"sku": "B"}], [{"sku": "A1"}]]}, True),
    ("array consistency", {"detail": {"items": {"a": [1], "b": [4]}}}, {"items": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}, False),
    ("same element", {"detail": {"items": {"a": [3], "b": [4]}}}, {"items": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}, True),
    ("nested arrays consistency", {"detail": {"o": {"i": {"x": [1], "y": [2]}}}},
     {"o": [{"i": [{"x": 1, "y": 9}, {"x": 9, "y": 2}]}, {"i": [{"x": 1, "y": 2}]}]}, True),
    ("nested arrays, different outer elements", {"detail": {"o": {"i": {"x": [1], "y": [2]}}}},
     {"o": [{"i": [{"x": 1}]}, {"i": [{"y": 2}]}]}, False),
    ("independent arrays", {"detail": {"a": {"x": [1]}, "b": {"y": [2]}}},
     {"a": [{"x": 0}, {"x": 1}], "b": [{"y": 2}, {"y": 3}]}, True),
    ("field outside the array", {"detail": {"top": ["t"], "items": {"sku": ["b"]}}},
     {"top": "t", "items": [{"sku": "a"}, {"sku": "b"}]}, True),
    ("exists inside array of objects", {"detail": {"items": {"sku": [{"exists": True}]}}}, {"items": [{"sku": "B"}]}, True),
    ("exists false in the same element", {"detail": {"items": {"a": [1], "b": [{"exists": False}]}}},
     {"items": [{"a": 1, "b": 5}, {"a": 2}]}, False),
    ("exists false, found element sorted first", {"detail": {"items": {"a": [2], "b": [{"exists": False}]}}},
     {"items": [{"a": 1, "b": 5}, {"a": 2}]}, True),
    # event-ruler judges "exists: false" before later-sorted fields pick their element
    ("exists false sorted before the other field", {"detail": {"items": {"a": [{"exists": False}], "b": [2]}}},
     {"items": [{"a": 1, "b": 1}, {"b": 2}]}, False),
    ("$or top level", {"$or": [{"detail": {"a": [1]}}, {"detail": {"b": [2]}}]}, {"b": 2}, True),
    ("$or with common field", {"detail": {"c": ["x"], "$or": [{"a": [1]}, {"b": [2]}]}}, {"c": "x", "b": 2}, True),
    ("$or with common field failing", {"detail": {"c": ["x"], "$or": [{"a": [1]}, {"b": [2]}]}}, {"c": "y", "b": 2}, False),
    ("nested $or", {"detail": {"$or": [{"a": [1]}, {"b": [2], "$or": [{"c": [3]}, {"d": [4]}]}]}}, {"b": 2, "d": 4}, True),
    ("nested $or, inner fails", {"detail": {"$or": [{"a": [1]}, {"b": [2], "$or": [{"c": [3]}, {"d": [4]}]}]}}, {"b": 2, "d": 5}, False),
    ("parallel $or", {"detail": {"x": {"$or": [{"a": [1]}, {"b": [1]}]}, "y": {"$or": [{"a": [1]}, {"b": [1]}]}}},
     {"x": {"b": 1}, "y": {"a": 1}}, True),
    ("parallel $or, one fails", {"detail": {"x": {"$or": [{"a": [1]}, {"b": [1]}]}, "y": {"$or": [{"a": [1]}, {"b": [1]}]}}},
     {"x": {"b": 1}, "y": {"c": 1}}, False),
    ("$or exists", {"detail": {"$or": [{"a": [{"exists": True}]}, {"b": [{"exists": False}]}]}}, {"a": None, "b": 1}, True),
]


@pytest.mark.parametrize("name,pattern,detail,expected", STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES])
def test_structure(name, pattern, detail, expected):
    check(pattern, D(detail), expected)


def test_events_as_text_and_non_objects():
    pattern = patterns.compile({"source": ["a"]})
    assert pattern.matches('{"source": "a"}')
    assert pattern.matches(b'{"source": "a"}')
    assert not pattern.matches("[1, 2]")
    with pytest.raises(ValueError, match="not valid JSON"):
        pattern.matches("{nope")
    assert explain(pattern, "[1]") == Mismatch("$", "a JSON object", "a JSON value that is not an object")


def test_non_dict_mapping_event_uses_the_exact_path():
    from collections import OrderedDict
    event = OrderedDict(source="a", detail=OrderedDict(x=[{"y": 1}]))
    assert matches({"source": ["a"], "detail": {"x": {"y": [1]}}}, event)


# --------------------------------------------------------------------------------------------
# Validation (docs/aws-behaviours.md, "Event patterns": event-ruler's rejections and the rest of its checks)
# --------------------------------------------------------------------------------------------

INVALID = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"text"', "must be a JSON object"),
    ("{}", "empty objects are not allowed"),
    ('{"a": {}}', "a: empty objects are not allowed"),
    ('{"source": "aws.ec2"}', "source: must be an object or an array"),
    ('{"n": 42}', "n: must be an object or an array"),
    ('{"source": []}', "source: empty arrays are not allowed"),
    ('{"a": [[1]]}', "a: match values must be"),
    ('{"a": [NaN]}', "invalid JSON"),
    ('{"source": [{"bogus": 1}]}', 'source: unrecognised match type "bogus"'),
    ('{"a": [{"NUMERIC": ["=", 5]}]}', 'unrecognised match type "NUMERIC"'),
    ('{"a": [{"EXISTS": true}]}', 'unrecognised match type "EXISTS"'),
    ('{"a": [{}]}', "a: a match expression is an empty object"),
    ('{"detail": {"a": [{"prefix": 5}]}}', 'detail.a: "prefix" needs a string'),
    ('{"detail": {"a": [{"prefix": ["a", "b"]}]}}', 'detail.a: "prefix" needs a string'),
    ('{"a": [{"prefix": {"bogus": "x"}}]}', "unsupported prefix pattern"),
    ('{"a": [{"suffix": {"equals-ignore-case": 1}}]}', "needs a string"),
    ('{"detail": {"a": [{"prefix": "a", "suffix": "b"}]}}', "only one key is allowed"),
    ('{"detail": {"a": [{"equals-ignore-case": 5}]}}', '"equals-ignore-case" needs a string'),
    ('{"a": [{"equals-ignore-case": {"prefix": "ec2"}}]}', '"equals-ignore-case" needs a string'),
    ('{"detail": {"a": [{"numeric": [">", "x"]}]}}', 'the value of ">" must be a number'),
    ('{"detail": {"a": [{"numeric": ["~", 1]}]}}', 'unrecognised numeric operator "~"'),
    ('{"detail": {"a": [{"numeric": [">", 5, "<", 1]}]}}', "lower bound must be less than the upper bound"),
    ('{"detail": {"a": [{"numeric": [">=", 5, "<=", 5]}]}}', "lower bound must be less than the upper bound"),
    ('{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}', 'bad numeric range operator ">"'),
    ('{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}', "a range has exactly four elements"),
    ('{"detail": {"state": [{"numeric": [">"]}]}}', 'detail.state: "numeric" needs an operator and a number'),
    ('{"detail": {"c-count": [{"numeric": 10}]}}', '"numeric" needs an operator and a number'),
    ('{"a": [{"numeric": ["<", 1, ">", 0]}]}', "put the lower bound first"),
    ('{"a": [{"numeric": ["=", 1, 2]}]}', "takes exactly one number"),
    ('{"a": [{"numeric": [">", true]}]}', "must be a number, not a boolean"),
    ('{"a": [{"numeric": [">", 5000000001]}]}', "outside the supported numeric range"),
    ('{"a": [{"numeric": ["<", -5e9]}]}', "lower bound must be less than the upper bound"),
    ('{"a": [{"numeric": ["=", 0.1234567]}]}', "more than 6 digits after the decimal point"),
    ('{"detail": {"a": [{"cidr": "nope"}]}}', "malformed CIDR"),
    ('{"a": [{"cidr": "bad-/64filter"}]}', "malformed CIDR"),
    ('{"a": [{"cidr": "xx.11.xx/8"}]}', "malformed CIDR"),
    ('{"a": [{"cidr": "10.0.0.0/33"}]}', "malformed CIDR"),
    ('{"a": [{"cidr": "10.0.0.1"}]}', "exactly one '/' is required"),
    ('{"a": [{"cidr": 10}]}', '"cidr" needs a string'),
    ('{"detail": {"a": [{"exists": "yes"}]}}', '"exists" must be true or false'),
    ('{"a": [{"exists": true, "prefix": "x"}]}', "only one key is allowed"),
    ('{"detail": {"a": [{"anything-but": {"bogus": "x"}}]}}', 'unsupported anything-but pattern "bogus"'),
    ('{"detail": {"a": [{"anything-but": []}]}}', "only strings or only numbers"),
    ('{"a": [{"anything-but": ["a", 1]}]}', "mixed types are not supported"),
    ('{"a": [{"anything-but": [null]}]}', "not null, booleans"),
    ('{"a": [{"anything-but": null}]}', '"anything-but" needs a string, a number'),
    ('{"a": [{"anything-but": true}]}', '"anything-but" needs a string, a number'),
    ('{"a": [{"anything-but": [6000000000]}]}', "outside the supported numeric range"),
    ('{"a": [{"anything-but": {"prefix": ""}}]}', "must not be empty"),
    ('{"a": [{"anything-but": {"suffix": [""]}}]}', "must not be empty"),
    ('{"a": [{"anything-but": {"prefix": 1}}]}', "needs a string or a list of strings"),
    ('{"a": [{"anything-but": {"prefix": {"equals-ignore-case": "x"}}}]}', "needs a string or a list of strings"),
    ('{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}', "needs a string or a list of strings"),
    ('{"a": [{"anything-but": {"wildcard": "a**"}}]}', "consecutive wildcard characters"),
    ('{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}', "only one key is allowed"),
    ('{"a": [{"anything-but": {}}]}', "is an empty object"),
    ('{"detail": {"a": [{"wildcard": "a**b"}]}}', "consecutive wildcard characters at position 2"),
    ('{"a": [{"wildcard": "a\\\\b"}]}', "invalid escape at position 1"),
    ('{"a": [{"wildcard": "ab\\\\"}]}', "invalid escape at position 2"),
    ('{"a": [{"wildcard": 1}]}', '"wildcard" needs a string'),
    ('{"$or": [{"a": [1]}]}', '$or: "$or" needs an array of at least two objects'),
    ('{"$or": {"a": [1], "b": [2]}}', '"$or" needs an array'),
    ('{"$or": [{"a": [1]}, "b"]}', '$or[1]: each "$or" alternative must be an object'),
    ('{"$or": [{"a": [1]}, {}]}', "$or[1]: empty objects are not allowed"),
    ('{"$or": [{"prefix": ["x"]}, {"b": [1]}]}', '$or[0].prefix: "prefix" is a reserved word'),
    ('{"detail": {"$or": [{"x": {"numeric": [1]}}, {"b": [1]}]}}', 'detail.$or[0].x.numeric: "numeric" is a reserved word'),
    ('{"detail": {"$or": [{"a": [1]}, {"b": [{"prefix": 1}]}]}}', 'detail.$or[1].b: "prefix" needs a string'),
]


@pytest.mark.parametrize("text,message", INVALID, ids=[t for t, _ in INVALID])
def test_invalid_patterns(text, message):
    with pytest.raises(PatternError) as error:
        validate(text)
    assert message in str(error.value)
    with pytest.raises(PatternError):
        patterns.compile(text)


def test_reserved_words_are_ordinary_field_names_outside_or():
    assert validate({"detail": {"prefix": ["x"], "numeric": [1]}})
    assert matches({"detail": {"prefix": ["x"]}}, D({"prefix": "x"}))


def test_valid_operator_forms_are_accepted():
    validate({"a": [{"anything-but": {"prefix": []}}]})  # event-ruler accepts an empty set here
    validate({"a": [{"numeric": ["=", -5e9]}], "b": [{"numeric": [">=", -5e9, "<=", 5e9]}]})
    validate({"a": [{"numeric": ["=", 301.8]}], "b": [{"numeric": ["<", 0.000001]}]})
    validate({"a": [1e300, -0.0, 12345678901234567890]})  # exact numbers have no range limit


def test_validate_returns_the_parsed_pattern():
    assert validate('{"source": ["a"]}') == {"source": ["a"]}


def test_size_limit_default_and_configurable():
    def of_length(size: int) -> str:
        text = json.dumps({"source": ["x" * (size - 16)]})
        assert len(text) == size
        return text

    validate(of_length(2048))
    with pytest.raises(PatternError, match="2,049 characters long; the limit is 2,048"):
        validate(of_length(2049))
    validate(of_length(4096), max_size=4096)
    with pytest.raises(PatternError, match="the limit is 3,000"):
        validate(of_length(3001), max_size=3000)
    with pytest.raises(ValueError, match="max_size"):
        validate(of_length(100), max_size=5000)
    with pytest.raises(PatternError, match="limit is 4,096"):
        patterns.compile(of_length(4097))


def test_size_of_a_dict_is_its_minified_json():
    pattern = {"source": ["x" * 2030]}
    minified = len(json.dumps(pattern, separators=(",", ":")))
    assert minified < len(json.dumps(pattern))
    validate(pattern, max_size=minified)
    with pytest.raises(PatternError):
        validate(pattern, max_size=minified - 1)
    with pytest.raises(PatternError):
        validate(json.dumps(pattern), max_size=minified)  # text is measured as given


def test_or_combination_limit():
    def alternatives(count: int) -> list:
        return [{f"k{i}": [i]} for i in range(count)]

    thousand = {"a": {"$or": alternatives(10)}, "b": {"$or": alternatives(10)}, "c": {"$or": alternatives(10)}}
    assert len(patterns.compile(thousand).branches) == 1000
    too_many = {"a": {"$or": alternatives(7)}, "b": {"$or": alternatives(11)}, "c": {"$or": alternatives(13)}}
    with pytest.raises(PatternError, match="1001 combinations; the limit is 1,000"):
        validate(too_many)
    nested = {"$or": [{"x": [1]}, {"a": {"$or": alternatives(10)}, "b": {"$or": alternatives(100)}}]}
    with pytest.raises(PatternError, match="1001 combinations"):
        validate(nested, max_size=4096)


@pytest.mark.parametrize("bad", [object(), 5, None, ["a"], {"a": {1, 2}}, {"a": [float("nan")]}])
def test_non_json_input_raises_pattern_error(bad):
    with pytest.raises(PatternError):
        validate(bad)


def test_deeply_nested_pattern_is_a_pattern_error():
    deep = "[" * 3000 + "]" * 3000
    with pytest.raises(PatternError):
        validate(deep, max_size=4096)
    nested: dict = {}
    node = nested
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(PatternError):
        validate(nested)


# --------------------------------------------------------------------------------------------
# explain()
# --------------------------------------------------------------------------------------------

def test_explain_returns_none_on_match():
    assert explain({"source": ["aws.ec2"]}, EC2_EVENT) is None


def test_explain_names_the_first_failing_field_in_pattern_order():
    pattern = {"source": ["aws.ec2"], "detail": {"state": ["running", "stopped"], "instance-id": ["i-9"]}}
    mismatch = explain(pattern, EC2_EVENT)
    assert mismatch == Mismatch("detail.state", 'one of: "running"; "stopped"', '"terminated"')
    assert str(mismatch) == ('detail.state: wanted one of: "running"; "stopped", but the event has '
                             '"terminated"')


@pytest.mark.parametrize("values,detail,wanted,got", [
    ([{"numeric": [">", 0, "<=", 5]}], {"n": 9}, "a number > 0 and <= 5", "9"),
    ([{"numeric": ["<", 10]}], {"n": [20, 30]}, "a number < 10", "[20, 30]"),
    ([{"prefix": "us-"}], {}, 'prefix "us-"', "nothing (the field is absent)"),
    ([{"exists": True}], {"n": {"x": 1}}, "the field to exist", "an object (no value of its own)"),
    ([{"exists": True}], {"n": []}, "the field to exist", "an empty array"),
    ([{"exists": False}], {"n": None}, "the field to be absent", "null"),
    ([{"anything-but": ["a", "b"]}], {"n": "a"}, 'anything but "a", "b"', '"a"'),
    ([{"cidr": "10.0.0.0/8"}], {"n": "11.0.0.1"}, "an IP address in 10.0.0.0/8", '"11.0.0.1"'),
    ([{"equals-ignore-case": "X"}], {"n": "y"}, '"X" (ignoring case)', '"y"'),
    ([{"wildcard": "a*"}], {"n": "b"}, 'wildcard "a*"', '"b"'),
])
def test_explain_describes_wanted_and_got(values, detail, wanted, got):
    mismatch = explain({"detail": {"n": values}}, D(detail))
    assert (mismatch.path, mismatch.wanted, mismatch.got) == ("detail.n", wanted, got)


def test_explain_or_uses_the_closest_alternative():
    pattern = {"source": ["aws.ec2"], "$or": [{"detail": {"a": ["1"]}}, {"detail": {"state": ["x"], "b": ["2"]}}]}
    mismatch = explain(pattern, with_detail(EC2_EVENT, b="2"))
    assert mismatch.path == "$or[1].detail.state" and mismatch.alternatives == 2
    assert str(mismatch).endswith("(closest of 2 $or alternatives)")


def test_explain_array_consistency():
    mismatch = explain({"detail": {"items": {"a": [1], "b": [4]}}},
                       D({"items": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}))
    assert mismatch.path == "detail.items.b"
    assert "same array element" in mismatch.wanted and mismatch.got == "[2, 4]"


# --------------------------------------------------------------------------------------------
# canonical / pretty
# --------------------------------------------------------------------------------------------

def test_canonical_sorts_keys_and_minifies():
    a = '{\n  "source": ["aws.ec2"],\n  "detail": {"state": ["b", "a"], "x": [1.50]}\n}'
    b = {"detail": {"x": [1.5], "state": ["b", "a"]}, "source": ["aws.ec2"]}
    assert canonical(a) == canonical(b) == '{"detail":{"state":["b","a"],"x":[1.5]},"source":["aws.ec2"]}'
    assert canonical({"s": ["é"]}) == '{"s":["é"]}'
    with pytest.raises(PatternError):
        canonical("{nope")


def test_pretty_keeps_key_order():
    assert pretty('{"source":["a"],"detail":{"x":[1]}}') == (
        '{\n  "source": [\n    "a"\n  ],\n  "detail": {\n    "x": [\n      1\n    ]\n  }\n}')


# --------------------------------------------------------------------------------------------
# RuleIndex
# --------------------------------------------------------------------------------------------

def test_rule_index_finds_matching_rules_and_forgets_removed_ones():
    index = RuleIndex()
    index.add("ec2", {"source": ["aws.ec2"]})
    index.add("term", {"source": ["aws.ec2"], "detail": {"state": ["terminated"]}})
    index.add("s3", {"source": ["aws.s3"]})
    index.add("not-running", {"detail": {"state": [{"anything-but": "running"}]}})  # nothing indexable
    index.add("either", {"$or": [{"source": ["aws.s3"]}, {"detail": {"instance-id": [{"prefix": "i-1"}]}}]})
    assert index.match(EC2_EVENT) == {"ec2", "term", "not-running", "either"}
    assert index.match(json.dumps(EC2_EVENT)) == {"ec2", "term", "not-running", "either"}
    index.remove("term")
    index.remove("unknown")
    assert "term" not in index and len(index) == 4
    assert index.match(EC2_EVENT) == {"ec2", "not-running", "either"}
    index.add("ec2", {"source": ["aws.s3"]})  # replacing a rule's pattern
    assert index.match(EC2_EVENT) == {"not-running", "either"}


@pytest.mark.parametrize("pattern,hit,miss", [
    ({"detail": {"n": [{"numeric": [">", 10, "<=", 20]}]}}, {"n": 20}, {"n": 10}),
    ({"detail": {"n": [{"numeric": ["=", 5]}]}}, {"n": 5.0}, {"n": 5.5}),
    ({"detail": {"n": [5]}}, {"n": 5.0}, {"n": True}),
    ({"detail": {"n": [True]}}, {"n": True}, {"n": 1}),
    ({"detail": {"n": [None]}}, {"n": None}, {"n": "null"}),
    ({"detail": {"s": [{"prefix": "ab"}]}}, {"s": "abc"}, {"s": "xabc"}),
    ({"detail": {"s": [{"suffix": "bc"}]}}, {"s": "abc"}, {"s": "abcx"}),
    ({"detail": {"s": [{"prefix": {"equals-ignore-case": "AB"}}]}}, {"s": "aBc"}, {"s": "xab"}),
    ({"detail": {"s": [{"suffix": {"equals-ignore-case": "BC"}}]}}, {"s": "aBc"}, {"s": "bca"}),
    ({"detail": {"s": [{"equals-ignore-case": "AbC"}]}}, {"s": "abc"}, {"s": "abcd"}),
    ({"detail": {"s": [{"wildcard": "a*z"}]}}, {"s": "abcz"}, {"s": "abc"}),
    ({"detail": {"s": [{"wildcard": "*z"}]}}, {"s": "abcz"}, {"s": "zz1"}),
    ({"detail": {"s": ["2001:db8::1"]}}, {"s": "2001:DB8:0::1"}, {"s": "2001:db8::2"}),
    ({"detail": {"s": [{"exists": True}]}}, {"s": None}, {"t": 1}),
    ({"detail": {"items": {"a": [1], "b": [2]}}}, {"items": [{"a": 1, "b": 2}]}, {"items": [{"a": 1}, {"b": 2}]}),
])
def test_rule_index_lookups(pattern, hit, miss):
    index = RuleIndex()
    index.add("r", pattern)
    index.add("other", {"detail": {"zzz": ["never"]}})
    assert index.match(D(hit)) == {"r"}
    assert index.match(D(miss)) == set()


def test_rule_index_removal_leaves_no_structure_behind():
    index = RuleIndex()
    rules = {
        "a": {"source": ["x", "y"], "detail": {"n": [{"numeric": [">", 1]}], "s": [{"prefix": "p"}]}},
        "b": {"source": ["x"], "detail": {"s": [{"suffix": "q"}, {"wildcard": "p*q"}, "p"]}},
        "c": {"$or": [{"source": ["x"]}, {"detail": {"ip": ["10.0.0.1"], "e": [{"exists": True}]}}]},
    }
    for rule_id, pattern in rules.items():
        index.add(rule_id, pattern)
    for rule_id in rules:
        index.remove(rule_id)
    assert len(index) == 0
    assert index._root.fields == {} and index._root.rules == {} and index._names == {}
    assert index.match(D({"n": 5})) == set()


# ---------------------------------------------------------------------------------------------
# describe: what a pattern matches, in words (the change page shows it to reviewers)
# ---------------------------------------------------------------------------------------------
def test_describe_puts_the_worked_example_in_words_source_first():
    pattern = '{"detail":{"bucket":{"name":["processing-bucket-1"]}},"detail-type":["Object Created"],"source":["aws.s3"]}'
    assert patterns.describe(pattern) == [['source is "aws.s3"', 'detail-type is "Object Created"',
                                           'detail.bucket.name is "processing-bucket-1"']]


def test_describe_names_each_operator_and_each_or_alternative():
    pattern = {"source": ["aws.ec2"],
               "detail": {"state": ["running", "stopped"], "size": [{"numeric": [">", 5]}],
                          "key": [{"prefix": "logs/"}, {"exists": False}], "ip": [{"cidr": "10.0.0.0/8"}],
                          "$or": [{"a": [{"wildcard": "*.csv"}]}, {"b": [{"anything-but": "z"}]}]},
               "resources": [{"exists": True}]}
    assert patterns.describe(pattern) == [
        ['source is "aws.ec2"', 'detail.state is "running" or "stopped"', "detail.size is a number > 5",
         'detail.key is a text with prefix "logs/" or absent', "detail.ip is an IP address in 10.0.0.0/8",
         'detail.$or[0].a is a text matching wildcard "*.csv"', "resources is present"],
        ['source is "aws.ec2"', 'detail.state is "running" or "stopped"', "detail.size is a number > 5",
         'detail.key is a text with prefix "logs/" or absent', "detail.ip is an IP address in 10.0.0.0/8",
         'detail.$or[1].b is anything but "z"', "resources is present"]]


def test_describe_refuses_an_invalid_pattern():
    with pytest.raises(PatternError, match="must be an object or an array"):
        patterns.describe({"source": "aws.s3"})
