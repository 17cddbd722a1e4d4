"""The time zones a person can pick, each with its current offset from UTC, and the picker that lists them.

The list is the IANA database Python ships (`zoneinfo.available_timezones()`, about 600 names, the
names EventBridge Scheduler accepts), UTC first. Offsets change with daylight saving time, so the
labels ("America/New_York (UTC−05:00)") are worked out for the current hour and cached for it.

    TIME_ZONES                   # ["UTC", "Africa/Abidjan", …]
    is_time_zone("Europe/London")  # True
    offset_text("Asia/Kolkata", at)  # "UTC+05:30"
    TimeZoneField(label="Time zone")  # a text box searchable through its list (a <datalist>)
"""
from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache

from django import forms
from django.utils.html import format_html, format_html_join

__all__ = ["TIME_ZONES", "is_time_zone", "offset_text", "zone_labels", "TimeZoneInput", "TimeZoneField",
           "DisplayZoneForm", "is_utc", "UTC_NAMES", "time_zone_error"]

# "localtime" is the machine's own zone and "Factory" a placeholder: neither names a place.
_NOT_PLACES = {"localtime", "Factory"}
TIME_ZONES: list[str] = ["UTC"] + sorted(z for z in zoneinfo.available_timezones() if z not in _NOT_PLACES | {"UTC"})
_KNOWN = frozenset(TIME_ZONES)
MINUS = "\N{MINUS SIGN}"
# Other names of UTC itself (always +00:00, no daylight saving): a time in one of them needs no UTC beside it.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "GMT",
                       "Etc/GMT", "GMT0", "GMT+0", "GMT-0", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "Greenwich",
                       "Etc/Greenwich"})


def is_time_zone(name) -> bool:
    """Whether `name` is one of the zones listed (exact spelling, as AWS wants it)."""
    return isinstance(name, str) and name in _KNOWN


def is_utc(zone: str) -> bool:
    """Whether `zone` is UTC under another name (its clocks always read UTC's)."""
    return zone in UTC_NAMES


def offset_text(zone: str, at: datetime) -> str:
    """`zone`'s offset from UTC at the instant `at`, as "UTC+05:30" or "UTC−05:00" (a true minus sign)."""
    offset = at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else MINUS
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@lru_cache(maxsize=2)
def _labels_for_hour(hour: datetime) -> tuple[tuple[str, str], ...]:
    # The list is searched by what people type, so its offsets carry the keyboard's "-", not the minus sign
    # the pages print: "-05" finds New York.
    return tuple((zone, f"{zone} ({offset_text(zone, hour).replace(MINUS, '-')})") for zone in TIME_ZONES)


def zone_labels(at: datetime | None = None) -> tuple[tuple[str, str], ...]:
    """((zone, "zone (UTC+hh:mm)" or "zone (UTC-hh:mm)"), …) for every listed zone at `at` (now by default; offsets change only on
    the hour, so one computation serves the whole hour)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return _labels_for_hour(moment)


def time_zone_error(value: str) -> str:
    return f'"{value[:60]}" is not a time zone name: type part of a place (e.g. New York) and pick from the list.'


class TimeZoneInput(forms.TextInput):
    """A text box with the list of zones as its <datalist>: the browser filters the list as one types
    (names and offsets), and a person with a screen reader hears a labelled combo box."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}-zones"
        attrs["list"] = list_id
        box = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', zone_labels())
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


class TimeZoneField(forms.CharField):
    """An IANA time zone typed or picked from the list; anything else is an error at the field."""

    widget = TimeZoneInput

    def to_python(self, value):
        return super().to_python(value).strip()

    def validate(self, value):
        super().validate(value)
        if value and not is_time_zone(value):
            raise forms.ValidationError(time_zone_error(value), code="time_zone")


class DisplayZoneForm(forms.Form):
    """"Show times in": the zone a page draws its times in (a GET parameter `zone`). Unbound, it starts at
    `default`; a zone that is not one gets its error at the field and the page keeps the default."""

    zone = TimeZoneField(label="Show times in", required=False)

    def __init__(self, data=None, *, default: str = "UTC", ask_browser: bool = False):
        super().__init__(data if data and data.get("zone") else None, initial={"zone": default})
        self.default = default
        self.fields["zone"].widget.attrs.update({"data-autosubmit": "", "class": "form-control"})
        if self.is_bound and not self.is_valid():
            self.fields["zone"].widget.attrs.update({"class": "form-control is-invalid", "aria-invalid": "true"})
        if ask_browser and not self.is_bound:
            self.fields["zone"].widget.attrs["data-browser-zone"] = ""

    @property
    def chosen(self) -> str:
        """The zone to draw the page in."""
        if self.is_bound and self.is_valid() and self.cleaned_data["zone"]:
            return self.cleaned_data["zone"]
        return self.default
