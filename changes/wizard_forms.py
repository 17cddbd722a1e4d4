"""What the step forms of every kind's flow share (changes.wizard runs the flow; the kinds' forms use these).

- `WizardFormMixin` and `WizardFormSet`: a step's form (or formset) gets the wizard, so it can read
  the draft, its environment and the other steps.
- `EnvironmentStepMixin`: a first step's Environment picker (only where the user may submit).
- `check_name_free`: the "name already taken" check of a create flow's first step, against the
  objects managed here and then against AWS.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django import forms
from django.db.models import QuerySet
from django.forms import BaseFormSet
from django.urls import reverse
from django.utils.html import format_html

from environments import aws

from .selectors import environments_for_new_changes

__all__ = ["WizardFormMixin", "EnvironmentStepMixin", "WizardFormSet", "check_name_free", "exists_in_aws"]


class WizardFormMixin:
    """Forms in the flow get the wizard (draft, environment, other steps)."""

    def __init__(self, *args, wizard=None, **kwargs):
        self.wizard = wizard
        super().__init__(*args, **kwargs)

    @property
    def environment(self):
        return self.wizard.environment


class EnvironmentStepMixin(WizardFormMixin):
    """The first step's `environment` field: it offers only the environments where this user may
    submit, starts at the draft's, and `chosen_environment()` is the one picked (else the draft's)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = getattr(self.wizard, "request", None)  # None: built by code, not for a person
        if request is not None:
            self.fields["environment"].queryset = environments_for_new_changes(request.user)
        self.fields["environment"].initial = self.wizard.change.environment_id

    def chosen_environment(self):
        if self.is_bound and not self.fields["environment"].disabled:
            value = self.data.get(self.add_prefix("environment"))
            found = (self.fields["environment"].queryset.filter(pk=value).first() if value and str(value).isdigit()
                     else None)
            if found is not None:
                return found
        return self.wizard.change.environment


class WizardFormSet(BaseFormSet):
    """A formset step: each of its forms gets the wizard too."""

    def __init__(self, *args, wizard=None, **kwargs):
        self.wizard = wizard
        kwargs.setdefault("form_kwargs", {})["wizard"] = wizard
        super().__init__(*args, **kwargs)


def exists_in_aws(environment, service_name: str, describe: Callable[[Any], Any]) -> bool:
    """Whether `describe(client)` finds the object (False on ResourceNotFoundException).

    Made while a person waits: an interactive client, within the page's AWS time budget. Any other
    failure is a ValidationError saying the name could not be checked.
    """
    try:
        aws.within_budget(lambda: describe(aws.client(environment, service_name, interactive=True)))
    except aws.BudgetSpent as exc:
        raise forms.ValidationError(f"Could not check the name in AWS: {exc}. Try again.") from exc
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise forms.ValidationError(f"Could not check the name in AWS: {aws.describe_error(exc)}") from exc
    except BotoCoreError as exc:
        raise forms.ValidationError(f"Could not check the name in AWS: {aws.describe_error(exc)}") from exc
    return True


def check_name_free(form: forms.Form, *, managed: QuerySet, taken: str, environment, service_name: str,
                    describe: Callable[[Any], Any], check_aws: bool = True, field: str = "name") -> None:
    """Put an error on `field` when the name is taken: by an object managed here (`managed` is not
    empty), else, when `check_aws`, by one in AWS (`describe(client)` finds it).

    `taken` starts the message, e.g. "A rule named x already exists on bus default"; the error ends
    with " (managed here).", or, for an object discovery found and nobody manages, " in AWS (not
    managed here)." with a link "Adopt it instead" (the bulk action's confirmation page for that one
    object), or " in AWS." and how to make discovery list it (Discover now on the environment page).
    """
    found = managed.only("pk", "sync_status").first()
    if found is not None and found.is_managed:
        form.add_error(field, f"{taken} (managed here).")
    elif found is not None:
        form.add_error(field, format_html('{} in AWS (not managed here). <a href="{}" data-testid="adopt-instead">'
                                          "Adopt it instead</a>.", taken, _adopt_url(found)))
    elif check_aws and exists_in_aws(environment, service_name, describe):
        form.add_error(field, format_html('{} in AWS. EventConsole has not listed it yet: run Discover now on '
                                          '<a href="{}">the environment page</a>, then adopt it.', taken,
                                          reverse("environments:environment_detail", args=[environment.pk])))


def _adopt_url(obj) -> str:
    """The adopt confirmation page for one object of a registered kind."""
    from . import kinds

    kind = next(k for k in kinds.all_kinds() if k.model_class is type(obj))
    return reverse(f"{kind.url_namespace}:{type(obj)._meta.model_name}_batch", args=["adopt"]) + f"?pk={obj.pk}"
