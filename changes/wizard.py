"""A multi-step form flow whose every step is saved in a draft change request.

Why not formtools' wizard: its storage keeps only valid steps, under a session prefix. Here
whatever was typed is stored in the draft (`ChangeRequest.wizard[step]`) on every POST, valid or
not, so Back, Next, "Edit" from the review page, signing out or closing the tab never lose input,
and a draft can be resumed from another browser.

A subclass names its steps and how to build the spec from them:

    class RuleWizardView(DraftWizardView):
        kind = "rule"
        steps = [Step("detail", "Define rule detail", RuleDetailForm), ...]
        def build_spec(self, cleaned: dict[str, dict]) -> dict: ...

Forms are ordinary Django forms; they receive `wizard=self` so they can read the draft, the
environment and the other steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.forms import BaseFormSet
from django.forms.utils import ErrorDict
from django.views import View

from accounts.permissions import SUBMIT, user_can

from . import kinds
from .choices import ChangeAction, ChangeState
from .kinds import ObjectConflict, SpecInvalid
from .models import ChangeRequest
from .services import NotAllowed, change_request_draft_save, change_request_submit, plan_for
from .states import IllegalTransition
from .views import landing_after_submit

REVIEW = "review"
# The longest value one box may hold in a draft: above AWS's largest (a 256 KB event or schedule
# input), so only junk is refused, and the draft's JSON stays bounded.
RAW_VALUE_MAX = 300_000


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type | None  # None for the review step
    template: str = ""
    optional: bool = False  # a step never visited counts as empty, not as unfinished (e.g. tags)


def initial_from(raw: dict[str, list[str]], prefix: str) -> dict[str, Any]:
    """Typed values (QueryDict lists, prefixed) as a form's initial data."""
    initial = {}
    for key, values in raw.items():
        name = key[len(prefix) + 1:] if key.startswith(prefix + "-") else key
        initial[name] = values if len(values) != 1 else values[0]
    return initial


def querydict(data: dict[str, list[str]] | None) -> QueryDict:
    result = QueryDict(mutable=True)
    for key, values in (data or {}).items():
        result.setlist(key, values)
    return result


