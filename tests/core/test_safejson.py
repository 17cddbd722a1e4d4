"""core.safejson: the one parser for JSON typed by a person (fixed examples; no database)."""
import json
import subprocess
import sys

import pytest

from core import safejson
from core.safejson import InvalidJSON, loads


def test_depth_one_hundred_is_accepted_and_one_more_is_refused():
    assert loads("[" * 100 + "]" * 100) == json.loads("[" * 100 + "]" * 100)
    with pytest.raises(InvalidJSON, match=r"^The JSON is not accepted: it is nested more than 100 levels deep "
                                          r"\(at character 101\); flatten it\.$"):
        loads("[" * 101 + "]" * 101)


def test_brackets_inside_strings_do_not_count_as_depth():
    text = json.dumps({"a": "[" * 5000, "b": "{\\\"[[[" * 300})
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": "\\ud800"}', "The event is not accepted: it has a string that contains an unpaired surrogate (\\ud800) "
                         "at character 1; that is not a valid Unicode character."),
    ('{"\\udc00x": 1}', "The event is not accepted: it has a key that contains an unpaired surrogate (\\udc00)"),
    ('["\\u0000"]', "The event is not accepted: it has a string that contains a NUL character (\\u0000), which "
                    "cannot be stored; remove it."),
    ('{"a": NaN}', "The event is not accepted: NaN is not a JSON value (JSON has no NaN or Infinity)."),
    ("[-Infinity]", "The event is not accepted: -Infinity is not a JSON value (JSON has no NaN or Infinity)."),
    ("[1e999]", "The event is not accepted: the number 1e999 is too large to represent."),
    ("[" + "7" * 401 + "]", "The event is not accepted: a number has 401 digits (at most 400 are accepted)."),
    ("{", "The event is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)."),
    ('"\ud800"', "The event is not accepted: it contains an unpaired surrogate (\\ud800) at character 2"),
])
def test_refusals_name_the_box_and_the_reason(text, message):
    with pytest.raises(InvalidJSON) as caught:
        loads(text, what="The event")
    assert str(caught.value).startswith(message)


def test_valid_pairs_and_long_numbers_within_the_limit_are_accepted():
    assert loads('["\\ud83d\\ude00", ' + "9" * 400 + "]") == ["\U0001F600", int("9" * 400)]


def test_size_is_refused_in_aws_words_before_parsing():
    with pytest.raises(InvalidJSON, match=r"The input is too long: it must have length less than or equal to "
                                          r"8,192 \(AWS's limit\); it has 8,193 characters\."):
        loads("1" * 8193, what="The input", max_chars=8192, limit_words="AWS's limit")


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(InvalidJSON, match=r"it is not UTF-8 text \(byte 2\)"):
        loads(b'"\xff"')


def test_scrubbing_replaces_only_what_cannot_be_stored():
    text = json.dumps({"a": "x\ud800", "b": "\x00", "c": "\\u0000 is text"}, ensure_ascii=False)
    assert json.loads(safejson.scrub_json_text(text)) == {"a": "x\ufffd", "b": "\ufffd", "c": "\\u0000 is text"}
    assert safejson.scrub_text("a\x00b\udfff") == "a\ufffdb\ufffd"


def test_importable_without_django():
    code = "import sys; import core.safejson; assert not [m for m in sys.modules if m.startswith('django')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
