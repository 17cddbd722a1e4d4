from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms

from .models import Environment


class EnvironmentForm(forms.ModelForm):
    endpoint_url = forms.URLField(
        label="Endpoint URL", required=False, assume_scheme="http",
        help_text=Environment._meta.get_field("endpoint_url").help_text)

    class Meta:
        model = Environment
        fields = ["name", "description", "account_id", "region", "endpoint_url", "role_arn", "is_production",
                  "approvals_required", "pattern_size_max", "api_rate_limit", "tailing_allowed"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pattern_size_max"].required = False  # empty: the default quota (2,048)
        self.fields["api_rate_limit"].required = False  # empty: the default (20 calls a second)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("Environment", "name", "description"),
            Fieldset("AWS", "account_id", "region", "endpoint_url", "role_arn", "pattern_size_max", "api_rate_limit"),
            Fieldset("Change policy", "is_production", "approvals_required"),
            Fieldset("Live tail", "tailing_allowed"),
        )

    def clean_pattern_size_max(self):
        value = self.cleaned_data.get("pattern_size_max")
        return Environment._meta.get_field("pattern_size_max").default if value is None else value

    def clean_api_rate_limit(self):
        value = self.cleaned_data.get("api_rate_limit")
        return Environment._meta.get_field("api_rate_limit").default if value is None else value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_production") and cleaned.get("approvals_required") == 0:
            self.add_error("approvals_required", "A production environment needs at least one approval.")
        return cleaned