class DraftWizardView(PermissionRequiredMixin, View):
    permission_required = "changes.submit_changerequest"
    raise_exception = True
    kind: str = ""  # a registered kind (changes.kinds): its URL namespace and first step come from there
    steps: list[Step] = []
    template_name = "changes/wizard.html"

    # -- what subclasses provide ----------------------------------------------------------------
    def build_spec(self, cleaned: dict[str, dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError

    def active_steps(self) -> list[Step]:
        """The steps that apply to this draft (e.g. a scheduled rule has no event pattern step)."""
        return self.steps

    def spec_error_step(self, field_path: str) -> str:
        """Which step shows a spec error for this field path (for errors found only at submit)."""
        return self.active_steps()[0].slug

    def submitted_redirect(self, change: ChangeRequest):
        return landing_after_submit(change)

    # -- plumbing ---------------------------------------------------------------------------------
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not self.has_permission():
            return super().dispatch(request, *args, **kwargs)
        self.change = get_object_or_404(ChangeRequest.objects.select_related("environment", "author"),
                                        pk=kwargs["pk"], kind=self.kind)
        if self.change.author_id != request.user.pk:
            raise PermissionDenied("Only the author can edit a draft.")
        if not user_can(request.user, SUBMIT, self.change.environment):
            raise PermissionDenied(f"You may no longer change anything in {self.change.environment.name}.")
        if self.change.state != ChangeState.DRAFT:
            messages.info(request, f"This change is {self.change.get_state_display().lower()}; it can no longer be edited.")
            return redirect(self.change)
        slugs = [s.slug for s in self.active_steps()]
        if kwargs["step"] not in slugs:
            raise Http404("No such step")
        self.step = next(s for s in self.active_steps() if s.slug == kwargs["step"])
        return super().dispatch(request, *args, **kwargs)

    @property
    def environment(self):
        return self.change.environment

    def saved(self, slug: str) -> dict[str, list[str]] | None:
        return (self.change.wizard or {}).get(slug)

    def form_for(self, step: Step, data=None):
        kwargs = {"wizard": self, "prefix": step.slug}
        if data is not None:
            return step.form_class(data=data, **kwargs)
        saved = self.saved(step.slug)
        return step.form_class(data=querydict(saved), **kwargs) if saved is not None else step.form_class(**kwargs)

    def cleaned_steps(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        """Cleaned data of every step, and the first step that is not valid (None when all are)."""
        cleaned, first_invalid = {}, None
        for step in self.active_steps():
            if step.form_class is None:
                continue
            form = self.form_for(step)
            if form.is_bound and form.is_valid():
                cleaned[step.slug] = form.cleaned_data
            elif not form.is_bound and step.optional:
                cleaned[step.slug] = None
            elif first_invalid is None:
                first_invalid = step.slug
        return cleaned, first_invalid

    def known_step(self, slug: str) -> str:
        """`slug` when it is a step of this flow, else the current step (a forged button names no step)."""
        return slug if slug in {s.slug for s in self.active_steps()} else self.step.slug

    def step_url(self, slug: str) -> str:
        return reverse(f"{self.app}:draft_step", args=[self.change.pk, slug])

    def neighbours(self) -> tuple[str | None, str | None]:
        slugs = [s.slug for s in self.active_steps()]
        index = slugs.index(self.step.slug)
        return (slugs[index - 1] if index else None, slugs[index + 1] if index + 1 < len(slugs) else None)

    def context(self, **extra) -> dict[str, Any]:
        previous, following = self.neighbours()
        return {"change": self.change, "wizard": self, "step": self.step, "steps": self.active_steps(),
                "previous": previous, "next": following, **extra}

    def render_step(self, form, **extra):
        template = self.step.template or self.template_name
        return render(self.request, template, self.context(form=form, **extra))

    def render_quiet(self, raw: dict[str, list[str]], **extra):
        """Re-show a step from what was typed without error messages (after a refresh, not a Next).

        A formset step (targets, tags) has no dict of initial values: it is re-shown bound, as typed, with
        its checks run (they shape the lists shown) and their messages left for Next.
        """
        if issubclass(self.step.form_class, BaseFormSet):
            formset = self.form_for(self.step, data=querydict(raw))
            formset.is_valid()
            for form in formset.forms:
                form._errors = ErrorDict()  # Django keeps a form's messages there once it has been checked
            formset._errors, formset._non_form_errors = [form.errors for form in formset.forms], formset.error_class()
            return self.render_step(formset, **extra)
        form = self.step.form_class(wizard=self, prefix=self.step.slug, initial=initial_from(raw, self.step.slug))
        return self.render_step(form, **extra)

    # -- GET / POST -------------------------------------------------------------------------------
    def get(self, request, pk, step):
        if self.step.slug == REVIEW:
            return self.render_review()
        return self.render_step(self.form_for(self.step))

    def post(self, request, pk, step):
        if self.step.slug == REVIEW:
            go = request.POST.get("_go", "")
            if go.startswith("step:"):
                return redirect(self.step_url(self.known_step(go[5:])))
            if go == "back":
                return redirect(self.step_url(self.neighbours()[0]))
            return self.submit()
        data = request.POST.copy()
        data.pop("csrfmiddlewaretoken", None)
        go = data.pop("_go", ["next"])[-1]
        raw = {key: data.getlist(key) for key in data}
        too_long = sorted(key[:100] for key, values in raw.items()
                          if len(key) > 200 or any(len(v) > RAW_VALUE_MAX for v in values))
        if too_long:  # nothing is saved: what the draft already holds stays as it was
            messages.error(request, f"{', '.join(k.split('-')[-1] for k in too_long)[:200]}: at most "
                                    f"{RAW_VALUE_MAX:,} characters can be typed in one box; nothing was saved.")
            return self.render_step(self.form_for(self.step))
        raw = self.adjust_raw(raw, go)
        form = self.form_for(self.step, data=querydict(raw))
        environment = self.step_environment(form)
        if environment is not None:
            self.change.environment = environment  # later steps list resources of the chosen environment
        cleaned, _ = self.cleaned_steps_with(self.step.slug, raw)
        spec = self.build_spec(cleaned)
        try:
            self.change = change_request_draft_save(
                self.change, actor=request.user, step=self.step.title, spec=spec,
                wizard={**(self.change.wizard or {}), self.step.slug: raw}, environment=environment)
        except (IllegalTransition, NotAllowed) as exc:
            messages.error(request, str(exc))
            return redirect(self.change)
        if go == "refresh" or go.startswith("switch:"):
            return self.render_quiet(raw)  # the form itself changed (another service, another mode)
        previous, following = self.neighbours()
        if go == "back" and previous:
            return redirect(self.step_url(previous))  # saved as typed, even when not valid yet
        if go.startswith("step:"):
            return redirect(self.step_url(self.known_step(go[5:])))
        if go == "save":
            messages.success(request, "Draft saved. Resume it from the list whenever you like.")
            return redirect(self.step_url(self.step.slug))
        if not form.is_valid():
            return self.render_step(form)
        return redirect(self.step_url(following or REVIEW))

    def adjust_raw(self, raw: dict[str, list[str]], go: str) -> dict[str, list[str]]:
        """Hook for buttons that change what was typed before it is saved (e.g. JSON editor → form)."""
        return raw

    @property
    def app(self) -> str:  # URL namespace
        return kinds.get(self.kind).url_namespace

    def step_environment(self, form):
        """The environment a create draft's first step chose (its form's `chosen_environment()`); no other
        step, and no edit, moves a draft to another environment."""
        if self.step.slug != kinds.get(self.kind).first_step or self.change.action != ChangeAction.CREATE:
            return None
        return form.chosen_environment()

    def cleaned_steps_with(self, slug: str, raw: dict[str, list[str]]):
        original = self.change.wizard
        self.change.wizard = {**(original or {}), slug: raw}
        try:
            return self.cleaned_steps()
        finally:
            self.change.wizard = original

    # -- review and submit ------------------------------------------------------------------------
    def render_review(self, errors: dict[str, list[str]] | None = None):
        cleaned, first_invalid = self.cleaned_steps()
        if first_invalid is not None:
            messages.warning(self.request, "Some steps are not complete yet; finish this one first.")
            return redirect(self.step_url(first_invalid))
        handler = kinds.handler_for(self.kind)
        calls, note = [], ""
        try:
            calls, note = plan_for(self.change)
        except Exception as exc:  # the review must show even if the plan cannot be computed
            note = f"The plan could not be computed: {exc}"
        spec_errors = errors if errors is not None else handler.validate(self.change.spec, environment=self.environment)
        from .approvals import explain, requirements

        reaches = [explain(row) for row in requirements(self.change, reviews=[]) if row.reason]
        return render(self.request, self.template_name_review, self.context(
            cleaned=cleaned, plan=calls, plan_note=note, spec_errors=spec_errors, spec=self.change.spec,
            reaches=reaches))

    template_name_review = "changes/wizard_review.html"

    def submit(self):
        cleaned, first_invalid = self.cleaned_steps()
        if first_invalid is not None:
            return redirect(self.step_url(first_invalid))
        try:
            change_request_submit(self.change, actor=self.request.user)
        except SpecInvalid as exc:
            messages.error(self.request, "The change is not valid yet; see the messages below.")
            return self.render_review(errors=exc.errors)
        except (ObjectConflict, NotAllowed, IllegalTransition) as exc:
            messages.error(self.request, str(exc))
            return self.render_review()
        if self.change.state == ChangeState.SUBMITTED:
            from .approvals import progress_words, requirements

            messages.success(self.request, "Submitted for review; approvals needed before it is applied: "
                             f"{progress_words(requirements(self.change, reviews=[]))}.")
        else:
            messages.success(self.request, "Submitted: no approval is needed here, so the worker is applying it now.")
        return self.submitted_redirect(self.change)
