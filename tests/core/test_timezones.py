"""The list of time zones and its picker: every IANA zone Python ships, each with its offset from UTC at a
given instant. Expected offsets are facts of the tz database at fixed dates (New York is UTC−5 in winter and
UTC−4 in summer; India UTC+5:30 all year; Nepal UTC+5:45; Lord Howe Island UTC+11 in its summer, UTC+10:30
in its winter)."""
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from core.timezones import TIME_ZONES, DisplayZoneForm, TimeZoneField, is_utc, offset_text, zone_labels

JANUARY = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
JULY = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "at", "expected"), [
    ("America/New_York", JANUARY, "UTC\N{MINUS SIGN}05:00"),
    ("America/New_York", JULY, "UTC\N{MINUS SIGN}04:00"),
    ("Europe/London", JANUARY, "UTC+00:00"),
    ("Europe/London", JULY, "UTC+01:00"),
    ("Asia/Kolkata", JULY, "UTC+05:30"),
    ("Asia/Kathmandu", JANUARY, "UTC+05:45"),
    ("Australia/Lord_Howe", JANUARY, "UTC+11:00"),
    ("Australia/Lord_Howe", JULY, "UTC+10:30"),
    ("America/St_Johns", JANUARY, "UTC\N{MINUS SIGN}03:30"),
    ("UTC", JULY, "UTC+00:00"),
])
def test_offsets_at_fixed_dates(zone, at, expected):
    assert offset_text(zone, at) == expected


def test_the_list_is_every_zone_python_ships_with_utc_first():
    assert TIME_ZONES[0] == "UTC"
    assert 590 <= len(TIME_ZONES) <= 610  # "about 600": the IANA database's names
    assert len(set(TIME_ZONES)) == len(TIME_ZONES)
    for zone in ("America/New_York", "Europe/London", "Asia/Kolkata", "Etc/GMT+5", "US/Eastern"):
        assert zone in TIME_ZONES
    assert "localtime" not in TIME_ZONES and "Factory" not in TIME_ZONES


def test_labels_carry_the_offset_at_the_instant_asked():
    january = dict(zone_labels(JANUARY))
    july = dict(zone_labels(JULY))
    # the list is searched with the keyboard's "-" (typing "-05" finds New York), unlike the pages' minus sign
    assert january["America/New_York"] == "America/New_York (UTC-05:00)"
    assert july["America/New_York"] == "America/New_York (UTC-04:00)"
    assert january["America/St_Johns"] == "America/St_Johns (UTC-03:30)"
    assert july["Asia/Kolkata"] == "Asia/Kolkata (UTC+05:30)"
    assert len(january) == len(TIME_ZONES)


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Zulu", "GMT"])
def test_other_names_of_utc_are_utc(zone):
    assert is_utc(zone)


@pytest.mark.parametrize("zone", ["Europe/London", "Africa/Abidjan", "America/New_York"])
def test_zones_that_are_not_utc(zone):
    assert not is_utc(zone)


def test_the_field_takes_a_listed_zone_and_refuses_anything_else():
    field = TimeZoneField()
    assert field.clean(" Europe/Paris ") == "Europe/Paris"
    for wrong in ("Mars/Olympus", "europe/paris", "UTC+05:00", "../etc/passwd", "x" * 500):
        with pytest.raises(ValidationError) as raised:
            field.clean(wrong)
        assert "is not a time zone name" in " ".join(raised.value.messages)


def test_the_picker_is_a_labelled_text_box_with_the_zones_as_its_list():
    html = TimeZoneField().widget.render("detail-timezone", "Asia/Tokyo", {"id": "id_detail-timezone"})
    assert 'list="id_detail-timezone-zones"' in html and '<datalist id="id_detail-timezone-zones">' in html
    assert 'value="Asia/Tokyo"' in html
    assert html.count("<option ") == len(TIME_ZONES)
    assert '<option value="Asia/Kolkata">Asia/Kolkata (UTC+05:30)</option>' in html


def test_show_times_in_keeps_its_default_on_a_wrong_zone_and_says_why():
    assert DisplayZoneForm({}, default="Europe/Paris").chosen == "Europe/Paris"
    assert DisplayZoneForm({"zone": "Asia/Tokyo"}, default="Europe/Paris").chosen == "Asia/Tokyo"
    wrong = DisplayZoneForm({"zone": "Mars/Olympus"}, default="Europe/Paris")
    assert wrong.chosen == "Europe/Paris"
    assert "is not a time zone name" in wrong.errors["zone"][0]
