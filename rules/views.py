"""Rule pages: list, detail (Overview | History), the actions that open change requests, the flow's htmx
helpers, the sandbox and "Which rules match this event?" (thin views; the frame is changes.object_views)."""
from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View

from accounts.permissions import user_can
from accounts.preferences import time_zone_default
from awslang import expressions, patterns
from core.timezones import is_utc
from changes import kinds, services
from changes import views as changes_views
from changes.choices import PENDING_STATES, ChangeAction, ChangeKind, ChangeState
from changes.kinds import ObjectConflict, SpecInvalid
from changes.models import ChangeRequest
from changes.review_difference import expression_in_words
from changes.object_views import (
    KindPagesMixin, ManagedObjectCreateView, ManagedObjectDeleteView, ManagedObjectDetailView, ManagedObjectListView,
)
from changes.batch_views import BatchConfirmView
from changes.states import IllegalTransition
from changes.views import ObjectActionView

from delivery import policies
from metrics import catalog as metrics_catalog
from metrics import selectors as metrics_selectors

from .aws_reader import rule_arn_in
from .filtersets import RuleFilterSet
from .models import Rule
from .forms import EventPatternForm, RuleScheduleForm, TargetForm, target_entry
from .selectors import rule_list
from .tables import RuleTable
from .wizard import PATTERN, RuleWizardView

VIEW, SUBMIT = "rules.view_rule", "changes.submit_changerequest"
FIX_PERMISSIONS = "fix-permissions"


class RulePages(KindPagesMixin):
    kind = ChangeKind.RULE
    view_permission = VIEW

    def objects(self):
        return rule_list()


class RuleListView(RulePages, ManagedObjectListView):
    template_name = "rules/rule_list.html"
    table_class = RuleTable
    filterset_class = RuleFilterSet
    filter_fields = ("environment", "state", "status", "managed", "rule_type", "failing")


class RuleBatchView(RulePages, BatchConfirmView):
    """The list's bulk actions (adopt, release, re-apply, accept) on the checked or filtered rules."""

    filterset_class = RuleFilterSet


class RuleCreateView(RulePages, ManagedObjectCreateView):
    """POST: start a new draft ("Create rule") and open its first step."""


class RuleDetailView(RulePages, ManagedObjectDetailView):
    template_name = "rules/rule_detail.html"

    def overview_context(self, rule):
        # A rule nobody manages shows what AWS has, explained the same way.
        spec = (rule.desired_spec if rule.is_managed else rule.live_spec) or {}
        pattern = (spec.get("Rule") or {}).get("EventPattern")
        versions = rule.changes.filter(state=ChangeState.APPLIED).select_related("author").order_by("-applied_at")
        receivers = _receivers(rule)
        return {"versions": versions,
                "pattern": _parsed(pattern), "sources": _sources(pattern),
                "targets": spec.get("Targets") or [], "tags": spec.get("Tags") or [],
                "receivers": receivers, "cannot_receive": [r for r in receivers if r["ok"] is False],
                "current_version": next((v for v in versions if v.action != "delete"), None),
                "schedule_words": expression_in_words(rule.schedule_expression),
                # the Monitoring tab: stored CloudWatch figures (no AWS call)
                "figures": metrics_selectors.figures(
                    rule.environment, metrics_catalog.EVENTS,
                    metrics_catalog.rule_dimensions(rule.event_bus_name, rule.name)),
                "next": self.request.get_full_path()}


def _receivers(rule) -> list[dict]:
    """Per target: can it receive this rule's events (what the last poll or apply read of its policy)?"""
    if not rule.desired_spec:
        return []
    live = rule.live_spec or {}
    arn = live.get("Arn") or rule_arn_in(rule.environment, name=rule.name, bus=rule.event_bus_name)
    return policies.receivers(rule.desired_spec, live.get("Delivery"), rule_arn=arn) if arn else []


def _parsed(pattern: str | None):
    """The pattern as JSON (None when there is none; the text itself if it is not JSON, as AWS never gives)."""
    if not pattern:
        return None
    try:
        return json.loads(pattern)
    except (TypeError, ValueError, RecursionError):
        return pattern


def _sources(pattern: str | None) -> list[str]:
    parsed = _parsed(pattern)
    if not isinstance(parsed, dict):
        return []
    value = parsed.get("source")
    return [s if isinstance(s, str) else json.dumps(s) for s in value] if isinstance(value, list) else []


