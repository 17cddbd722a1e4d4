"""Step 2: Select target — templated targets, or All APIs (the universal target)."""
from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.words import with_article
from environments import resources

from .. import targets
from ..spec import target_service
from .common import WizardFormMixin, listing_choices, map_spec_errors

TEMPLATED, UNIVERSAL = "templated", "universal"
SPEC_FIELDS = {"Target.Input": "input", "Target.SqsParameters.MessageGroupId": "message_group_id",
               "Target.EventBridgeParameters.DetailType": "detail_type",
               "Target.EventBridgeParameters.Source": "source",
               "Target.KinesisParameters.PartitionKey": "partition_key",
               "Target.EcsParameters.TaskDefinitionArn": "task_definition",
               "Target.EcsParameters.TaskCount": "task_count", "Target.EcsParameters.LaunchType": "launch_type",
               "Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration.Subnets": "subnets",
               "Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration.SecurityGroups": "security_groups",
               "Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration.AssignPublicIp": "assign_public_ip",
               "Target.EcsParameters.CapacityProviderStrategy": "capacity_providers",
               "Target.EcsParameters.PlacementConstraints": "placement_constraints",
               "Target.EcsParameters.PlacementStrategy": "placement_strategy",
               "Target.EcsParameters.PlatformVersion": "platform_version",
               "Target.EcsParameters.Group": "task_group",
               "Target.EcsParameters.PropagateTags": "propagate_tags",
               "Target.EcsParameters.ReferenceId": "reference_id",
               "Target.EcsParameters.Tags": "ecs_tags",
               "Target.SageMakerPipelineParameters": "pipeline_parameters"}
PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/chosen-in-settings"  # the role is chosen in Settings


def _split(text: str) -> list[str]:
    return [v.strip() for v in (text or "").replace("\n", ",").split(",") if v.strip()]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def is_fifo(queue_arn: str) -> bool:
    """A FIFO queue's name ends in .fifo (SQS CreateQueue)."""
    return (queue_arn or "").strip().endswith(".fifo")


_QUALIFIER = re.compile(r"\$LATEST|[a-zA-Z0-9-_$]{1,128}")


# True of any service's API (nothing is chosen yet when it is first read).
UNIVERSAL_INPUT_HELP = ("The API's request, as JSON, its members named as in the API reference (InstanceIds, "
                        "StateMachineArn); case does not matter. Pick an API to start from the members it needs.")


def _by_mode(mode: str, templated: str, universal: str) -> str:
    """Words for each Target API mode, each shown only while its mode is chosen (data-show-when)."""
    return format_html('<span data-show-when="target-target_api=templated"{}>{}</span>'
                       '<span data-show-when="target-target_api=universal"{}>{}</span>',
                       "" if mode == TEMPLATED else mark_safe(" hidden"), templated,
                       "" if mode == UNIVERSAL else mark_safe(" hidden"), universal)


