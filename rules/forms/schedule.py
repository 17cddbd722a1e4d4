"""Step 2 when the rule type is Schedule: Define schedule (a legacy scheduled rule, in UTC)."""
from __future__ import annotations

from django import forms

from awslang import expressions
from changes.wizard_forms import WizardFormMixin


class RuleScheduleForm(WizardFormMixin, forms.Form):
    CRON, RATE = "cron", "rate"
    FIELDS = ("minutes", "hours", "day_of_month", "month", "day_of_week", "year")
    ERROR_FIELDS = {"minutes": "minutes", "hours": "hours", "day-of-month": "day_of_month", "month": "month",
                    "day-of-week": "day_of_week", "year": "year", "rate value": "rate_value",
                    "rate unit": "rate_unit"}

    schedule_kind = forms.ChoiceField(label="Schedule pattern", widget=forms.RadioSelect, initial=CRON, choices=[
        (CRON, "A fine-grained schedule that runs at a specific time, such as 8:00 a.m. PST on the first Monday "
               "of every month"),
        (RATE, "A schedule that runs at a regular rate, such as every 10 minutes"),
    ])
    minutes = forms.CharField(label="Minutes", required=False, initial="0", max_length=100)
    hours = forms.CharField(label="Hours", required=False, initial="*", max_length=100)
    day_of_month = forms.CharField(label="Day of month", required=False, initial="*", max_length=100)
    month = forms.CharField(label="Month", required=False, initial="*", max_length=100)
    day_of_week = forms.CharField(label="Day of the week", required=False, initial="?", max_length=100)
    year = forms.CharField(label="Year", required=False, initial="*", max_length=100)
    rate_value = forms.IntegerField(label="Value", required=False, min_value=1, initial=5)
    rate_unit = forms.ChoiceField(label="Unit", required=False, initial="minutes",
                                  choices=[("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")])

    def clean(self):
        cleaned = super().clean()
        try:
            if cleaned.get("schedule_kind") == self.RATE:
                if cleaned.get("rate_value") is None:
                    self.add_error("rate_value", "Enter a whole number of at least 1.")
                    return cleaned
                expression = expressions.rate_from(cleaned["rate_value"], cleaned.get("rate_unit") or "minutes")
            else:
                expression = expressions.cron_from_fields(*(cleaned.get(f) or "" for f in self.FIELDS))
            expressions.validate(expression)
        except expressions.ExpressionError as exc:
            self.add_error(self.ERROR_FIELDS.get(getattr(exc, "field", ""), None), str(exc))
            return cleaned
        cleaned["expression"] = expression
        return cleaned
