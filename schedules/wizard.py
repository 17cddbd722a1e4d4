"""The "Create schedule" flow: four steps, each saved in the draft change request.

    Specify schedule detail → Select target → Settings → Review and create schedule

`wizard_from_spec` does the reverse of `build_spec`, so Edit and Clone open the same flow on a
new draft filled in from a schedule's desired spec.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import JsonResponse
from django.shortcuts import render

from accounts.preferences import time_zone_remember
from awslang import expressions
from changes.choices import ChangeAction
from changes.wizard import REVIEW, DraftWizardView, Step

from . import targets
from .forms import ScheduleDetailForm, ScheduleSettingsForm, ScheduleTargetForm
from .forms.detail import CRON_FIELDS, ONE_TIME, RATE, RECURRING, WINDOWS
from .forms.settings import DLQ_NONE, DLQ_OTHER, DLQ_THIS, ROLE_EXISTING
from .forms.target import TEMPLATED, UNIVERSAL
from .preview import preview_context
from .spec import DEFAULT_RETRY, parse_date, target_service

DETAIL, TARGET, SETTINGS = "detail", "target", "settings"
STEPS = [
    Step(DETAIL, "Specify schedule detail", ScheduleDetailForm, "schedules/wizard_detail.html"),
    Step(TARGET, "Select target", ScheduleTargetForm, "schedules/wizard_target.html"),
    Step(SETTINGS, "Settings", ScheduleSettingsForm, "schedules/wizard_settings.html"),
    Step(REVIEW, "Review and create schedule", None),
]
# Which step shows a spec error found only at submit.
STEP_OF_PATH = {"Target.RoleArn": SETTINGS, "Target.RetryPolicy": SETTINGS, "Target.DeadLetterConfig": SETTINGS,
                "Target": TARGET, "State": SETTINGS, "ActionAfterCompletion": SETTINGS, "KmsKeyArn": SETTINGS}


def _set(spec: dict[str, Any], key: str, value: Any) -> None:
    if value in (None, ""):
        spec.pop(key, None)
    else:
        spec[key] = value


def build_spec(cleaned: dict[str, Any], *, change) -> dict[str, Any]:
    """The CreateSchedule body from the steps that are valid so far (partial for a partial draft)."""
    spec: dict[str, Any] = dict(change.spec or {})
    detail = cleaned.get(DETAIL)
    if detail:
        spec.update(Name=detail["name"], GroupName=detail["group_name"], ScheduleExpression=detail["expression"],
                    ScheduleExpressionTimezone=detail["zone"], FlexibleTimeWindow=detail["window"])
        _set(spec, "Description", detail.get("description"))
        _set(spec, "StartDate", detail.get("start"))
        _set(spec, "EndDate", detail.get("end"))
    target = dict(spec.get("Target") or {})
    if cleaned.get(TARGET):
        settings_part = {k: target[k] for k in ("RoleArn", "RetryPolicy", "DeadLetterConfig") if k in target}
        target = {**settings_part, **cleaned[TARGET]["entry"]}
    settings = cleaned.get(SETTINGS)
    if settings:
        target.pop("DeadLetterConfig", None)
        target.update(settings["target_part"])
        spec.update(State=settings["state"], ActionAfterCompletion=settings["action"])
        _set(spec, "KmsKeyArn", settings.get("kms"))
    if target:
        spec["Target"] = target
    return spec


# ---------------------------------------------------------------------------------------------
# The reverse: what a person would have typed to get a spec (Edit, Clone)
# ---------------------------------------------------------------------------------------------
def _local(value: str, zone: str) -> tuple[str, str]:
    moment = parse_date(value).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y/%m/%d"), moment.strftime("%H:%M" if not moment.second else "%H:%M:%S")


def _detail_raw(spec: dict[str, Any], environment, name: str | None) -> dict[str, list[str]]:
    p = f"{DETAIL}-"
    zone = spec.get("ScheduleExpressionTimezone") or "UTC"
    raw = {"environment": str(environment.pk), "name": name or spec.get("Name", ""),
           "description": spec.get("Description", ""), "group": spec.get("GroupName") or "default", "timezone": zone}
    try:
        parsed = expressions.parse(spec.get("ScheduleExpression") or "", strict_rate_units=False)
    except expressions.ExpressionError:
        parsed = None  # nothing valid to show: the step opens with its defaults for the expression
    if parsed is None:
        pass
    elif parsed.kind == "at":
        raw.update(occurrence=ONE_TIME, at_date=parsed.when.strftime("%Y/%m/%d"),
                   at_time=parsed.when.strftime("%H:%M" if not parsed.when.second else "%H:%M:%S"))
    elif parsed.kind == "rate":
        raw.update(occurrence=RECURRING, schedule_type=RATE, rate_value=str(parsed.value), rate_unit=parsed.unit)
    else:
        raw.update(occurrence=RECURRING, schedule_type="cron", **dict(zip(CRON_FIELDS, parsed.fields)))
    window = spec.get("FlexibleTimeWindow") or {"Mode": "OFF"}
    minutes = str(window.get("MaximumWindowInMinutes", ""))
    if window.get("Mode") != "FLEXIBLE":
        raw["flexible_window"] = "OFF"
    elif minutes in {value for value, _ in WINDOWS}:
        raw["flexible_window"] = minutes
    else:
        raw.update(flexible_window="custom", flexible_custom=minutes)
    for which, key in (("start", "StartDate"), ("end", "EndDate")):
        if spec.get(key) and parse_date(spec[key]):
            raw[f"{which}_date"], raw[f"{which}_time"] = _local(spec[key], zone)
    return {p + k: [v] for k, v in raw.items()}


def _target_raw(spec: dict[str, Any]) -> dict[str, list[str]]:
    target = spec.get("Target") or {}
    arn = target.get("Arn", "")
    universal = targets.parse_universal(arn)
    raw: dict[str, str] = {}
    if universal:
        raw.update(target_api=UNIVERSAL, service=universal[0], action=universal[1], input=target.get("Input", ""))
    else:
        kind = target_service(arn) or "lambda"
        parts = arn.split(":")
        if kind == "lambda" and len(parts) == 8:  # function:<name>:<version or alias>
            arn, raw["qualifier"] = ":".join(parts[:7]), parts[7]
        raw.update(target_api=TEMPLATED, templated=kind, resource=arn, input=target.get("Input", ""))
        pipeline = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList") or []
        raw["pipeline_parameters"] = "\n".join(f"{p.get('Name', '')}={p.get('Value', '')}" for p in pipeline)
        raw["message_group_id"] = (target.get("SqsParameters") or {}).get("MessageGroupId", "")
        events = target.get("EventBridgeParameters") or {}
        raw.update(detail_type=events.get("DetailType", ""), source=events.get("Source", ""))
        raw["partition_key"] = (target.get("KinesisParameters") or {}).get("PartitionKey", "")
        ecs = target.get("EcsParameters") or {}
        if ecs:
            vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration") or {}
            raw.update(task_definition=ecs.get("TaskDefinitionArn", ""), task_count=str(ecs.get("TaskCount", 1)),
                       launch_type=ecs.get("LaunchType", ""), subnets=", ".join(vpc.get("Subnets") or []),
                       security_groups=", ".join(vpc.get("SecurityGroups") or []))
            if vpc.get("AssignPublicIp") == "ENABLED":
                raw["assign_public_ip"] = "on"
            raw["capacity_providers"] = "\n".join(
                ":".join([p.get("capacityProvider", "")] + ([str(p.get("weight", 0))] if "weight" in p or "base" in p
                                                            else []) + ([str(p["base"])] if "base" in p else []))
                for p in ecs.get("CapacityProviderStrategy") or [])
            raw["placement_constraints"] = "\n".join(
                " ".join(filter(None, (c.get("type", ""), c.get("expression", ""))))
                for c in ecs.get("PlacementConstraints") or [])
            raw["placement_strategy"] = "\n".join(" ".join(filter(None, (c.get("type", ""), c.get("field", ""))))
                                                  for c in ecs.get("PlacementStrategy") or [])
            raw.update(platform_version=ecs.get("PlatformVersion", ""), task_group=ecs.get("Group", ""),
                       propagate_tags=ecs.get("PropagateTags", ""), reference_id=ecs.get("ReferenceId", ""),
                       ecs_tags="\n".join(f"{k}={v}" for tag in ecs.get("Tags") or [] for k, v in tag.items()))
            if ecs.get("EnableECSManagedTags"):
                raw["enable_managed_tags"] = "on"
            if ecs.get("EnableExecuteCommand"):
                raw["enable_execute_command"] = "on"
    return {f"{TARGET}-{k}": [v] for k, v in raw.items()}


def _settings_raw(spec: dict[str, Any], environment) -> dict[str, list[str]]:
    target = spec.get("Target") or {}
    retry = {**DEFAULT_RETRY, **(target.get("RetryPolicy") or {})}
    age = retry["MaximumEventAgeInSeconds"]
    raw = {"action_after_completion": spec.get("ActionAfterCompletion") or "NONE",
           "max_age_hours": str(age // 3600), "max_age_minutes": str(age % 3600 // 60),
           "max_retries": str(retry["MaximumRetryAttempts"]), "role_mode": ROLE_EXISTING,
           "role": target.get("RoleArn", ""), "kms_key_arn": spec.get("KmsKeyArn", "")}
    if spec.get("State", "ENABLED") == "ENABLED":
        raw["enabled"] = "on"
    if retry["MaximumRetryAttempts"] or age != DEFAULT_RETRY["MaximumEventAgeInSeconds"]:
        raw["retry"] = "on"
    if spec.get("KmsKeyArn"):
        raw["encryption"] = "on"
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn", "")
    parts = dlq.split(":")
    if not dlq:
        raw["dlq_mode"] = DLQ_NONE
    elif len(parts) >= 6 and parts[4] == environment.account_id and parts[3] == environment.region:
        raw.update(dlq_mode=DLQ_THIS, dlq_queue=dlq)
    else:
        raw.update(dlq_mode=DLQ_OTHER, dlq_arn=dlq)
    return {f"{SETTINGS}-{k}": [v] for k, v in raw.items()}


def wizard_from_spec(spec: dict[str, Any], *, environment, name: str | None = None) -> dict[str, dict]:
    """What a person would have typed to get `spec` (for Edit and Clone)."""
    return {DETAIL: _detail_raw(spec, environment, name), TARGET: _target_raw(spec),
            SETTINGS: _settings_raw(spec, environment)}


def universal_skeleton(service: str, action: str) -> JsonResponse:
    """GET <target step>?skeleton&service=ec2&action=startInstances: the API's input skeleton and its
    members, for the All APIs picker to fill an empty input box (404 for an API Scheduler cannot call)."""
    operation = targets.operation_for(service, action)
    if operation is None or targets.is_read_only(action):
        return JsonResponse({"error": f"No API {action!r} that EventBridge Scheduler can call in {service!r}."},
                            status=404)
    return JsonResponse({"operation": operation, "skeleton": targets.skeleton(service, action),
                         "members": [{"name": name, "type": kind, "required": required}
                                     for name, kind, required in targets.members(service, action)]})


class ScheduleWizardView(DraftWizardView):
    kind = "schedule"
    steps = STEPS
    template_name_review = "schedules/wizard_review.html"

    def build_spec(self, cleaned):
        return build_spec(cleaned, change=self.change)

    def get(self, request, pk, step):
        if self.step.slug == TARGET and "skeleton" in request.GET:
            return universal_skeleton(request.GET.get("service", ""), request.GET.get("action", ""))
        if self.step.slug == TARGET and "members" in request.GET:  # the All APIs picker's "… needs" line
            summary = targets.request_summary(request.GET.get(f"{TARGET}-service", ""),
                                              request.GET.get(f"{TARGET}-action", ""))
            return render(request, "schedules/_api_members.html", summary)
        return super().get(request, pk, step)

    def post(self, request, pk, step):
        response = super().post(request, pk, step)
        if self.step.slug == DETAIL:  # the zone picked here is where the next schedule starts
            zone = request.POST.get(f"{DETAIL}-timezone", "").strip()
            kept = (self.change.base_spec or {}).get("ScheduleExpressionTimezone") or "UTC"
            if self.change.action == ChangeAction.CREATE or zone != kept:  # an edit that keeps its zone picks none
                time_zone_remember(request.user, zone)
        return response

    def spec_error_step(self, field_path: str) -> str:
        for prefix, step in STEP_OF_PATH.items():
            if field_path.startswith(prefix):
                return step
        return DETAIL

    def context(self, **extra):
        context = super().context(**extra)
        if self.step.slug == REVIEW:
            spec = self.change.spec or {}
            zone = spec.get("ScheduleExpressionTimezone") or "UTC"
            context.update(preview_context(spec.get("ScheduleExpression") or "", zone,
                                           start=parse_date(spec.get("StartDate")),
                                           end=parse_date(spec.get("EndDate"))),
                           target_label=targets.describe_target((spec.get("Target") or {}).get("Arn", "")))
        return context
