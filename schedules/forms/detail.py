"""Step 1: Specify schedule detail."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accounts.preferences import time_zone_default, time_zone_from_browser, time_zone_saved
from awslang import expressions
from changes.choices import ChangeAction
from changes.constraints import check_string, member, shape
from changes.wizard_forms import EnvironmentStepMixin, check_name_free
from core.timezones import TimeZoneField
from environments.models import Environment
from environments import resources

from ..models import Schedule
from ..spec import NAME_CHARS, iso_utc, parse_date
from .common import local_to_utc, map_spec_errors

ONE_TIME, RECURRING = "one-time", "recurring"
CRON, RATE = "cron", "rate"
NEW_GROUP = "__new__"
CRON_FIELDS = ("minutes", "hours", "day_of_month", "month", "day_of_week", "year")
WINDOWS = [("OFF", "Off"), ("1", "1 minute"), ("5", "5 minutes"), ("10", "10 minutes"), ("15", "15 minutes"),
           ("custom", "Custom")]
# ExpressionError.field → the input it belongs to.
ERROR_FIELDS = {"minutes": "minutes", "hours": "hours", "day-of-month": "day_of_month", "month": "month",
                "day-of-week": "day_of_week", "year": "year", "rate value": "rate_value", "rate unit": "rate_unit",
                "at": "at_date", "timezone": "timezone", "expression": None}
SPEC_FIELDS = {"Name": "name", "GroupName": "group", "Description": "description", "ScheduleExpression": None,
               "ScheduleExpressionTimezone": "timezone", "StartDate": "start_date", "EndDate": "end_date",
               "FlexibleTimeWindow.Mode": "flexible_window",
               "FlexibleTimeWindow.MaximumWindowInMinutes": "flexible_custom"}
START_GRACE = timedelta(minutes=5)  # AWS: "The StartDate you specify cannot be earlier than 5 minutes ago."


def _text(**attrs):
    return forms.TextInput(attrs={"autocomplete": "off", **attrs})


class ScheduleDetailForm(EnvironmentStepMixin, forms.Form):
    environment = forms.ModelChoiceField(label="Environment", queryset=Environment.objects.order_by("name"),
                                         empty_label=None, help_text="The AWS account and Region of the schedule.")
    name = forms.CharField(label="Schedule name", max_length=200, widget=_text(),
                           help_text="Maximum of 64 characters consisting of numbers, lower/upper case letters, .,-,_.")
    description = forms.CharField(label="Description - optional", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    group = forms.ChoiceField(label="Schedule group", help_text="A schedule belongs to one group, for good.")
    new_group = forms.CharField(label="New schedule group name", required=False, max_length=200, widget=_text(),
                                help_text="Created when the change is applied (only if it does not exist yet).")
    occurrence = forms.ChoiceField(label="Occurrence", widget=forms.RadioSelect, initial=RECURRING, choices=[
        (ONE_TIME, "One-time schedule"), (RECURRING, "Recurring schedule")])
    at_date = forms.CharField(label="Date", required=False, max_length=20, widget=_text(placeholder="YYYY/MM/DD"))
    at_time = forms.CharField(label="Time", required=False, max_length=8, widget=_text(placeholder="hh:mm"),
                              help_text="Use 24-hour format timestamp.")
    timezone = TimeZoneField(label="Time zone", initial="UTC",
                             help_text="Type part of a place (New York, London, Kolkata) and pick the zone from "
                                       "the list; each shows its offset from UTC today. Starts at the zone you "
                                       "last picked, else your browser's.")
    schedule_type = forms.ChoiceField(label="Schedule type", widget=forms.RadioSelect, initial=CRON, required=False,
                                      choices=[
        (CRON, "Cron-based schedule — a schedule set using a cron expression that runs at a specific time, such as "
               "8:00 a.m. PST on the first Monday of every month"),
        (RATE, "Rate-based schedule — a schedule that runs at a regular rate, such as every 10 minutes")])
    minutes = forms.CharField(label="Minutes", required=False, initial="0", max_length=100, widget=_text())
    hours = forms.CharField(label="Hours", required=False, initial="*", max_length=100, widget=_text())
    day_of_month = forms.CharField(label="Day of month", required=False, initial="*", max_length=100, widget=_text())
    month = forms.CharField(label="Month", required=False, initial="*", max_length=100, widget=_text())
    day_of_week = forms.CharField(label="Day of the week", required=False, initial="?", max_length=100, widget=_text())
    year = forms.CharField(label="Year", required=False, initial="*", max_length=100, widget=_text())
    rate_value = forms.IntegerField(label="Value", required=False, initial=5)
    rate_unit = forms.ChoiceField(label="Unit", required=False, initial="minutes",
                                  choices=[("minutes", "minutes"), ("hours", "hours"), ("days", "days")])
    flexible_window = forms.ChoiceField(label="Flexible time window", initial="OFF", choices=WINDOWS,
                                        help_text="Invoke the target within this window after the scheduled time.")
    flexible_custom = forms.IntegerField(label="Maximum time window (minutes)", required=False,
                                         help_text="1 to 1440 minutes.")
    start_date = forms.CharField(label="Start date and time - optional", required=False, max_length=20,
                                 widget=_text(placeholder="YYYY/MM/DD"))
    start_time = forms.CharField(label="Start time", required=False, max_length=8, widget=_text(placeholder="hh:mm"))
    end_date = forms.CharField(label="End date and time - optional", required=False, max_length=20,
                               widget=_text(placeholder="YYYY/MM/DD"))
    end_time = forms.CharField(label="End time", required=False, max_length=8, widget=_text(placeholder="hh:mm"))

    def __init__(self, *args, check_aws: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_aws = check_aws
        change = self.wizard.change
        self._start_at_the_persons_zone()
        if change.action != ChangeAction.CREATE:
            # A schedule keeps its environment, group and name (AWS cannot move or rename one);
            # disabled fields take their initial values, whatever is posted.
            base = change.base_spec or change.spec or {}
            self.initial.update(name=base.get("Name", ""), group=base.get("GroupName") or "default", new_group="",
                                environment=change.environment_id)
            for name in ("environment", "group", "new_group", "name"):
                self.fields[name].disabled = True
        groups, self.group_error = resources.schedule_groups(self.chosen_environment()) if check_aws else ([], "")
        choices = [(g.label, g.label) for g in groups] or [("default", "default")]
        current = ((self.data.get(self.add_prefix("group")) if self.is_bound and not self.fields["group"].disabled
                    else None) or self.initial.get("group"))
        if current and current != NEW_GROUP and current not in {c[0] for c in choices}:
            choices.append((current, current))  # keep what was chosen, even if AWS no longer lists it
        self.fields["group"].choices = choices + [(NEW_GROUP, "Create a new schedule group…")]
        self.fields["group"].initial = "default"

    def _start_at_the_persons_zone(self) -> None:
        """A new draft's zone starts where this person's last pick (else their browser) is; with neither known
        yet, the browser's script fills it in (data-browser-zone, static/js/timezone.js)."""
        request = getattr(self.wizard, "request", None)
        if request is None or self.is_bound:
            return
        self.fields["timezone"].initial = time_zone_default(request)
        if not time_zone_saved(request.user) and not time_zone_from_browser(request):
            self.fields["timezone"].widget.attrs["data-browser-zone"] = ""

    def _unchanged(self, key: str, value: Any) -> bool:
        """True when editing and `key` keeps the value the schedule has (no "future" checks then)."""
        base = self.wizard.change.base_spec or {}
        return self.wizard.change.action != ChangeAction.CREATE and base.get(key) == value

    # -- fields -----------------------------------------------------------------------------------
    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        errors = check_string(name, member("scheduler", "CreateScheduleInput", "Name"), label="Schedule name",
                              allowed=NAME_CHARS)
        if errors:
            raise forms.ValidationError(errors)
        return name

    def clean_new_group(self):
        name = (self.cleaned_data.get("new_group") or "").strip()
        if name and self.data.get(self.add_prefix("group")) == NEW_GROUP:
            errors = check_string(name, shape("scheduler", "ScheduleGroupName"), label="Schedule group name",
                                  allowed=NAME_CHARS)
            if errors:
                raise forms.ValidationError(errors)
        return name

    # -- the whole step ---------------------------------------------------------------------------
    def clean(self):
        cleaned = super().clean()
        group = cleaned.get("group")
        if group == NEW_GROUP:
            group = cleaned.get("new_group") or ""
            if not group and "new_group" not in self.errors:
                self.add_error("new_group", "Enter the name of the new schedule group.")
        cleaned["group_name"] = group or "default"
        zone = cleaned.get("timezone") or "UTC"
        expression = self._expression(cleaned, zone)
        window = self._window(cleaned)
        start, end = self._timeframe(cleaned, zone) if cleaned.get("occurrence") == RECURRING else (None, None)
        part = {"Name": cleaned.get("name") or "", "GroupName": cleaned["group_name"],
                "Description": cleaned.get("description") or "", "ScheduleExpression": expression or "",
                "ScheduleExpressionTimezone": zone, "FlexibleTimeWindow": window or {"Mode": "OFF"}}
        if start:
            part["StartDate"] = start
        if end:
            part["EndDate"] = end
        fields = dict(SPEC_FIELDS, GroupName="new_group" if cleaned.get("group") == NEW_GROUP else "group")
        if expression is None:
            fields.pop("ScheduleExpression")
        map_spec_errors(self, part, fields)
        if not self.errors:
            self._check_unique(cleaned)
        cleaned.update(expression=expression, window=window, start=start, end=end, zone=zone)
        return cleaned

    def _expression(self, cleaned: dict, zone: str) -> str | None:
        occurrence = cleaned.get("occurrence")
        try:
            if occurrence == ONE_TIME:
                return self._at(cleaned, zone)
            if cleaned.get("schedule_type") == RATE:
                if cleaned.get("rate_value") is None:
                    if "rate_value" not in self.errors:
                        self.add_error("rate_value", "Enter a whole number of at least 1.")
                    return None
                return expressions.rate_from(cleaned["rate_value"], cleaned.get("rate_unit") or "minutes")
            return self._cron(cleaned)
        except expressions.ExpressionError as exc:
            self.add_error(ERROR_FIELDS.get(exc.field), str(exc))
            return None

    def _cron(self, cleaned: dict) -> str | None:
        """Each of the six inputs is checked on its own, so every wrong one shows its message."""
        values = {f: (cleaned.get(f) or "").strip() for f in CRON_FIELDS}
        good = {"minutes": "0", "hours": "0", "day_of_month": "*", "month": "*", "day_of_week": "?", "year": "*"}
        checks = [("minutes",), ("hours",), ("month",), ("year",), ("day_of_month", "day_of_week")]
        failed = False
        for names in checks:
            trial = {**good, **{n: values[n] for n in names}}
            try:
                expressions.cron_from_fields(*(trial[f] for f in CRON_FIELDS))
            except expressions.ExpressionError as exc:
                self.add_error(ERROR_FIELDS.get(exc.field), str(exc))
                failed = True
        if failed:
            return None
        return expressions.cron_from_fields(*(values[f] for f in CRON_FIELDS))

    def _at(self, cleaned: dict, zone: str) -> str | None:
        day, clock = (cleaned.get("at_date") or "").strip(), (cleaned.get("at_time") or "").strip()
        if not day:
            self.add_error("at_date", "Enter the date, in the form YYYY/MM/DD.")
        if not clock:
            self.add_error("at_time", "Enter the time, in 24-hour form hh:mm.")
        if not day or not clock:
            return None
        try:
            expressions.at_from(day, "00:00")
        except expressions.ExpressionError as exc:
            self.add_error("at_date", str(exc))
            return None
        try:
            expression = expressions.at_from(day, clock)
        except expressions.ExpressionError as exc:
            self.add_error("at_time", str(exc))
            return None
        if not self._unchanged("ScheduleExpression", expression) and not expressions.next_runs(
                expression, zone, timezone.now(), 1):
            self.add_error("at_date", f"{day} {clock} in {zone} is in the past (or skipped by a daylight-saving "
                                      f"change); a one-time schedule needs a date and time in the future.")
            return None
        return expression

    def _window(self, cleaned: dict) -> dict | None:
        choice = cleaned.get("flexible_window") or "OFF"
        if choice == "OFF":
            return {"Mode": "OFF"}
        if choice == "custom":
            minutes = cleaned.get("flexible_custom")
            if minutes is None:
                if "flexible_custom" not in self.errors:
                    self.add_error("flexible_custom", "Enter the window in minutes, from 1 to 1440.")
                return None
            return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": minutes}
        return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": int(choice)}

    def _timeframe(self, cleaned: dict, zone: str) -> tuple[str | None, str | None]:
        found = {}
        for which in ("start", "end"):
            day, clock = (cleaned.get(f"{which}_date") or "").strip(), (cleaned.get(f"{which}_time") or "").strip()
            found[which] = None
            if not day and not clock:
                continue
            if not day:
                self.add_error(f"{which}_date", "Enter the date too, or clear the time.")
                continue
            try:
                found[which] = local_to_utc(day, clock, zone)
            except forms.ValidationError as exc:
                self.add_error(f"{which}_time" if exc.code == "time" else f"{which}_date", exc)
        start, end = found["start"], found["end"]
        now = timezone.now()
        if start and not self._unchanged("StartDate", iso_utc(start)) and start < now - START_GRACE:
            self.add_error("start_date", "The start date and time cannot be in the past (AWS allows at most 5 "
                                         "minutes ago). Leave it empty to start as soon as the schedule is created.")
        if end and not self._unchanged("EndDate", iso_utc(end)) and end <= now:
            self.add_error("end_date", "The end date and time must be in the future.")
        return (iso_utc(start) if start else None), (iso_utc(end) if end else None)

    def _check_unique(self, cleaned: dict) -> None:
        change = self.wizard.change
        if change.action != ChangeAction.CREATE or not cleaned.get("name"):
            return
        environment, group, name = cleaned.get("environment"), cleaned["group_name"], cleaned["name"]
        check_name_free(self, managed=Schedule.objects.filter(environment=environment, group_name=group, name=name),
                        taken=f"A schedule named {name} already exists in group {group}", environment=environment,
                        service_name="scheduler", check_aws=self.check_aws,
                        describe=lambda client: client.get_schedule(Name=name, GroupName=group))


__all__ = ["ScheduleDetailForm", "ONE_TIME", "RECURRING", "CRON", "RATE", "NEW_GROUP", "CRON_FIELDS", "parse_date"]
