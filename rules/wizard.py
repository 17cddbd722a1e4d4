"""The "Create rule" flow: five steps, each saved in the draft change request.

    Define rule detail → Build event pattern (or Define schedule) → Select target(s) → Configure tags
    → Review and create

`wizard_from_spec` does the reverse of `build_spec`, so Edit and Clone open the same flow on a
new draft filled in from a rule's desired spec.
"""
from __future__ import annotations

import json
from typing import Any

from awslang import expressions
from changes.wizard import REVIEW, DraftWizardView, Step, querydict

from . import catalog
from .forms import (
    ALL_EVENTS_PATTERN, ANY, CLOUDTRAIL_STATE, CONSTANT, DLQ_NONE, DLQ_OTHER, DLQ_THIS, MATCHED, PART, SPECIFIC,
    TRANSFORMER, EventPatternForm, RuleDetailForm, RuleScheduleForm, TagFormSet, TargetFormSet, kind_of_arn,
    rule_state, seconds_to_hhmm, target_entry,
)
from .forms.targets import ACCESS_POLICY, ACCESS_ROLE, ROLE_EXISTING, resources_follow_types, role_names_follow_types
from .spec import canonical_pattern, parse_arn

DETAIL, PATTERN, SCHEDULE, TARGETS, TAGS = "detail", "pattern", "schedule", "targets", "tags"
STEPS = [
    Step(DETAIL, "Define rule detail", RuleDetailForm, "rules/wizard_detail.html"),
    Step(PATTERN, "Build event pattern", EventPatternForm, "rules/wizard_pattern.html"),
    Step(SCHEDULE, "Define schedule", RuleScheduleForm, "rules/wizard_schedule.html"),
    Step(TARGETS, "Select target(s)", TargetFormSet, "rules/wizard_targets.html"),
    Step(TAGS, "Configure tags", TagFormSet, "rules/wizard_tags.html", optional=True),
    Step(REVIEW, "Review and create", None),
]


def _first(raw: dict[str, list[str]] | None, key: str, default: str = "") -> str:
    values = (raw or {}).get(key) or []
    return values[0] if values else default


def rule_type_of(change) -> str:
    return _first((change.wizard or {}).get(DETAIL), f"{DETAIL}-rule_type", RuleDetailForm.PATTERN)


def build_spec(cleaned: dict[str, Any], *, change) -> dict[str, Any]:
    """The rule's spec from the steps that are valid so far (a partial spec for a partial draft)."""
    base = change.spec or {}
    detail = cleaned.get(DETAIL) or {}
    rule: dict[str, Any] = dict(base.get("Rule") or {})
    if detail:
        rule.update(Name=detail["name"], EventBusName=detail["event_bus"], Description=detail.get("description", ""),
                    State=rule_state(detail))
    schedule_type = rule_type_of(change) == RuleDetailForm.SCHEDULE
    if schedule_type:
        rule.pop("EventPattern", None)
        if cleaned.get(SCHEDULE):
            rule["ScheduleExpression"] = cleaned[SCHEDULE]["expression"]
    else:
        rule.pop("ScheduleExpression", None)
        if cleaned.get(PATTERN) and cleaned[PATTERN].get("pattern") is not None:
            rule["EventPattern"] = canonical_pattern(cleaned[PATTERN]["pattern"])
    spec: dict[str, Any] = {"Rule": {k: v for k, v in rule.items() if v not in (None, "")},
                            "Targets": base.get("Targets", []), "Tags": base.get("Tags", [])}
    if cleaned.get(TARGETS) is not None:
        kept = [t for t in cleaned[TARGETS] if t and not t.get("DELETE")]
        taken = {t.get("target_id") for t in kept if t.get("target_id")}
        targets, counter = [], 0
        for target in kept:
            target_id = target.get("target_id")
            if not target_id:
                counter += 1
                while f"Target{counter}" in taken:
                    counter += 1
                target_id = f"Target{counter}"
                taken.add(target_id)
            targets.append(target_entry(target, target_id=target_id))
        spec["Targets"] = targets
    if TAGS in cleaned:
        spec["Tags"] = [{"Key": t["key"], "Value": t.get("value", "")}
                        for t in cleaned[TAGS] or [] if t and not t.get("DELETE")]
    return spec