class LongSelect(forms.Select):
    """A select of hundreds of options (every AWS service, every EC2 API) rendered in one pass in
    Python: Django's per-option templates made the All APIs step several times slower."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = "" if value is None else str(value[0] if isinstance(value, (list, tuple)) and value else value)
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (key, mark_safe(" selected") if str(key) == chosen else "", label) for key, label in self.choices))
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)),
                           options)


def datalist(element_id: str, rows) -> str:
    """<datalist> for a search box: rows of (value, label or "")."""
    options = format_html_join("", '<option value="{}"{}></option>', (
        (value, format_html(' label="{}"', label) if label else "") for value, label in rows))
    return format_html('<datalist id="{}">{}</datalist>', element_id, options)


class ScheduleTargetForm(WizardFormMixin, forms.Form):
    target_api = forms.ChoiceField(label="Target API", widget=forms.RadioSelect, initial=TEMPLATED, choices=[
        (TEMPLATED, "Templated targets — popular AWS API operations with their parameters"),
        (UNIVERSAL, "All APIs — any AWS API action, with its request as JSON")])
    templated = forms.ChoiceField(label="Templated target", initial="lambda", required=False,
                                  choices=[(k, t.label) for k, t in targets.TEMPLATED.items()])
    resource = forms.ChoiceField(label="Resource", required=False)
    resource_arn = forms.CharField(label="Or enter its ARN", required=False, max_length=1600,
                                   help_text="For a resource in another account, or one not listed.")
    service = forms.ChoiceField(label="AWS service", required=False, widget=LongSelect)
    action = forms.ChoiceField(label="API", required=False, widget=LongSelect)
    input = forms.CharField(label="Input", required=False, widget=forms.Textarea(
        attrs={"rows": 6, "class": "font-monospace", "spellcheck": "false"}))
    message_group_id = forms.CharField(label="Message group ID", required=False, max_length=300,
                                       help_text="Required for a FIFO queue: messages of one group are delivered "
                                                 "in order.")
    detail_type = forms.CharField(label="Detail type", required=False, max_length=300)
    source = forms.CharField(label="Source", required=False, max_length=500)
    partition_key = forms.CharField(label="Partition key", required=False, max_length=500)
    task_definition = forms.ChoiceField(label="Task definition", required=False)
    task_count = forms.IntegerField(label="Task count", required=False, initial=1, help_text="1 to 10.")
    launch_type = forms.ChoiceField(label="Launch type", required=False, initial="FARGATE", choices=[
        ("FARGATE", "FARGATE"), ("EC2", "EC2"), ("EXTERNAL", "EXTERNAL"), ("", "Capacity provider strategy")])
    subnets = forms.CharField(label="Subnets", required=False, max_length=2000,
                              help_text="Subnet IDs, separated by commas (1 to 16; needed for FARGATE).")
    security_groups = forms.CharField(label="Security groups - optional", required=False, max_length=1000,
                                      help_text="Security group IDs, separated by commas (up to 5).")
    assign_public_ip = forms.BooleanField(label="Auto-assign public IP", required=False)
    capacity_providers = forms.CharField(
        label="Capacity provider strategy", required=False, max_length=3000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="With no launch type: one provider a line, as provider[:weight[:base]] (up to 6), "
                  "e.g. FARGATE_SPOT:2:1.")
    placement_constraints = forms.CharField(
        label="Placement constraints - optional", required=False, max_length=25000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One a line (up to 10): distinctInstance, or memberOf followed by its expression, e.g. "
                  "memberOf attribute:ecs.instance-type =~ t3.*")
    placement_strategy = forms.CharField(
        label="Placement strategy - optional", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One a line (up to 5): random, spread <field> or binpack <field>, e.g. spread "
                  "attribute:ecs.availability-zone")
    platform_version = forms.CharField(label="Platform version - optional", required=False, max_length=100,
                                       help_text="For FARGATE, e.g. LATEST or 1.4.0.")
    task_group = forms.CharField(label="Task group - optional", required=False, max_length=300)
    enable_managed_tags = forms.BooleanField(label="Turn on Amazon ECS managed tags", required=False)
    enable_execute_command = forms.BooleanField(label="Turn on ECS Exec (execute command)", required=False)
    propagate_tags = forms.ChoiceField(label="Propagate tags", required=False, choices=[
        ("", "Do not propagate"), ("TASK_DEFINITION", "From the task definition")])
    reference_id = forms.CharField(label="Reference ID - optional", required=False, max_length=1100)
    ecs_tags = forms.CharField(label="Task tags - optional", required=False, max_length=30000,
                               widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="One key=value a line (up to 50).")
    qualifier = forms.CharField(label="Version or alias - optional", required=False, max_length=200,
                                help_text="Invoke a published version (e.g. 3) or an alias (e.g. live) instead of "
                                          "$LATEST.")
    pipeline_parameters = forms.CharField(
        label="Pipeline parameters - optional", required=False, max_length=300000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One name=value a line (up to 200), passed to StartPipelineExecution.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        environment = self.environment
        self.listing_errors: list[str] = []
        self.kind = targets.TEMPLATED.get(self._value("templated") or "lambda") or targets.TEMPLATED["lambda"]
        self.fields["resource"].label = self.kind.resource
        # The input box serves both modes: its label and help are written for each, and the page shows the
        # one of the mode chosen (a switch of mode does not reload the step).
        mode = self._value("target_api") or TEMPLATED
        self.fields["input"].label = _by_mode(mode, self.kind.input_label, "Input")
        self.fields["input"].help_text = _by_mode(mode, self.kind.input_help, UNIVERSAL_INPUT_HELP)
        listing = resources.SCHEDULER_TARGET_LISTINGS.get(self.kind.key)
        found, error = listing(environment) if listing else ([], "")
        if error:
            self.listing_errors.append(f"{self.kind.resource}s could not be listed: {error}")
        # Only the chosen templated target's resources are listed. A resource of another target, picked
        # before the target was changed, is left out when the step is shown again (a refresh); posted
        # with Next it stays a choice so that clean() can say what it is.
        picked = self._value("resource")
        listing_choices(self.fields["resource"], found, empty=f"Choose a {self.kind.resource.lower()}",
                        data_value=picked if self.is_bound or target_service(picked) == self.kind.key else None)
        # SendMessage's message group ID is for a FIFO queue only, and required there: the box is shown for one.
        self.fifo = self.kind.key == "sqs" and is_fifo(self._value("resource_arn").strip() or self._value("resource"))
        self.qualifiers, self.qualifier_error = [], ""
        function = (self._value("resource_arn").strip() or self._value("resource")) if self.kind.key == "lambda" else ""
        if function and target_service(function) == "lambda" and not targets.resource_problem("lambda", function):
            self.qualifiers, self.qualifier_error = resources.lambda_qualifiers(environment, function)
            self.fields["qualifier"].widget.attrs["list"] = "qualifier-options"
        if self.kind.key == "ecs":
            found, error = resources.ecs_task_definitions(environment)
            listing_choices(self.fields["task_definition"], found, empty="Choose a task definition",
                            data_value=self._value("task_definition"))
        self.fields["service"].choices = [("", "Choose an AWS service")] + [
            (found.name, found.label) for found in targets.services().values()]
        service = self._value("service")
        choices = [(action, operation) for action, operation in targets.actions(service)] if service else []
        posted = self._value("action")
        if posted and posted not in {c[0] for c in choices} and targets.operation_for(service, posted):
            choices.append((posted, targets.operation_for(service, posted)))  # refused below, with AWS's reason
        self.fields["action"].choices = [("", "Choose an API" if service else "Choose a service first")] + choices
        action = self._value("action")
        summary = targets.request_summary(service, action)
        self.operation, self.required, self.members = summary["operation"], summary["required"], summary["members"]
        if getattr(self.wizard, "request", None) is not None and self.prefix:  # shown to a person
            # Picking an API shows what its request needs at once (htmx asks the step for that line).
            self.fields["action"].widget.attrs.update({
                "hx-get": f"{self.wizard.step_url(self.prefix)}?members=1", "hx-trigger": "change",
                "hx-target": "#api-members", "hx-include": f"#{self['service'].auto_id}"})
        if (not self.is_bound and self.operation and self._value("target_api") == UNIVERSAL
                and not (self.initial.get("input") or "").strip()):
            # Picking an API starts its input from the request's required members (nothing typed is replaced).
            self.initial["input"] = targets.skeleton(service, action)
        self.instances = []
        if self._value("target_api") == UNIVERSAL and service == "ec2":
            self.instances, _ = resources.ec2_instances(environment)  # a hint for the instance ids to type

    def qualifier_datalist(self) -> str:
        """The chosen function's versions and aliases, offered in the "Version or alias" box."""
        return datalist("qualifier-options", [(r.arn, r.label) for r in self.qualifiers])

    def service_datalist(self) -> str:
        return datalist("service-options", [(key, label) for key, label in self.fields["service"].choices if key])

    def action_datalist(self) -> str:
        return datalist("action-options", [(label, "") for key, label in self.fields["action"].choices if key])

    def _value(self, name: str) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix(name)) or ""
        return self.initial.get(name) or (self.fields[name].initial or "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target_api") == UNIVERSAL:
            entry = self._universal(cleaned)
        else:
            entry = self._templated(cleaned)
        if entry is not None:
            map_spec_errors(self, {"Name": "x", "ScheduleExpression": "rate(1 day)",
                                   "Target": {**entry, "RoleArn": PLACEHOLDER_ROLE}},
                            dict(SPEC_FIELDS, **{"Target.Arn": "action" if cleaned.get("target_api") == UNIVERSAL
                                                 else "resource_arn"}))
        cleaned["entry"] = entry
        return cleaned

    def _universal(self, cleaned: dict) -> dict[str, Any] | None:
        service, action = cleaned.get("service"), cleaned.get("action")
        if not service:
            self.add_error("service", "Choose the AWS service whose API the schedule calls.")
        if service and not action:
            self.add_error("action", "Choose the API action to call.")
        if not service or not action:
            return None
        text = (cleaned.get("input") or "").strip() or "{}"
        return {"Arn": targets.universal_arn(service, action), "Input": text}

    def _templated(self, cleaned: dict) -> dict[str, Any] | None:
        kind = targets.TEMPLATED.get(cleaned.get("templated") or "")
        if kind is None:
            self.add_error("templated", "Choose the templated target.")
            return None
        typed = (cleaned.get("resource_arn") or "").strip()
        arn = typed or cleaned.get("resource") or ""
        if not arn:
            self.add_error("resource", f"Choose the {kind.resource.lower()}, or enter its ARN.")
            return None
        if not typed and target_service(arn) != kind.key:
            found = next((t.resource for t in targets.TEMPLATED.values() if t.key == target_service(arn)),
                         "resource of another target")
            wanted = with_article(kind.resource)
            self.add_error("resource", f"{arn.rsplit(':', 1)[-1]} is {with_article(found)}, not {wanted}. Choose "
                                       f"{wanted} (the list now shows only those), or change the templated target.")
            self.fields["resource"].choices = [c for c in self.fields["resource"].choices if c[0] != arn]
            return None
        if target_service(arn) != kind.key:
            found = target_service(arn)
            self.add_error("resource_arn", f"That is not a {kind.resource} ARN"
                           + (f" (it is a {found} ARN)." if found else " (arn:aws:<service>:<region>:<account>:…)."))
            return None
        problem = targets.resource_problem(kind.key, arn)
        if problem:
            self.add_error("resource_arn" if typed else "resource", problem)
            return None
        qualifier = (cleaned.get("qualifier") or "").strip()
        if kind.key == "lambda" and qualifier:
            if not _QUALIFIER.fullmatch(qualifier):
                self.add_error("qualifier", "A version or alias is 1 to 128 letters, numbers, '-', '_' or '$' "
                                            "(e.g. 3, live, $LATEST).")
                return None
            arn = ":".join(arn.split(":")[:7] + [qualifier])  # function:<name>:<qualifier>
        entry: dict[str, Any] = {"Arn": arn}
        text = (cleaned.get("input") or "").strip()
        if text:
            entry["Input"] = text
        if kind.key == "sqs" and is_fifo(arn) and cleaned.get("message_group_id"):  # FIFO queues only
            entry["SqsParameters"] = {"MessageGroupId": cleaned["message_group_id"].strip()}
        if kind.key == "events":
            entry["EventBridgeParameters"] = {"DetailType": (cleaned.get("detail_type") or "").strip(),
                                              "Source": (cleaned.get("source") or "").strip()}
        if kind.key == "kinesis":
            entry["KinesisParameters"] = {"PartitionKey": (cleaned.get("partition_key") or "").strip()}
        if kind.key == "ecs":
            entry["EcsParameters"] = self._ecs(cleaned)
        if kind.key == "sagemaker":
            pairs = self._pairs(cleaned, "pipeline_parameters", "Name=Value")
            if pairs is None:
                return None
            if pairs:
                entry["SageMakerPipelineParameters"] = {"PipelineParameterList": [
                    {"Name": name, "Value": value} for name, value in pairs]}
        return entry

    def _pairs(self, cleaned: dict, field: str, example: str) -> list[tuple[str, str]] | None:
        """key=value lines → pairs; None (with the error at the field) when a line has no '='."""
        pairs = []
        for number, line in enumerate((cleaned.get(field) or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sign, value = line.partition("=")
            if not sign:
                self.add_error(field, f"Line {number}: write {example} (one a line).")
                return None
            pairs.append((name.strip(), value.strip()))
        return pairs

    def clean_ecs_tags(self):
        text = self.cleaned_data.get("ecs_tags") or ""
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() and "=" not in line:
                raise forms.ValidationError(f"Line {number}: write key=value (one tag a line).")
        return text

    def clean_capacity_providers(self):
        text = self.cleaned_data.get("capacity_providers") or ""
        for number, line in enumerate(text.splitlines(), start=1):
            parts = [p.strip() for p in line.strip().split(":")] if line.strip() else []
            if parts and (len(parts) > 3 or any(not p.isdigit() for p in parts[1:])):
                raise forms.ValidationError(f"Line {number}: write provider[:weight[:base]], the weight and base "
                                            f"as whole numbers (e.g. FARGATE_SPOT:2:1).")
        return text

    @staticmethod
    def _ecs(cleaned: dict) -> dict[str, Any]:
        """EcsParameters with every member of Scheduler's shape that was filled in."""
        ecs: dict[str, Any] = {"TaskDefinitionArn": cleaned.get("task_definition") or "",
                               "TaskCount": cleaned.get("task_count") if cleaned.get("task_count") is not None else 1}
        if cleaned.get("launch_type"):
            ecs["LaunchType"] = cleaned["launch_type"]
        subnets, groups = _split(cleaned.get("subnets")), _split(cleaned.get("security_groups"))
        if subnets or groups or cleaned.get("launch_type") == "FARGATE":
            vpc: dict[str, Any] = {"Subnets": subnets,
                                   "AssignPublicIp": "ENABLED" if cleaned.get("assign_public_ip") else "DISABLED"}
            if groups:
                vpc["SecurityGroups"] = groups
            ecs["NetworkConfiguration"] = {"awsvpcConfiguration": vpc}
        providers = []
        for line in _lines(cleaned.get("capacity_providers")):
            parts = [p.strip() for p in line.split(":")]
            item: dict[str, Any] = {"capacityProvider": parts[0]}
            if len(parts) > 1 and parts[1].isdigit():
                item["weight"] = int(parts[1])
            if len(parts) > 2 and parts[2].isdigit():
                item["base"] = int(parts[2])
            providers.append(item)
        if providers:
            ecs["CapacityProviderStrategy"] = providers
        constraints = []
        for line in _lines(cleaned.get("placement_constraints")):
            kind, _, expression = line.partition(" ")
            constraints.append({"type": kind, **({"expression": expression.strip()} if expression.strip() else {})})
        if constraints:
            ecs["PlacementConstraints"] = constraints
        strategy = []
        for line in _lines(cleaned.get("placement_strategy")):
            kind, _, field = line.partition(" ")
            strategy.append({"type": kind, **({"field": field.strip()} if field.strip() else {})})
        if strategy:
            ecs["PlacementStrategy"] = strategy
        for name, member in (("platform_version", "PlatformVersion"), ("task_group", "Group"),
                             ("propagate_tags", "PropagateTags"), ("reference_id", "ReferenceId")):
            if (cleaned.get(name) or "").strip():
                ecs[member] = cleaned[name].strip()
        if cleaned.get("enable_managed_tags"):
            ecs["EnableECSManagedTags"] = True
        if cleaned.get("enable_execute_command"):
            ecs["EnableExecuteCommand"] = True
        tags = [{k.strip(): v.strip()} for k, _, v in (line.partition("=") for line in _lines(cleaned.get("ecs_tags")))]
        if tags:
            ecs["Tags"] = tags
        return ecs
