"""Step 4: Configure tags."""
from __future__ import annotations

from django import forms
from django.forms import formset_factory

from changes.constraints import check_string, shape
from changes.wizard_forms import WizardFormMixin, WizardFormSet

from ..spec import TAGS_PER_RESOURCE
from .common import checked, refuse_repeats


class TagForm(WizardFormMixin, forms.Form):
    key = forms.CharField(label="Key", max_length=300)
    value = forms.CharField(label="Value - optional", required=False, max_length=600)

    def clean_key(self):
        key = self.cleaned_data["key"].strip()
        errors = check_string(key, shape("events", "TagKey"), label="Tag key")
        if key.lower().startswith("aws:"):
            errors.append("Tag keys starting with aws: are reserved for AWS.")
        return checked(key, errors)

    def clean_value(self):
        value = self.cleaned_data.get("value") or ""
        return checked(value, check_string(value, shape("events", "TagValue"), label="Tag value", required=False))


class BaseTagFormSet(WizardFormSet):
    # AWS's words for the quota (TagResource/PutRule refuse a 51st tag), not Django's "at most 50 forms".
    default_error_messages = {"too_many_forms": f"A rule can have at most {TAGS_PER_RESOURCE} tags."}

    def clean(self):
        super().clean()
        refuse_repeats([f.cleaned_data.get("key") for f in self.forms
                        if f not in self.deleted_forms and getattr(f, "cleaned_data", None)], "Tag keys")


TagFormSet = formset_factory(TagForm, formset=BaseTagFormSet, extra=0, max_num=TAGS_PER_RESOURCE, validate_max=True,
                             absolute_max=100, can_delete=True)