def _management(prefix: str, total: int) -> dict[str, list[str]]:
    return {f"{prefix}-TOTAL_FORMS": [str(total)], f"{prefix}-INITIAL_FORMS": ["0"],
            f"{prefix}-MIN_NUM_FORMS": ["0"], f"{prefix}-MAX_NUM_FORMS": ["1000"]}


def _pattern_raw(pattern_text: str | None) -> dict[str, list[str]]:
    p = f"{PATTERN}-"
    raw = {f"{p}sample_type": ["aws"], f"{p}detail_type_mode": [ANY]}
    if not pattern_text:
        return {**raw, f"{p}event_source": ["aws"], f"{p}creation_method": ["form"]}
    pattern = json.loads(pattern_text)
    if pattern == ALL_EVENTS_PATTERN:
        return {**raw, f"{p}event_source": ["all"], f"{p}creation_method": ["form"]}
    try:
        state = catalog.pattern_to_form(pattern)
    except catalog.NotRepresentable:
        return {**raw, f"{p}event_source": ["aws"], f"{p}creation_method": ["json"],
                f"{p}pattern_json": [json.dumps(pattern, indent=2)]}
    service, type_key, detail_types, values = state
    raw.update({f"{p}event_source": ["aws"], f"{p}creation_method": ["form"], f"{p}service": [service],
                f"{p}event_type": [type_key], f"{p}pattern_json": [json.dumps(pattern, indent=2)]})
    if detail_types:
        raw[f"{p}detail_type_mode"] = [SPECIFIC]
        raw[f"{p}detail_types"] = list(detail_types)
    event_type = catalog.event_type(service, type_key)
    for field in event_type.get("fields", []):
        chosen = (values or {}).get(field["key"])
        if chosen:
            raw[f"{p}f_{field['key']}_mode"] = [SPECIFIC]
            raw[f"{p}f_{field['key']}_values"] = (list(chosen) if field["kind"] == "choice-list"
                                                   else ["\n".join(chosen)])
    samples = [s for s in catalog.samples() if s.get("service") == service and s.get("event_type") == type_key]
    if samples:
        raw[f"{p}sample_key"] = [samples[0]["key"]]
    return raw


def _schedule_raw(expression: str) -> dict[str, list[str]]:
    p = f"{SCHEDULE}-"
    parsed = expressions.parse(expression)
    if parsed.kind == "rate":
        return {f"{p}schedule_kind": ["rate"], f"{p}rate_value": [str(parsed.value)], f"{p}rate_unit": [parsed.unit]}
    names = RuleScheduleForm.FIELDS
    return {f"{p}schedule_kind": ["cron"], **{f"{p}{name}": [value] for name, value in zip(names, parsed.fields)}}