class RuleActionView(RulePages, ObjectActionView):
    """POST edit / clone / enable / disable / delete: each opens a draft or a change request.

    POST fix-permissions (the rule page's one-click fix, after its confirmation): a change request that
    applies the rule's desired spec again, created and submitted at once. Its plan puts back the target
    permissions that went missing; it is reviewed like any change, or applied at once where the
    environment needs no approval.
    """

    def post(self, request, pk, action):
        if action == FIX_PERMISSIONS:
            return self.fix_permissions(request, pk)
        return super().post(request, pk, action)

    def fix_permissions(self, request, pk):
        rule = get_object_or_404(Rule.objects.select_related("environment"), pk=pk)
        user, environment = request.user, rule.environment
        if not user_can(user, SUBMIT, environment.pk):
            raise PermissionDenied(f"You may not change anything in {environment.name}.")
        refused = changes_views.unmanaged_refused(request, rule)
        if refused is not None:
            return refused
        if not rule.desired_spec:
            messages.error(request, "This rule is not in AWS yet: its first change is still pending.")
            return redirect(rule)
        pending = rule.changes.filter(state__in=PENDING_STATES).exclude(state=ChangeState.FAILED).order_by("-id")
        if pending.exists():  # a second click, or another change on its way: that one re-applies the spec too
            messages.info(request, f"Change #{pending[0].pk} of {rule.name} is already on its way; it applies the "
                                   "desired spec, permissions included.")
            return redirect(pending[0])
        handler = kinds.get(ChangeKind.RULE).handler
        try:
            change = services.change_request_draft_create(
                kind=ChangeKind.RULE, action=ChangeAction.RESTORE, environment=environment, author=user,
                spec=rule.desired_spec, target=rule,
                wizard=handler.wizard_from_spec(rule.desired_spec, environment=environment))
        except services.NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        try:
            services.change_request_submit(change, actor=user)
        except (SpecInvalid, ObjectConflict, services.NotAllowed, IllegalTransition) as exc:
            messages.error(request, f"The change re-applying {rule.name} could not be submitted: {exc}")
            return redirect(change)
        if change.state == ChangeState.SUBMITTED:
            messages.success(request, f"Submitted a change re-applying {rule.name}: waiting for review.")
        else:
            messages.success(request, f"Submitted a change re-applying {rule.name}; {environment.name} needs no "
                                      "approval, so it is being applied.")
        return redirect(change)


class RuleDeleteView(RulePages, ManagedObjectDeleteView):
    """GET: confirm what Delete removes (targets, then the rule). POST: open the delete change."""

    template_name = "rules/rule_confirm_delete.html"
    action_view = RuleActionView


class DraftDiscardView(RulePages, changes_views.DraftDiscardView):
    pass


# ---------------------------------------------------------------------------------------------
# htmx helpers for the flow: live pattern JSON, Test pattern, next trigger dates, input preview
# ---------------------------------------------------------------------------------------------
class _DraftHelper(PermissionRequiredMixin, View):
    permission_required = SUBMIT
    raise_exception = True

    def draft(self, pk):
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
        # A choice still to be made (Specific bucket(s) picked, no name typed yet) is not an error while
        # the person works: the preview says what it waits for; Next shows the error at the field.
        awaited = form.awaited() if pattern is None else {}
        errors = [e for name, errors in form.errors.items() if name not in awaited for e in errors] \
            if pattern is None else []
        sample = form.cleaned_data.get("sample") if hasattr(form, "cleaned_data") else None
        return render(request, "rules/_pattern_preview.html",
                      {"pattern": pattern, "errors": errors, "awaited": list(awaited.values()), "sample": sample})


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
    """The next 10 trigger dates of the schedule typed so far: in UTC (a scheduled rule runs in UTC), with the
    person's own time zone beside (accounts.preferences) when it is not UTC."""

    def post(self, request, pk):
        form = RuleScheduleForm(data=request.POST, wizard=self.draft(pk), prefix="schedule")
        context = {"errors": [], "runs": []}
        if form.is_valid():
            expression = form.cleaned_data["expression"]
            zone = time_zone_default(request)
            runs = expressions.next_runs(expression, "UTC", timezone.now(), 10)
            context.update(expression=expression, description=expressions.describe(expression),
                           runs=[(run, run.astimezone(ZoneInfo(zone))) for run in runs],
                           zone=None if is_utc(zone) else zone)
        else:
            context["errors"] = [e for errors in form.errors.values() for e in errors]
        return render(request, "rules/_schedule_preview.html", context)


class TargetPreviewView(_DraftHelper):
    """What this target would receive for the sample event chosen in Build event pattern."""

    def post(self, request, pk, index):
        from awslang.transform import TransformError, render_target_input

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
