"""What the rule flow's step forms share: the pattern form's Any/Specific choice and the field checks."""
from __future__ import annotations

from typing import Any

from django import forms

__all__ = ["ANY", "SPECIFIC", "checked", "refuse_repeats"]

ANY, SPECIFIC = "any", "specific"


def checked(value: Any, errors: list[str]) -> Any:
    """`value` when its constraint check (changes.constraints) found nothing; else those errors, at the field."""
    if errors:
        raise forms.ValidationError(errors)
    return value


def refuse_repeats(values: list, what: str) -> None:
    """A formset's error when a value is used twice: "Tag keys must be unique: team is used twice."."""
    repeated = {value for value in values if value and values.count(value) > 1}
    if repeated:
        raise forms.ValidationError(f"{what} must be unique: {', '.join(sorted(repeated))} is used twice.")