def _parameters_raw(p: str, target: dict[str, Any]) -> dict[str, list[str]]:
    """The type-specific fields (ECS, Batch, Run Command, HTTP, Redshift, SageMaker, AppSync) of one entry."""
    raw: dict[str, list[str]] = {}
    ecs = target.get("EcsParameters") or {}
    if ecs:
        vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration") or {}
        raw.update({
            f"{p}ecs_task_definition": [ecs.get("TaskDefinitionArn", "")],
            f"{p}ecs_task_count": [str(ecs["TaskCount"])] if "TaskCount" in ecs else [""],
            f"{p}ecs_launch_type": [ecs.get("LaunchType", "")],
            f"{p}ecs_capacity_providers": ["\n".join(
                ":".join(str(x) for x in (i.get("capacityProvider", ""), i.get("weight", ""), i.get("base", ""))
                         ).rstrip(":") for i in ecs.get("CapacityProviderStrategy") or [])],
            f"{p}ecs_subnets": ["\n".join(vpc.get("Subnets") or [])],
            f"{p}ecs_security_groups": ["\n".join(vpc.get("SecurityGroups") or [])],
            f"{p}ecs_assign_public_ip": [vpc.get("AssignPublicIp", "")],
            f"{p}ecs_platform_version": [ecs.get("PlatformVersion", "")], f"{p}ecs_group": [ecs.get("Group", "")],
            f"{p}ecs_placement_constraints": ["\n".join(
                ":".join(v for v in (c.get("type", ""), c.get("expression", "")) if v)
                for c in ecs.get("PlacementConstraints") or [])],
            f"{p}ecs_placement_strategy": ["\n".join(
                ":".join(v for v in (c.get("type", ""), c.get("field", "")) if v)
                for c in ecs.get("PlacementStrategy") or [])],
            f"{p}ecs_tags": ["\n".join(f"{t['Key']}={t.get('Value', '')}" for t in ecs.get("Tags") or [])],
            f"{p}ecs_propagate_tags": [ecs.get("PropagateTags", "")],
            f"{p}ecs_reference_id": [ecs.get("ReferenceId", "")],
        })
        if ecs.get("EnableECSManagedTags"):
            raw[f"{p}ecs_managed_tags"] = ["on"]
        if ecs.get("EnableExecuteCommand"):
            raw[f"{p}ecs_execute_command"] = ["on"]
    batch = target.get("BatchParameters") or {}
    if batch:
        raw.update({f"{p}batch_job_definition": [batch.get("JobDefinition", "")],
                    f"{p}batch_job_name": [batch.get("JobName", "")]})
        if (batch.get("ArrayProperties") or {}).get("Size") is not None:
            raw[f"{p}batch_array_size"] = [str(batch["ArrayProperties"]["Size"])]
        if (batch.get("RetryStrategy") or {}).get("Attempts") is not None:
            raw[f"{p}batch_attempts"] = [str(batch["RetryStrategy"]["Attempts"])]
    run = (target.get("RunCommandParameters") or {}).get("RunCommandTargets") or []
    if run:
        raw[f"{p}run_command_targets"] = ["\n".join(f"{t['Key']}={','.join(t.get('Values') or [])}" for t in run)]
    http = target.get("HttpParameters") or {}
    if http:
        raw.update({f"{p}http_path_parameters": ["\n".join(http.get("PathParameterValues") or [])],
                    f"{p}http_headers": ["\n".join(f"{k}={v}" for k, v in (http.get("HeaderParameters") or {}).items())],
                    f"{p}http_query": ["\n".join(f"{k}={v}" for k, v in
                                                  (http.get("QueryStringParameters") or {}).items())]})
    redshift = target.get("RedshiftDataParameters") or {}
    if redshift:
        sql = "\n---\n".join(redshift.get("Sqls") or []) or redshift.get("Sql", "")
        raw.update({f"{p}redshift_database": [redshift.get("Database", "")], f"{p}redshift_sql": [sql],
                    f"{p}redshift_db_user": [redshift.get("DbUser", "")],
                    f"{p}redshift_secret_arn": [redshift.get("SecretManagerArn", "")],
                    f"{p}redshift_statement_name": [redshift.get("StatementName", "")]})
        if redshift.get("WithEvent"):
            raw[f"{p}redshift_with_event"] = ["on"]
    pipeline = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList") or []
    if pipeline:
        raw[f"{p}sagemaker_parameters"] = ["\n".join(f"{i['Name']}={i.get('Value', '')}" for i in pipeline)]
    if (target.get("AppSyncParameters") or {}).get("GraphQLOperation"):
        raw[f"{p}appsync_operation"] = [target["AppSyncParameters"]["GraphQLOperation"]]
    return raw


