"""Rule pages: list, detail, history and the actions that open change requests (thin views)."""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from accounts.permissions import restrict, user_can
from changes.choices import ChangeAction, ChangeKind, ChangeState, OPEN_STATES
from changes.models import ChangeRequest
from changes.selectors import drafts_of, object_history
from changes.services import change_request_draft_create
from changes import views as changes_views
from changes.views import ObjectActionView, environment_for_new_draft, object_readable
from core.tables import CheckedPaginationMixin
from environments.models import Environment
from schedules import expressions

from . import patterns
from .filtersets import RuleFilterSet
from .forms import EventPatternForm, RuleScheduleForm, TargetForm, target_entry
from .models import Rule
from .selectors import rule_list
from .tables import RuleTable, status_badge
from .wizard import DETAIL, PATTERN

VIEW, SUBMIT = "rules.view_rule", "changes.submit_changerequest"


class RuleListView(PermissionRequiredMixin, CheckedPaginationMixin, SingleTableMixin, FilterView):
    permission_required = VIEW
    raise_exception = True
    table_class = RuleTable
    filterset_class = RuleFilterSet
    template_name = "rules/rule_list.html"
    paginate_by = 50

    def get_queryset(self):
        return restrict(rule_list(), self.request.user, VIEW)

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["rules/rule_list.html#table"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        drafts = drafts_of(self.request.user, ChangeKind.RULE)
        # Create rule offers only the environments where this user may submit (a sandbox first).
        environments = restrict(Environment.objects.order_by("is_production", "name"), self.request.user, SUBMIT,
                                field="pk")
        return super().get_context_data(drafts=drafts, environments=environments, **kwargs)


class RuleCreateView(PermissionRequiredMixin, View):
    """POST: start a new draft ("Create rule") and open its first step."""

    permission_required = SUBMIT
    raise_exception = True

    def post(self, request):
        environment = environment_for_new_draft(request)
        if environment is None:
            messages.error(request, "Add an environment first (Environments page).")
            return redirect("rules:rule_list")
        draft = change_request_draft_create(kind=ChangeKind.RULE, action=ChangeAction.CREATE, environment=environment,
                                            author=request.user, spec={})
        return redirect("rules:draft_step", draft.pk, DETAIL)


class RuleDetailView(PermissionRequiredMixin, DetailView):
    permission_required = VIEW
    raise_exception = True
    template_name = "rules/rule_detail.html"
    context_object_name = "rule"

    def get_queryset(self):
        return rule_list()

    def get_object(self, queryset=None):
        return object_readable(self.request.user, super().get_object(queryset), VIEW)

    def get_context_data(self, **kwargs):
        rule = self.object
        spec = rule.desired_spec or {}
        live = rule.live_spec
        pending = rule.changes.filter(state__in=OPEN_STATES).select_related("author").order_by("-id")
        versions = rule.changes.filter(state=ChangeState.APPLIED).select_related("author").order_by("-applied_at")
        history = object_history("rule", rule.pk).order_by("-id")[:50]
        pattern = (spec.get("Rule") or {}).get("EventPattern")
        return super().get_context_data(
            spec=spec, live=live, pending=pending, history=history, versions=versions, status=status_badge(rule),
            pattern=json.loads(pattern) if pattern else None,
            sources=_sources(pattern), targets=spec.get("Targets") or [], tags=spec.get("Tags") or [],
            can_submit=user_can(self.request.user, SUBMIT, rule.environment_id), **kwargs)


def _sources(pattern: str | None) -> list[str]:
    if not pattern:
        return []
    value = json.loads(pattern).get("source")
    return [s if isinstance(s, str) else json.dumps(s) for s in value] if isinstance(value, list) else []


class RuleActionView(ObjectActionView):
    """POST edit / clone / enable / disable / delete: each opens a draft or a change request."""

    model = Rule
    kind = ChangeKind.RULE
    app = "rules"
    first_step = DETAIL


class RuleDeleteView(PermissionRequiredMixin, DetailView):
    """GET: confirm what Delete removes (targets, then the rule). POST: open the delete change."""

    permission_required = SUBMIT
    raise_exception = True
    template_name = "rules/rule_confirm_delete.html"
    context_object_name = "rule"
    model = Rule

    def get_object(self, queryset=None):
        return object_readable(self.request.user, super().get_object(queryset), SUBMIT)

    def post(self, request, pk):
        return RuleActionView.as_view()(request, pk=pk, action="delete")


class DraftDiscardView(changes_views.DraftDiscardView):
    kind = ChangeKind.RULE
    list_url = "rules:rule_list"


# ---------------------------------------------------------------------------------------------
# htmx helpers for the flow: live pattern JSON, Test pattern, next trigger dates, input preview
# ---------------------------------------------------------------------------------------------
class _DraftHelper(PermissionRequiredMixin, View):
    permission_required = SUBMIT
    raise_exception = True

    def draft(self, pk):
        from .wizard import RuleWizardView

        change = get_object_or_404(ChangeRequest.objects.select_related("environment"), pk=pk, kind=ChangeKind.RULE,
                                   author=self.request.user)
        if not user_can(self.request.user, SUBMIT, change.environment_id):
            raise PermissionDenied
        wizard = RuleWizardView()
        wizard.request, wizard.change = self.request, change
        return wizard


class PatternPreviewView(_DraftHelper):
    def post(self, request, pk):
        form = EventPatternForm(data=request.POST, wizard=self.draft(pk), prefix=PATTERN)
        form.is_valid()
        pattern = form.cleaned_data.get("pattern") if hasattr(form, "cleaned_data") else None
        errors = [e for errors in form.errors.values() for e in errors] if pattern is None else []
        sample = form.cleaned_data.get("sample") if hasattr(form, "cleaned_data") else None
        return render(request, "rules/_pattern_preview.html", {"pattern": pattern, "errors": errors, "sample": sample})


class PatternTestView(_DraftHelper):
    """Test pattern: our matcher's answer and, on real AWS, TestEventPattern's beside it."""

    def post(self, request, pk):
        wizard = self.draft(pk)
        form = EventPatternForm(data=request.POST, wizard=wizard, prefix=PATTERN)
        form.is_valid()
        cleaned = getattr(form, "cleaned_data", {})
        pattern, sample = cleaned.get("pattern"), cleaned.get("sample")
        context = {"pattern": pattern, "sample": sample}
        if pattern is None:
            context["error"] = "Fix the event pattern first: " + "; ".join(
                e for errors in form.errors.values() for e in errors)
        elif sample is None:
            context["error"] = "Choose a sample event (or enter your own) to test the pattern against."
        else:
            from .sandbox import pattern_check

            context["matched"], context["why"], context["error"] = pattern_check(pattern, sample)
            if not context["error"] and not wizard.environment.is_emulated:
                context["aws"] = _aws_test_event_pattern(wizard.environment, pattern, sample)
        return render(request, "rules/_pattern_test.html", context)


def _aws_test_event_pattern(environment, pattern, sample) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    from environments import aws

    try:  # a person waits for the answer: within the page's interactive AWS budget
        result = aws.within_budget(lambda: aws.client(environment, "events", interactive=True).test_event_pattern(
            EventPattern=json.dumps(pattern), Event=json.dumps(sample)))
        return {"matched": bool(result["Result"])}
    except aws.BudgetSpent as exc:
        return {"error": str(exc)}
    except (BotoCoreError, ClientError, KeyError) as exc:
        return {"error": aws.describe_error(exc) if not isinstance(exc, KeyError) else "No result returned."}


class SchedulePreviewView(_DraftHelper):
    """The next 10 trigger dates (UTC) of the schedule typed so far."""

    def post(self, request, pk):
        form = RuleScheduleForm(data=request.POST, wizard=self.draft(pk), prefix="schedule")
        context = {"errors": [], "runs": []}
        if form.is_valid():
            expression = form.cleaned_data["expression"]
            context.update(expression=expression, description=expressions.describe(expression),
                           runs=expressions.next_runs(expression, "UTC", timezone.now(), 10))
        else:
            context["errors"] = [e for errors in form.errors.values() for e in errors]
        return render(request, "rules/_schedule_preview.html", context)


class TargetPreviewView(_DraftHelper):
    """What this target would receive for the sample event chosen in Build event pattern."""

    def post(self, request, pk, index):
        from .transform import TransformError, render_target_input

        if not index.isdigit():  # "__prefix__" in the blank form's template, replaced when a target is added
            raise Http404("No such target")
        wizard = self.draft(pk)
        form = TargetForm(data=request.POST, wizard=wizard, prefix=f"targets-{index}")
        sample = _saved_sample(wizard)
        context = {"sample": sample}
        if sample is None:
            context["error"] = "Choose a sample event in Build event pattern to preview the input."
        elif not form.is_valid():
            context["error"] = "; ".join(e for errors in form.errors.values() for e in errors)
        else:
            entry = target_entry(form.cleaned_data, target_id="preview")
            rule = (wizard.change.spec or {}).get("Rule") or {}
            name = rule.get("Name", "my-rule")
            try:
                context["output"] = render_target_input(entry, sample, rule_arn=_rule_arn(wizard.environment, rule),
                                                        rule_name=name)
            except TransformError as exc:
                context["error"] = str(exc)
        return render(request, "rules/_target_preview.html", context)


def _rule_arn(environment, rule) -> str:
    from .spec import rule_arn

    return rule_arn(region=environment.region, account=environment.account_id or "123456789012",
                    bus=rule.get("EventBusName", "default"), name=rule.get("Name", "my-rule"))


def _saved_sample(wizard):
    from changes.wizard import querydict

    saved = (wizard.change.wizard or {}).get(PATTERN)
    if not saved:
        return None
    form = EventPatternForm(data=querydict(saved), wizard=wizard, prefix=PATTERN)
    form.is_valid()
    return getattr(form, "cleaned_data", {}).get("sample")


def draft_step_url(change: ChangeRequest) -> str:
    return reverse("rules:draft_step", args=[change.pk, DETAIL])


# ---------------------------------------------------------------------------------------------
# Sandbox and "Which rules match this event?"
# ---------------------------------------------------------------------------------------------
class SandboxView(PermissionRequiredMixin, View):
    """Test an event pattern and an input transformer against a sample event (no AWS call needed)."""

    permission_required = VIEW
    raise_exception = True
    template_name = "rules/sandbox.html"

    def get(self, request):
        from .sandbox import SandboxForm

        initial = {"sample_key": "s3-object-created", "pattern": json.dumps(
            {"source": ["aws.s3"], "detail-type": ["Object Created"],
             "detail": {"bucket": {"name": ["processing-bucket-1"]}}}, indent=2)}
        return render(request, self.template_name, {"form": SandboxForm(initial=initial), "samples": _samples_json()})

    def post(self, request):
        from .sandbox import SandboxForm, sandbox_run

        form = SandboxForm(request.POST)
        result = sandbox_run(form.cleaned_data) if form.is_valid() else None
        template = "rules/_sandbox_result.html" if request.htmx else self.template_name
        return render(request, template, {"form": form, "result": result, "samples": _samples_json()})


class EventMatchView(PermissionRequiredMixin, View):
    """Which managed rules (any environment, any bus) would fire on this event, and what their targets get."""

    permission_required = VIEW
    raise_exception = True
    template_name = "rules/event_match.html"

    def get(self, request):
        from .sandbox import EventForm

        return render(request, self.template_name, {"form": EventForm(initial={"sample_key": "s3-object-created"}),
                                                    "samples": _samples_json()})

    def post(self, request):
        from .sandbox import EventForm, budget_message, rules_matching

        form = EventForm(request.POST)
        context = {"form": form, "samples": _samples_json()}
        if form.is_valid():
            try:
                matches, context["skipped"] = rules_matching(form.cleaned_data["event_value"])
                context["matches"] = [m for m in matches if user_can(request.user, VIEW, m.rule.environment_id)]
                context["checked"] = True
            except patterns.MatchBudgetExceeded:
                context["budget_error"] = budget_message()
        template = "rules/_event_match_result.html" if request.htmx else self.template_name
        return render(request, template, context)


def _samples_json() -> dict:
    """Every sample event by key (for json_script), so picking one shows it in the event box."""
    from . import catalog

    return {s["key"]: catalog.sample(s["key"]) for s in catalog.samples()}
