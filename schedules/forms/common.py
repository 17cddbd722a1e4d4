"""What the step forms share: the wizard mixin, local times → UTC, spec errors → form fields."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

from django import forms

from awslang import expressions
from changes.wizard_forms import WizardFormMixin

from ..spec import validate_schedule_spec

__all__ = ["WizardFormMixin", "local_to_utc", "map_spec_errors", "listing_choices"]


def map_spec_errors(form: forms.Form, part: dict, fields: dict[str, str | None]) -> None:
    """Validate `part` (this step's share of the spec) and put each error on its form field.

    `fields` maps a spec path to a form field (None: the form's own errors); paths not listed
    belong to other steps and are ignored here. A field that already has an error keeps only it.
    """
    for path, messages in validate_schedule_spec(part).items():
        if path not in fields:
            continue
        name = fields[path]
        if name is not None and name in form.errors:
            continue
        for message in messages:
            form.add_error(name, message)


def local_to_utc(day_text: str, clock_text: str, zone: str) -> datetime:
    """A date (YYYY/MM/DD or YYYY-MM-DD) and a 24-hour time in `zone` → an aware UTC datetime.

    Raises ValidationError naming what is wrong, including a time that does not exist in the
    zone (skipped by a daylight-saving change).
    """
    try:
        day = date.fromisoformat(day_text.strip().replace("/", "-"))
    except ValueError:
        raise forms.ValidationError(f'"{day_text}" is not a date in the form YYYY/MM/DD.', code="date") from None
    try:
        clock = time.fromisoformat(clock_text.strip() or "00:00")
    except ValueError:
        raise forms.ValidationError(f'"{clock_text}" is not a 24-hour time in the form hh:mm.', code="time") from None
    wall = datetime.combine(day, clock.replace(tzinfo=None))
    runs = expressions.next_runs(expressions.at_from(day, clock), zone, datetime(1970, 1, 1, tzinfo=UTC), 1)
    if not runs:
        raise forms.ValidationError(f"{wall:%Y/%m/%d %H:%M} does not exist in {zone}: the clocks skip it when "
                                    f"daylight saving time starts.", code="time")
    return runs[0].astimezone(UTC)


def listing_choices(field: forms.ChoiceField, found, *, empty: str, data_value: str | None) -> None:
    """Fill a picker from an AWS listing, keeping a value chosen earlier that is no longer listed."""
    choices = [("", empty)] + [(r.arn, r.label) for r in found]
    if data_value and data_value not in {c[0] for c in choices}:
        choices.append((data_value, data_value))
    field.choices = choices