def _target_raw(index: int, target: dict[str, Any], *, environment) -> dict[str, list[str]]:
    p = f"{TARGETS}-{index}-"
    arn = target.get("Arn", "")
    kind = kind_of_arn(arn)
    raw = {f"{p}target_type": [kind], f"{p}resource": [arn], f"{p}target_id": [target.get("Id", "")]}
    if kind == "ec2":
        raw.update({f"{p}resource": [""], f"{p}arn": [arn], f"{p}ec2_action": [arn.rsplit("/", 1)[-1]]})
        try:
            raw[f"{p}ec2_resource_id"] = [str(json.loads(target.get("Input") or '""'))]
        except ValueError:
            raw[f"{p}ec2_resource_id"] = [target.get("Input") or ""]
    raw.update(_parameters_raw(p, target))
    if target.get("RoleArn"):  # the role exists by now: "Use existing role" (a role made for the rule stays in step)
        raw.update({f"{p}role": [target["RoleArn"]], f"{p}role_mode": [ROLE_EXISTING], f"{p}access_mode": [ACCESS_ROLE]})
    else:
        raw[f"{p}access_mode"] = [ACCESS_POLICY]
    if "InputPath" in target:
        raw.update({f"{p}input_mode": [PART], f"{p}input_path": [target["InputPath"]]})
    elif "Input" in target:
        raw.update({f"{p}input_mode": [CONSTANT], f"{p}input_constant": [target["Input"]]})
    elif "InputTransformer" in target:
        transformer = target["InputTransformer"]
        raw.update({f"{p}input_mode": [TRANSFORMER], f"{p}input_template": [transformer.get("InputTemplate", "")],
                    f"{p}input_paths_map": [json.dumps(transformer.get("InputPathsMap") or {}, indent=2)]})
    else:
        raw[f"{p}input_mode"] = [MATCHED]
    retry = target.get("RetryPolicy") or {}
    raw[f"{p}max_age"] = [seconds_to_hhmm(retry.get("MaximumEventAgeInSeconds", 86400))]
    raw[f"{p}retry_attempts"] = [str(retry.get("MaximumRetryAttempts", 185))]
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    parsed_dlq = parse_arn(dlq or "")
    if not dlq:
        raw[f"{p}dlq_mode"] = [DLQ_NONE]
    elif parsed_dlq and parsed_dlq["account"] == environment.account_id and parsed_dlq["region"] == environment.region:
        raw.update({f"{p}dlq_mode": [DLQ_THIS], f"{p}dlq_queue": [dlq]})
    else:
        raw.update({f"{p}dlq_mode": [DLQ_OTHER], f"{p}dlq_arn": [dlq]})
    if (target.get("SqsParameters") or {}).get("MessageGroupId"):
        raw[f"{p}message_group_id"] = [target["SqsParameters"]["MessageGroupId"]]
    if (target.get("KinesisParameters") or {}).get("PartitionKeyPath"):
        raw[f"{p}partition_key_path"] = [target["KinesisParameters"]["PartitionKeyPath"]]
    return raw


def wizard_from_spec(spec: dict[str, Any], *, environment, name: str | None = None) -> dict[str, dict]:
    """What a person would have typed to get `spec` (for Edit, Clone and Restore)."""
    rule = spec.get("Rule") or {}
    detail = {f"{DETAIL}-environment": [str(environment.pk)], f"{DETAIL}-name": [name or rule.get("Name", "")],
              f"{DETAIL}-description": [rule.get("Description", "")],
              f"{DETAIL}-event_bus": [rule.get("EventBusName", "default")],
              f"{DETAIL}-rule_type": ["schedule" if rule.get("ScheduleExpression") else "pattern"]}
    if rule.get("State", "ENABLED") != "DISABLED":
        detail[f"{DETAIL}-enabled"] = ["on"]
    if rule.get("State") == CLOUDTRAIL_STATE:
        detail[f"{DETAIL}-cloudtrail_management_events"] = ["on"]
    wizard: dict[str, dict] = {DETAIL: detail}
    if rule.get("ScheduleExpression"):
        wizard[SCHEDULE] = _schedule_raw(rule["ScheduleExpression"])
    else:
        wizard[PATTERN] = _pattern_raw(rule.get("EventPattern"))
    targets = spec.get("Targets") or []
    raw = _management(TARGETS, len(targets))
    for index, target in enumerate(targets):
        raw.update(_target_raw(index, target, environment=environment))
    wizard[TARGETS] = raw
    tags = spec.get("Tags") or []
    raw = _management(TAGS, len(tags))
    for index, tag in enumerate(tags):
        raw.update({f"{TAGS}-{index}-key": [tag["Key"]], f"{TAGS}-{index}-value": [tag.get("Value", "")]})
    wizard[TAGS] = raw
    return wizard


CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


def cloudtrail_state_warning(spec: dict[str, Any] | None) -> str:
    """The console's caution when a pattern for "AWS API Call via CloudTrail" events is used with plain ENABLED."""
    rule = (spec or {}).get("Rule") or {}
    if rule.get("State", "ENABLED") != "ENABLED" or not rule.get("EventPattern"):
        return ""
    try:
        pattern = json.loads(rule["EventPattern"])
    except (TypeError, ValueError):
        return ""
    detail_types = pattern.get("detail-type") if isinstance(pattern, dict) else None
    if isinstance(detail_types, str):
        detail_types = [detail_types]
    if not isinstance(detail_types, list) or CLOUDTRAIL_DETAIL_TYPE not in detail_types:
        return ""
    return (f"This pattern matches \"{CLOUDTRAIL_DETAIL_TYPE}\" events, but the rule's state is ENABLED: such a "
            f"rule does not receive the management events CloudTrail delivers (read-only calls, for example). To "
            f"receive them all, choose \"Also match AWS management events delivered by CloudTrail\" in Define rule "
            f"detail ({CLOUDTRAIL_STATE}).")


class RuleWizardView(DraftWizardView):
    kind = "rule"
    steps = STEPS
    template_name_review = "rules/wizard_review.html"

    def active_steps(self):
        skip = PATTERN if rule_type_of(self.change) == RuleDetailForm.SCHEDULE else SCHEDULE
        return [s for s in STEPS if s.slug != skip]

    def build_spec(self, cleaned):
        return build_spec(cleaned, change=self.change)

    def adjust_raw(self, raw, go):
        """The JSON editor ↔ pattern form switch (the console warns when JSON can't be shown in the form);
        in the target step, a new role's default name follows its target's type, and on a refresh (a type
        was changed) the Target list's choice of another type is dropped."""
        if self.step.slug == TARGETS:
            raw = role_names_follow_types(raw, TARGETS)
            return resources_follow_types(raw, TARGETS) if go == "refresh" else raw
        if self.step.slug != PATTERN:
            return raw
        p = f"{PATTERN}-"
        if go == "switch:form":
            text = _first(raw, f"{p}pattern_json").strip()
            if text:
                try:
                    converted = _pattern_raw(canonical_pattern(text))
                except ValueError as exc:
                    self.switch_warning = f"The JSON is not valid ({exc}), so it stays in the JSON editor."
                    return {**raw, f"{p}creation_method": ["json"]}
                if _first(converted, f"{p}creation_method") != "form":
                    try:
                        catalog.pattern_to_form(json.loads(text))
                    except catalog.NotRepresentable as exc:
                        self.switch_warning = f"This pattern can't be shown in the pattern form: {exc}"
                    return {**raw, f"{p}creation_method": ["json"]}
                keep = {k: v for k, v in raw.items() if k.startswith(f"{p}sample") or k == f"{p}event_source"}
                return {**converted, **keep}
            return {**raw, f"{p}creation_method": ["form"]}
        if go == "switch:json":
            form = EventPatternForm(data=querydict(raw), wizard=self, prefix=PATTERN)
            if form.is_valid() and form.cleaned_data.get("pattern") is not None:
                raw = {**raw, f"{p}pattern_json": [json.dumps(form.cleaned_data["pattern"], indent=2)]}
            return {**raw, f"{p}creation_method": ["json"]}
        return raw

    def render_step(self, form, **extra):
        warning = getattr(self, "switch_warning", "")
        state_warning = cloudtrail_state_warning(self.change.spec)
        if self.step.slug == PATTERN and state_warning:
            warning = f"{warning} {state_warning}".strip()
        return super().render_step(form, switch_warning=warning, state_warning=state_warning, **extra)
