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
                  "approvals_required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("Environment", "name", "description"),
            Fieldset("AWS", "account_id", "region", "endpoint_url", "role_arn"),
            Fieldset("Change policy", "is_production", "approvals_required"),
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_production") and cleaned.get("approvals_required") == 0:
            self.add_error("approvals_required", "A production environment needs at least one approval.")
        return cleaned
