"""Step 3: Select target(s) — up to five, each with its input, retry policy and dead-letter queue."""
from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.html import escape

from awslang.transform import MAX_INPUT
from changes.constraints import check_number, check_string, member, shape
from changes.wizard_forms import WizardFormMixin, WizardFormSet
from core import safejson
from core.words import with_article
from delivery import policies, roles
from environments import resources

from ..spec import DEFAULT_RETRY_POLICY, NAME_CHARS, TARGETS_PER_RULE, parse_arn
from .common import checked, refuse_repeats

# The EventBridge console's target types: (key, label). The ARN each takes is in ARN_FORMS.
TARGET_TYPES = [
    ("lambda", "Lambda function"), ("sns", "SNS topic"), ("sqs", "SQS queue"),
    ("states", "Step Functions state machine"), ("events", "EventBridge event bus"),
    ("api_destination", "EventBridge API destination"), ("apigateway", "API Gateway"),
    ("batch", "Batch job queue"), ("logs", "CloudWatch log group"), ("codebuild", "CodeBuild project"),
    ("codepipeline", "CodePipeline"), ("ec2", "EC2 built-in action"), ("ecs", "ECS task"),
    ("firehose", "Firehose stream"), ("inspector", "Inspector assessment template"), ("kinesis", "Kinesis stream"),
    ("redshift", "Redshift cluster or Serverless workgroup"), ("sagemaker", "SageMaker pipeline"),
    ("ssm_automation", "Systems Manager Automation"), ("ssm_opsitem", "Systems Manager OpsItem"),
    ("ssm_run_command", "Systems Manager Run Command"), ("incidents", "Incident Manager response plan"),
    ("appsync", "AppSync API"), ("other", "Other (enter an ARN)"),
]
# key: (ARN services accepted, resource prefixes accepted ("" = any), the ARN's form in words)
ARN_FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "lambda": (("lambda",), ("function:",), "arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>]"),
    "sns": (("sns",), ("",), "arn:aws:sns:<region>:<account>:<topic>"),
    "sqs": (("sqs",), ("",), "arn:aws:sqs:<region>:<account>:<queue>"),
    "states": (("states",), ("stateMachine:",), "arn:aws:states:<region>:<account>:stateMachine:<name>"),
    "events": (("events",), ("event-bus/",), "arn:aws:events:<region>:<account>:event-bus/<name>"),
    "api_destination": (("events",), ("api-destination/",),
                        "arn:aws:events:<region>:<account>:api-destination/<name>/<id>"),
    "apigateway": (("execute-api",), ("",), "arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<method>/<path>"),
    "batch": (("batch",), ("job-queue/",), "arn:aws:batch:<region>:<account>:job-queue/<name>"),
    "logs": (("logs",), ("log-group:",), "arn:aws:logs:<region>:<account>:log-group:<name>"),
    "codebuild": (("codebuild",), ("project/",), "arn:aws:codebuild:<region>:<account>:project/<name>"),
    "codepipeline": (("codepipeline",), ("",), "arn:aws:codepipeline:<region>:<account>:<pipeline>"),
    "ec2": (("events",), ("target/",), "arn:aws:events:<region>:<account>:target/<action>"),
    "ecs": (("ecs",), ("cluster/",), "arn:aws:ecs:<region>:<account>:cluster/<name>"),
    "firehose": (("firehose",), ("deliverystream/",), "arn:aws:firehose:<region>:<account>:deliverystream/<name>"),
    "inspector": (("inspector",), ("target/",),
                  "arn:aws:inspector:<region>:<account>:target/<id>/template/<id>"),
    "kinesis": (("kinesis",), ("stream/",), "arn:aws:kinesis:<region>:<account>:stream/<name>"),
    "redshift": (("redshift", "redshift-serverless"), ("cluster:", "workgroup/"),
                 "arn:aws:redshift:<region>:<account>:cluster:<name> or "
                 "arn:aws:redshift-serverless:<region>:<account>:workgroup/<id>"),
    "sagemaker": (("sagemaker",), ("pipeline/",), "arn:aws:sagemaker:<region>:<account>:pipeline/<name>"),
    "ssm_automation": (("ssm",), ("automation-definition/",),
                       "arn:aws:ssm:<region>:<account>:automation-definition/<document>:$DEFAULT"),
    "ssm_opsitem": (("ssm",), ("opsitem",), "arn:aws:ssm:<region>:<account>:opsitem"),
    "ssm_run_command": (("ssm",), ("document/",), "arn:aws:ssm:<region>:<account>:document/<name>"),
    "incidents": (("ssm-incidents",), ("response-plan/",), "arn:aws:ssm-incidents::<account>:response-plan/<name>"),
    "appsync": (("appsync",), ("endpoints/graphql-api/",),
                "arn:aws:appsync:<region>:<account>:endpoints/graphql-api/<api id>"),
}
TARGET_SERVICES = {key: form[0][0] for key, form in ARN_FORMS.items()}
# EC2 built-in actions: the action's ARN suffix, and what the constant input names.
EC2_ACTIONS = [("create-snapshot", "EBS CreateSnapshot API call"), ("reboot-instance", "EC2 RebootInstances API call"),
               ("stop-instance", "EC2 StopInstances API call"), ("terminate-instance", "EC2 TerminateInstances API call")]


def kind_of_arn(arn: str) -> str:
    """The target type an ARN belongs to ("other" when none)."""
    parsed = parse_arn(arn) or {}
    for key, (services, prefixes, _words) in ARN_FORMS.items():
        if parsed.get("service") in services and any(parsed.get("resource", "").startswith(p) for p in prefixes):
            return key
    return "other"


def foreign_resource(kind: str, arn: str) -> bool:
    """Whether `arn` (picked in the Target list) is not a resource of the target type `kind`: a value
    chosen before the type was changed. "Other" takes any ARN."""
    return bool(arn) and kind in ARN_FORMS and kind_of_arn(arn) != kind


def resources_follow_types(raw: dict[str, list[str]], prefix: str = "targets") -> dict[str, list[str]]:
    """The target step's inputs with each Target list choice that is not of its target's type dropped.

    Used when the step is refreshed because a target type changed: the list then shows only resources
    of the new type, and the resource picked for the old type is not kept in it (on Next, a choice of
    another type is refused at the field instead, see TargetForm.clean)."""
    out = dict(raw)
    for key, values in raw.items():
        match = re.fullmatch(rf"({re.escape(prefix)}-\d+-)resource", key)
        if not match or not isinstance(values, list):
            continue
        kind = (raw.get(f"{match.group(1)}target_type") or [""])[-1]
        if values and foreign_resource(kind, values[-1]):
            out[key] = [""]
    return out


def _enum(structure: str, name: str, empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(v, v) for v in member("events", structure, name).get("enum", [])]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,]", text or "") if line.strip()]


def _pairs(text: str, sep: str = "=") -> list[tuple[str, str]]:
    """"key=value" lines (the value may be empty)."""
    pairs = []
    for line in (text or "").splitlines():
        if line.strip():
            key, _, value = line.partition(sep)
            pairs.append((key.strip(), value.strip()))
    return pairs


MATCHED, PART, CONSTANT, TRANSFORMER = "matched", "part", "constant", "transformer"
# How a target is reached (Lambda, SNS, SQS): a resource-based policy (the console's default) or a role;
# and which role: one made for this target (the console's default) or an existing one.
ACCESS_POLICY, ACCESS_ROLE = "policy", "role"
ROLE_NEW, ROLE_EXISTING = "new", "existing"
# The form's target types whose entry in delivery.roles.RULE_TARGETS has another key.
ROLE_TABLE_KIND = {"ssm_automation": "ssm", "ssm_opsitem": "ssm", "ssm_run_command": "ssm"}
DEFAULT_ROLE_NAME = re.compile(r"^Amazon_EventBridge_Invoke_(?P<label>.+)_\d{10}$")


def role_names_follow_types(raw: dict[str, list[str]], prefix: str = "targets") -> dict[str, list[str]]:
    """The target step's inputs with each new role's name that is the console's default for another
    target type (the type was just changed) made the default for the type chosen, and a default name
    another target already has (both copied from the blank target) made anew; names typed by hand
    are kept."""
    out = dict(raw)
    seen: set[str] = set()
    for key, values in sorted(raw.items()):
        match = re.fullmatch(rf"({re.escape(prefix)}-\d+-)target_type", key)
        kind = (values or [""])[-1] if isinstance(values, list) else ""
        if not match or kind not in dict(TARGET_TYPES):
            continue
        name_key = f"{match.group(1)}new_role_name"
        names = raw.get(name_key)
        default = DEFAULT_ROLE_NAME.match((names or [""])[-1] if isinstance(names, list) else "")
        table_kind = role_table_kind(kind)
        label = roles.RULE_TARGETS[table_kind].label if table_kind in roles.RULE_TARGETS else "Target"
        if default and (default.group("label") != label or names[-1] in seen):
            out[name_key] = [roles.rule_role_name(table_kind)]
        if names:
            seen.add(out[name_key][-1])
    return out


def role_table_kind(form_kind: str, arn: str = "") -> str:
    """The delivery.roles.RULE_TARGETS key for a target of the form's type (by its ARN for "other")."""
    if form_kind == "other" or form_kind not in dict(TARGET_TYPES):
        return roles.rule_target_kind(arn)
    if form_kind == "redshift" and ":redshift-serverless:" in (arn or ""):
        return "redshift_serverless"
    return ROLE_TABLE_KIND.get(form_kind, form_kind)


def access_of(form_kind: str, arn: str = "") -> str:
    """roles.ROLE / POLICY / OPTIONAL for a target of this type."""
    target = roles.RULE_TARGETS.get(role_table_kind(form_kind, arn))
    return target.access if target else roles.OPTIONAL
DLQ_NONE, DLQ_THIS, DLQ_OTHER = "none", "this", "other"


def hhmm_to_seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not match or int(match.group(2)) > 59:
        raise forms.ValidationError("Enter the maximum age as hh:mm, from 00:01 to 24:00.")
    seconds = int(match.group(1)) * 3600 + int(match.group(2)) * 60
    errors = check_number(seconds, member("events", "RetryPolicy", "MaximumEventAgeInSeconds"),
                          label="Maximum age of event")
    if errors:
        raise forms.ValidationError("Maximum age of event must be between 00:01 and 24:00 (1 minute to 24 hours).")
    return seconds


def seconds_to_hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


class TargetForm(WizardFormMixin, forms.Form):
    target_type = forms.ChoiceField(label="Target type", choices=TARGET_TYPES, initial="lambda")
    resource = forms.ChoiceField(label="Target", required=False,
                                 help_text="Listed from this environment. Or enter an ARN below.")
    arn = forms.CharField(label="ARN (other account, or not listed)", required=False, max_length=1600)
    target_id = forms.CharField(label="Target ID", required=False, max_length=200,
                                help_text="Leave empty for one made up for you (Target1, Target2, …).")
    access_mode = forms.ChoiceField(label="Permissions", widget=forms.RadioSelect, initial=ACCESS_POLICY,
                                    required=False, choices=[(ACCESS_POLICY, "Use a resource-based policy"),
                                                             (ACCESS_ROLE, "Use an execution role")],
                                    help_text="A resource-based policy is added to the target to let this rule in; "
                                              "or EventBridge invokes the target as an execution role.")
    role_mode = forms.ChoiceField(label="Execution role", widget=forms.RadioSelect, initial=ROLE_NEW, required=False,
                                  choices=[(ROLE_NEW, "Create a new role for this specific resource"),
                                           (ROLE_EXISTING, "Use existing role")])
    new_role_name = forms.CharField(label="Role name", required=False, max_length=64,
                                    help_text="Created under /service-role/ when the change is applied: trusted by "
                                              "events.amazonaws.com for this rule only, allowed to invoke this target "
                                              "(and send to its dead-letter queue).")
    role = forms.ChoiceField(label="Existing role", required=False,
                             help_text="Roles that trust events.amazonaws.com. Needed for Step Functions, Kinesis "
                                       "and event bus targets.")
    role_arn = forms.CharField(label="Role ARN (not listed)", required=False, max_length=1600)
    message_group_id = forms.CharField(label="Message group ID (FIFO queues)", required=False, max_length=200)
    partition_key_path = forms.CharField(label="Partition key path (Kinesis)", required=False, max_length=300)

    # -- per target type (shown only for the type that uses them; limits and enums from botocore's model) --
    lambda_qualifier = forms.CharField(label="Version or alias - optional", required=False, max_length=128,
                                       help_text="Invoke this version or alias (e.g. 3, or live) instead of $LATEST.")
    ec2_action = forms.ChoiceField(label="Action", required=False, choices=[("", "Choose an action")] + EC2_ACTIONS)
    ec2_resource_id = forms.CharField(label="Volume ID or instance ID", required=False, max_length=100,
                                      help_text="vol-… for CreateSnapshot, i-… for the instance actions.")
    ecs_task_definition = forms.CharField(label="Task definition ARN", required=False, max_length=1600)
    ecs_task_count = forms.IntegerField(label="Count", required=False, initial=1)
    ecs_launch_type = forms.ChoiceField(label="Launch type", required=False,
                                        choices=_enum("EcsParameters", "LaunchType",
                                                      "None (use a capacity provider strategy)"))
    ecs_capacity_providers = forms.CharField(
        label="Capacity provider strategy", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: provider[:weight[:base]], e.g. FARGATE_SPOT:2:0. Used instead of a launch type.")
    ecs_subnets = forms.CharField(label="Subnets (awsvpc)", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
                                  help_text="subnet-… IDs, one per line or separated by commas.")
    ecs_security_groups = forms.CharField(label="Security groups (awsvpc)", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}))
    ecs_assign_public_ip = forms.ChoiceField(label="Auto-assign public IP", required=False,
                                             choices=_enum("AwsVpcConfiguration", "AssignPublicIp", "Default"))
    ecs_platform_version = forms.CharField(label="Platform version", required=False, max_length=100,
                                           help_text="e.g. LATEST or 1.4.0 (Fargate only).")
    ecs_group = forms.CharField(label="Task group", required=False, max_length=255)
    ecs_placement_constraints = forms.CharField(
        label="Placement constraints", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: type[:expression], type one of distinctInstance, memberOf.")
    ecs_placement_strategy = forms.CharField(
        label="Placement strategy", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: type[:field], type one of random, spread, binpack.")
    ecs_tags = forms.CharField(label="Task tags", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}), help_text="One per line: key=value.")
    ecs_propagate_tags = forms.ChoiceField(label="Propagate tags", required=False,
                                           choices=_enum("EcsParameters", "PropagateTags", "Don't propagate"))
    ecs_managed_tags = forms.BooleanField(label="Enable Amazon ECS managed tags", required=False)
    ecs_execute_command = forms.BooleanField(label="Enable execute command", required=False)
    ecs_reference_id = forms.CharField(label="Reference ID", required=False, max_length=2000)
    batch_job_definition = forms.CharField(label="Job definition", required=False, max_length=1600)
    batch_job_name = forms.CharField(label="Job name", required=False, max_length=1600)
    batch_array_size = forms.IntegerField(label="Array size - optional", required=False,
                                          help_text="2 to 10,000 for an array job.")
    batch_attempts = forms.IntegerField(label="Job attempts - optional", required=False, help_text="1 to 10.")
    run_command_targets = forms.CharField(
        label="Run Command targets", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
        help_text="One per line: key=value1,value2, e.g. InstanceIds=i-0123 or tag:Role=web (1 to 5 lines).")
    http_path_parameters = forms.CharField(label="Path parameters", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
                                           help_text="Values for the path's wildcards (*), one per line.")
    http_headers = forms.CharField(label="Header parameters", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
                                   help_text="One per line: name=value.")
    http_query = forms.CharField(label="Query string parameters", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
                                 help_text="One per line: name=value.")
    redshift_database = forms.CharField(label="Database", required=False, max_length=200)
    redshift_db_user = forms.CharField(label="Database user - optional", required=False, max_length=300)
    redshift_secret_arn = forms.CharField(label="Secrets Manager secret ARN - optional", required=False,
                                          max_length=1600)
    redshift_sql = forms.CharField(label="SQL statement(s)", required=False,
                                   widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
                                   help_text="Separate several statements (up to 40, run as one transaction) "
                                             "with a line holding only ---.")
    redshift_statement_name = forms.CharField(label="Statement name - optional", required=False, max_length=600)
    redshift_with_event = forms.BooleanField(label="Send an event when the statement finishes", required=False)
    sagemaker_parameters = forms.CharField(label="Pipeline parameters", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "font-monospace"}),
                                           help_text="One per line: name=value.")
    appsync_operation = forms.CharField(label="GraphQL operation", required=False,
                                        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
                                        help_text="The mutation to run, e.g. mutation Put($id: ID!) { put(id: $id) { id } }")
    input_mode = forms.ChoiceField(label="Configure target input", widget=forms.RadioSelect, initial=MATCHED,
                                   choices=[(MATCHED, "Matched events"), (PART, "Part of the matched event"),
                                            (CONSTANT, "Constant (JSON text)"), (TRANSFORMER, "Input transformer")])
    input_path = forms.CharField(label="Specify the part of the matched event", required=False, max_length=300,
                                 help_text="A JSONPath, e.g. $.detail")
    input_constant = forms.CharField(label="Specify the constant in JSON", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}))
    input_paths_map = forms.CharField(label="Input path", required=False,
                                      widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
                                      help_text='JSON map of variables to JSONPaths, e.g. {"bucket": "$.detail.bucket.name"}')
    input_template = forms.CharField(label="Template", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
                                     help_text='e.g. {"text": "New object in <bucket>"}')
    max_age = forms.CharField(label="Maximum age of event", initial="24:00", max_length=5,
                              help_text="hh:mm, from 00:01 to 24:00")
    retry_attempts = forms.IntegerField(label="Retry attempts", initial=185, help_text="0 to 185")
    dlq_mode = forms.ChoiceField(label="Dead-letter queue", widget=forms.RadioSelect, initial=DLQ_NONE, choices=[
        (DLQ_NONE, "None"),
        (DLQ_THIS, "Select an Amazon SQS queue in the current AWS account to use as the dead-letter queue"),
        (DLQ_OTHER, "Select an Amazon SQS queue in an other AWS account as a dead-letter queue"),
    ])
    dlq_queue = forms.ChoiceField(label="Queue", required=False)
    dlq_arn = forms.CharField(label="Queue ARN", required=False, max_length=1600,
                              help_text="You must add a queue policy allowing EventBridge to send to it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        environment = self.environment
        self.listing_errors = []
        # Only the chosen type is listed (each listing is paginated and cached in environments.resources).
        kind = (self.data.get(self.add_prefix("target_type")) if self.is_bound else None) or \
            self.initial.get("target_type") or self.fields["target_type"].initial
        self.chosen_type = kind if kind in dict(TARGET_TYPES) else "lambda"
        label = dict(TARGET_TYPES)[self.chosen_type]
        listing = resources.TARGET_LISTINGS.get(self.chosen_type)
        found = []
        if listing is not None:
            found, error = listing(environment)
            if error:
                self.listing_errors.append(f"{label}s could not be listed: {error}" +
                                           ("" if "ARN" in error else " Enter the ARN below."))
        if self.chosen_type == "logs":  # a Region holds at most 10 Logs resource policies
            warning, error = resources.logs_policy_room_warning(environment, ours=policies.LOGS_POLICY)
            self.listing_errors += [text for text in (warning, error) if text]
        self.fields["resource"].choices = [("", f"Choose: {label} (or enter an ARN below)")] + [
            (r.arn, r.label) for r in found]
        # The ARN form names its parts as <region>: escaped, or the page would read them as tags.
        self.fields["resource"].help_text = escape(f"Listed from this environment. ARN form: "
                                                   f"{ARN_FORMS[self.chosen_type][2]}") \
            if self.chosen_type in ARN_FORMS else "Enter the target's ARN below."
        queues, error = resources.sqs_queues(environment)
        self.fields["dlq_queue"].choices = [("", "Choose a queue")] + [
            (q.arn, q.label) for q in queues if not q.label.endswith(".fifo")]
        trusting, error = resources.roles_trusting(environment, "events.amazonaws.com")
        self.fields["role"].choices = [("", "No role")] + [(r.arn, r.label) for r in trusting]
        self._new_role_name_for_type()
        # An ARN chosen earlier but no longer listed stays selectable (nothing typed is lost); one of
        # another target type is refused in clean() and then left out of the list shown again.
        for name in ("resource", "dlq_queue", "role"):
            value = self.data.get(self.add_prefix(name)) if self.is_bound else None
            flat = {c[0] for c in self._flat_choices(self.fields[name].choices)}
            if value and value not in flat:
                self.fields[name].choices = list(self.fields[name].choices) + [(value, value)]

    @property
    def access(self) -> str:
        """How a target of the chosen type is reached: roles.ROLE / POLICY / OPTIONAL."""
        return access_of(self.chosen_type)

    @property
    def offers_new_role(self) -> bool:
        return roles.can_create_rule_role(role_table_kind(self.chosen_type))

    def _new_role_name_for_type(self) -> None:
        """The console's name for a new role, for the chosen type (rules.wizard renames a default name
        that was made for another type, before the step is saved: see role_names_follow_types)."""
        self.fields["new_role_name"].initial = roles.rule_role_name(role_table_kind(self.chosen_type))

    @staticmethod
    def _flat_choices(choices):
        for value, label in choices:
            if isinstance(label, (list, tuple)):
                yield from label
            else:
                yield value, label

    def clean_retry_attempts(self):
        value = self.cleaned_data.get("retry_attempts")
        return checked(value, check_number(value, member("events", "RetryPolicy", "MaximumRetryAttempts"),
                                           label="Retry attempts"))

    def clean_max_age(self):
        return hhmm_to_seconds(self.cleaned_data.get("max_age") or "")

    def clean_target_id(self):
        value = (self.cleaned_data.get("target_id") or "").strip()
        return checked(value, check_string(value, shape("events", "TargetId"), label="Target ID", allowed=NAME_CHARS,
                                           required=False))

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("target_type")
        arn = (cleaned.get("arn") or "").strip() or cleaned.get("resource") or ""
        if kind == "ec2" and not arn:
            arn = self._ec2_arn(cleaned)
        picked = cleaned.get("resource") or ""
        if not (cleaned.get("arn") or "").strip() and foreign_resource(kind, picked):
            self._refuse_foreign_resource(kind, picked)
            arn = ""
        elif not arn:
            if kind != "ec2":
                self.add_error("resource" if kind in resources.TARGET_LISTINGS else "arn",
                               "Choose a target, or enter its ARN." if kind in resources.TARGET_LISTINGS else
                               f"Enter the target's ARN ({ARN_FORMS.get(kind, (0, 0, 'arn:aws:…'))[2]}).")
        else:
            parsed = parse_arn(arn)
            if parsed is None:
                self.add_error("arn", "Enter an ARN: arn:aws:<service>:<region>:<account>:<resource>.")
            elif kind in ARN_FORMS and kind_of_arn(arn) != kind:
                services, _prefixes, words = ARN_FORMS[kind]
                label = dict(TARGET_TYPES)[kind]
                self.add_error("arn", f"That is not a {label} ARN (it is a {parsed['service']} ARN); "
                                      f"a {label} ARN looks like {words}.")
            elif kind == "sqs" and arn.endswith(".fifo") and not cleaned.get("message_group_id"):
                self.add_error("message_group_id", "A FIFO queue target needs a message group ID.")
            elif kind == "lambda" and cleaned.get("lambda_qualifier"):
                if len(parsed["resource"].split(":")) > 2:
                    self.add_error("lambda_qualifier", "The ARN already names a version or alias; leave this empty.")
                else:
                    arn = f"{arn}:{cleaned['lambda_qualifier'].strip()}"
        self._check_type_fields(kind, cleaned)
        cleaned["arn_value"] = arn
        cleaned["role_value"] = self._role_value(kind, arn, cleaned)
        mode = cleaned.get("input_mode")
        if mode == PART and not cleaned.get("input_path"):
            self.add_error("input_path", "Enter the part of the event to send, as a JSONPath such as $.detail.")
        if mode == CONSTANT:
            try:
                safejson.loads(cleaned.get("input_constant") or "", what="The constant", max_chars=MAX_INPUT,
                               limit_words="AWS's limit for a target's Input")
            except safejson.InvalidJSON as exc:
                self.add_error("input_constant", str(exc))
        if mode == TRANSFORMER:
            if not (cleaned.get("input_template") or "").strip():
                self.add_error("input_template", "Enter the template the target receives.")
            text = (cleaned.get("input_paths_map") or "").strip()
            try:
                paths = safejson.loads(text, what="The input path", max_chars=MAX_INPUT) if text else {}
            except safejson.InvalidJSON as exc:
                self.add_error("input_paths_map", str(exc))
            else:
                if not isinstance(paths, dict):
                    self.add_error("input_paths_map",
                                   'The input path must be a JSON object such as {"name": "$.detail.name"}.')
        dlq = cleaned.get("dlq_mode")
        if dlq == DLQ_THIS and not cleaned.get("dlq_queue"):
            self.add_error("dlq_queue", "Choose the queue, or choose None.")
        if dlq == DLQ_OTHER and not (cleaned.get("dlq_arn") or "").strip():
            self.add_error("dlq_arn", "Enter the queue's ARN, or choose None.")
        if not self.errors:
            self._check_as_aws_does(cleaned)
        if not self.errors:
            from awslang.transform import TransformError, validate_target_input

            try:
                validate_target_input(target_entry(cleaned, target_id="check"))
            except TransformError as exc:
                field = {PART: "input_path", CONSTANT: "input_constant", TRANSFORMER: "input_template"}.get(mode)
                self.add_error(field, str(exc))
        return cleaned

    def _refuse_foreign_resource(self, kind: str, arn: str) -> None:
        """A resource of another type is chosen in the Target list (the type was changed and the list
        not refreshed, e.g. without JavaScript): say so at the list, which is shown again with only
        resources of the chosen type."""
        label, found = dict(TARGET_TYPES)[kind], kind_of_arn(arn)
        resource = (parse_arn(arn) or {}).get("resource") or arn
        prefix = next((p for p in ARN_FORMS.get(found, ((), ("",), ""))[1] if p and resource.startswith(p)), "")
        name = resource[len(prefix):]  # function:Do_nothing → Do_nothing
        what = with_article(dict(TARGET_TYPES)[found]) if found != "other" else "not a target type listed here"
        wanted = with_article(label)
        self.add_error("resource", f"{name} is {what}, not {wanted}. Choose {wanted} (the list now shows only "
                                   f"those), or change the target type.")
        self.fields["resource"].choices = [c for c in self.fields["resource"].choices if c[0] != arn]

    def _role_value(self, kind: str, arn: str, cleaned: dict[str, Any]) -> str:
        """The target's RoleArn: a new role's ARN, the existing role chosen, or none (a resource-based
        policy). A form posted without the choices (an older client) is read as "Use existing role"."""
        access = access_of(kind, arn)
        cleaned["role_new"] = False
        if access == roles.POLICY and cleaned.get("access_mode") == ACCESS_POLICY:
            return ""
        if access != roles.OPTIONAL and cleaned.get("role_mode") == ROLE_NEW \
                and roles.can_create_rule_role(role_table_kind(kind, arn)):
            cleaned["role_new"] = True
            return self._new_role_arn((cleaned.get("new_role_name") or "").strip())
        if access == roles.POLICY and cleaned.get("access_mode") == ACCESS_ROLE \
                and not ((cleaned.get("role_arn") or "").strip() or cleaned.get("role")):
            self.add_error("role", "Choose the execution role, or create a new one.")
        return (cleaned.get("role_arn") or "").strip() or cleaned.get("role") or ""

    def _new_role_arn(self, name: str) -> str:
        arn, problem = roles.new_role_arn(name, self.environment)
        if problem:
            self.add_error("new_role_name", problem)
        return arn

    def _ec2_arn(self, cleaned) -> str:
        action = cleaned.get("ec2_action")
        if not action:
            self.add_error("ec2_action", "Choose the action.")
            return ""
        account = self.environment.account_id if self.environment else ""
        if not account:
            self.add_error("arn", "This environment has no account ID: enter the action's ARN "
                                  f"(arn:aws:events:<region>:<account>:target/{action}).")
            return ""
        return f"arn:aws:events:{self.environment.region}:{account}:target/{action}"

    def _check_type_fields(self, kind: str, cleaned: dict[str, Any]) -> None:
        """What a type needs that the API model cannot say (AWS's documented rules), at the field."""
        if kind == "ec2":
            resource_id = (cleaned.get("ec2_resource_id") or "").strip()
            action = cleaned.get("ec2_action") or (cleaned.get("arn") or "").rsplit("/", 1)[-1]
            prefix = "vol-" if action == "create-snapshot" else "i-"
            if not resource_id:
                self.add_error("ec2_resource_id", "Enter the volume ID (vol-…)." if prefix == "vol-" else
                               "Enter the instance ID (i-…).")
            elif not resource_id.startswith(prefix):
                self.add_error("ec2_resource_id", f"{dict(EC2_ACTIONS).get(action, 'This action')} takes "
                                                  f"{'a volume ID (vol-…)' if prefix == 'vol-' else 'an instance ID (i-…)'}.")
        if kind == "ecs":
            if cleaned.get("ecs_launch_type") and (cleaned.get("ecs_capacity_providers") or "").strip():
                self.add_error("ecs_capacity_providers", "Choose a launch type or a capacity provider strategy, "
                                                         "not both (AWS refuses both).")
            if (cleaned.get("ecs_security_groups") or "").strip() and not (cleaned.get("ecs_subnets") or "").strip():
                self.add_error("ecs_subnets", "Enter at least one subnet for the awsvpc network configuration.")
            if not (cleaned.get("ecs_task_definition") or "").strip():
                self.add_error("ecs_task_definition", "Enter the task definition ARN.")
        if kind == "batch":
            for name, message in (("batch_job_definition", "Enter the job definition (name or ARN)."),
                                  ("batch_job_name", "Enter the job name.")):
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, message)
            size = cleaned.get("batch_array_size")
            if size is not None and not 2 <= size <= 10000:
                self.add_error("batch_array_size", "Array size must be between 2 and 10,000.")
            attempts = cleaned.get("batch_attempts")
            if attempts is not None and not 1 <= attempts <= 10:
                self.add_error("batch_attempts", "Job attempts must be between 1 and 10.")
        if kind == "ssm_run_command" and not (cleaned.get("run_command_targets") or "").strip():
            self.add_error("run_command_targets", "Enter at least one target, e.g. InstanceIds=i-0123456789abcdef0.")
        if kind == "redshift" and not (cleaned.get("redshift_database") or "").strip():
            self.add_error("redshift_database", "Enter the database name.")
        if kind == "redshift" and not (cleaned.get("redshift_sql") or "").strip():
            self.add_error("redshift_sql", "Enter the SQL statement to run.")
        if kind == "appsync" and not (cleaned.get("appsync_operation") or "").strip():
            self.add_error("appsync_operation", "Enter the GraphQL operation.")

    def _field_for(self, path: str, cleaned: dict[str, Any]) -> str | None:
        if path.startswith("Arn"):
            if cleaned.get("target_type") == "ec2" and not (cleaned.get("arn") or "").strip():
                return "ec2_action"
            return "arn" if (cleaned.get("arn") or "").strip() else "resource"
        if path.startswith("RoleArn"):
            if cleaned.get("role_new"):
                return "new_role_name"
            return "role_arn" if (cleaned.get("role_arn") or "").strip() else "role"
        if path.startswith("DeadLetterConfig"):
            return "dlq_arn" if cleaned.get("dlq_mode") == DLQ_OTHER else "dlq_queue"
        if path.startswith("Input") and cleaned.get("target_type") == "ec2":
            return "ec2_resource_id"
        best = max((p for p in PATH_FIELDS if path == p or path.startswith(p + ".")), key=len, default=None)
        return PATH_FIELDS.get(best) if best else None

    def _check_as_aws_does(self, cleaned: dict[str, Any]) -> None:
        """The spec's own target checks (the ones Review and apply make), shown here at the field."""
        from ..spec import validate_target

        entry = target_entry(cleaned, target_id=cleaned.get("target_id") or "check")
        errors: dict[str, list[str]] = {}
        validate_target(entry, "T", region=self.environment.region if self.environment else None, errors=errors)
        for key, messages in errors.items():
            field = self._field_for(key[2:], cleaned)
            for message in dict.fromkeys(messages):
                self.add_error(field if field in self.fields else None, message)


# Where an error on a PutTargets member is shown (the longest matching member path wins).
PATH_FIELDS = {
    "Id": "target_id", "Input": "input_constant", "InputPath": "input_path",
    "InputTransformer": "input_template", "InputTransformer.InputPathsMap": "input_paths_map",
    "RetryPolicy.MaximumEventAgeInSeconds": "max_age", "RetryPolicy.MaximumRetryAttempts": "retry_attempts",
    "SqsParameters": "message_group_id", "KinesisParameters": "partition_key_path",
    "EcsParameters": "ecs_task_definition", "EcsParameters.TaskCount": "ecs_task_count",
    "EcsParameters.LaunchType": "ecs_launch_type", "EcsParameters.CapacityProviderStrategy": "ecs_capacity_providers",
    "EcsParameters.NetworkConfiguration": "ecs_subnets",
    "EcsParameters.NetworkConfiguration.awsvpcConfiguration.SecurityGroups": "ecs_security_groups",
    "EcsParameters.NetworkConfiguration.awsvpcConfiguration.AssignPublicIp": "ecs_assign_public_ip",
    "EcsParameters.PlatformVersion": "ecs_platform_version", "EcsParameters.Group": "ecs_group",
    "EcsParameters.PlacementConstraints": "ecs_placement_constraints",
    "EcsParameters.PlacementStrategy": "ecs_placement_strategy", "EcsParameters.Tags": "ecs_tags",
    "EcsParameters.PropagateTags": "ecs_propagate_tags", "EcsParameters.ReferenceId": "ecs_reference_id",
    "BatchParameters": "batch_job_definition", "BatchParameters.JobName": "batch_job_name",
    "BatchParameters.ArrayProperties": "batch_array_size", "BatchParameters.RetryStrategy": "batch_attempts",
    "RunCommandParameters": "run_command_targets", "HttpParameters": "http_path_parameters",
    "HttpParameters.HeaderParameters": "http_headers", "HttpParameters.QueryStringParameters": "http_query",
    "RedshiftDataParameters": "redshift_database", "RedshiftDataParameters.DbUser": "redshift_db_user",
    "RedshiftDataParameters.SecretManagerArn": "redshift_secret_arn", "RedshiftDataParameters.Sql": "redshift_sql",
    "RedshiftDataParameters.Sqls": "redshift_sql", "RedshiftDataParameters.StatementName": "redshift_statement_name",
    "SageMakerPipelineParameters": "sagemaker_parameters", "AppSyncParameters": "appsync_operation",
}


def target_entry(cleaned: dict[str, Any], *, target_id: str) -> dict[str, Any]:
    """A PutTargets entry from one target form's cleaned data."""
    entry: dict[str, Any] = {"Id": cleaned.get("target_id") or target_id, "Arn": cleaned.get("arn_value", "")}
    if cleaned.get("role_value"):
        entry["RoleArn"] = cleaned["role_value"]
    mode = cleaned.get("input_mode")
    if mode == PART:
        entry["InputPath"] = cleaned.get("input_path", "")
    elif mode == CONSTANT:
        entry["Input"] = cleaned.get("input_constant", "")
    elif mode == TRANSFORMER:
        text = (cleaned.get("input_paths_map") or "").strip()
        entry["InputTransformer"] = {"InputPathsMap": json.loads(text) if text else {},
                                     "InputTemplate": cleaned.get("input_template", "")}
        if not entry["InputTransformer"]["InputPathsMap"]:
            del entry["InputTransformer"]["InputPathsMap"]
    retry = {"MaximumRetryAttempts": cleaned.get("retry_attempts"), "MaximumEventAgeInSeconds": cleaned.get("max_age")}
    if retry != DEFAULT_RETRY_POLICY:  # AWS's default needs no setting
        entry["RetryPolicy"] = retry
    dlq = cleaned.get("dlq_mode")
    if dlq == DLQ_THIS and cleaned.get("dlq_queue"):
        entry["DeadLetterConfig"] = {"Arn": cleaned["dlq_queue"]}
    elif dlq == DLQ_OTHER and cleaned.get("dlq_arn"):
        entry["DeadLetterConfig"] = {"Arn": cleaned["dlq_arn"].strip()}
    kind = cleaned.get("target_type") or "other"
    if cleaned.get("message_group_id") and kind in ("sqs", "other"):
        entry["SqsParameters"] = {"MessageGroupId": cleaned["message_group_id"]}
    if cleaned.get("partition_key_path") and kind in ("kinesis", "other"):
        entry["KinesisParameters"] = {"PartitionKeyPath": cleaned["partition_key_path"]}
    if kind == "ec2" and cleaned.get("ec2_resource_id"):
        entry["Input"] = json.dumps(cleaned["ec2_resource_id"].strip())  # the built-in actions take the ID as JSON
        entry.pop("InputPath", None)
        entry.pop("InputTransformer", None)
    params = _type_parameters(kind, cleaned)
    if params:
        entry.update(params)
    return entry


def _type_parameters(kind: str, c: dict[str, Any]) -> dict[str, Any]:
    """The `…Parameters` member of a PutTargets entry for the chosen type (empty values left out)."""
    text = lambda name: (c.get(name) or "").strip()  # noqa: E731
    if kind == "ecs":
        ecs: dict[str, Any] = {"TaskDefinitionArn": text("ecs_task_definition")}
        if c.get("ecs_task_count") is not None:
            ecs["TaskCount"] = c["ecs_task_count"]
        if text("ecs_launch_type"):
            ecs["LaunchType"] = text("ecs_launch_type")
        strategy = []
        for line in _lines(text("ecs_capacity_providers").replace(",", "\n")):
            name, *numbers = [part.strip() for part in line.split(":")]
            item: dict[str, Any] = {"capacityProvider": name}
            for key, number in zip(("weight", "base"), numbers):
                item[key] = int(number) if re.fullmatch(r"-?\d{1,9}", number) else number  # the check says so
            strategy.append(item)
        if strategy:
            ecs["CapacityProviderStrategy"] = strategy
        subnets, groups = _lines(text("ecs_subnets")), _lines(text("ecs_security_groups"))
        if subnets or groups or text("ecs_assign_public_ip"):
            vpc: dict[str, Any] = {"Subnets": subnets}
            if groups:
                vpc["SecurityGroups"] = groups
            if text("ecs_assign_public_ip"):
                vpc["AssignPublicIp"] = text("ecs_assign_public_ip")
            ecs["NetworkConfiguration"] = {"awsvpcConfiguration": vpc}
        for key, name in (("PlatformVersion", "ecs_platform_version"), ("Group", "ecs_group"),
                          ("PropagateTags", "ecs_propagate_tags"), ("ReferenceId", "ecs_reference_id")):
            if text(name):
                ecs[key] = text(name)
        constraints = [dict(zip(("type", "expression"), [p.strip() for p in line.split(":", 1)]))
                       for line in text("ecs_placement_constraints").splitlines() if line.strip()]
        if constraints:
            ecs["PlacementConstraints"] = constraints
        strategies = [dict(zip(("type", "field"), [p.strip() for p in line.split(":", 1)]))
                      for line in text("ecs_placement_strategy").splitlines() if line.strip()]
        if strategies:
            ecs["PlacementStrategy"] = strategies
        tags = [{"Key": k, "Value": v} for k, v in _pairs(text("ecs_tags"))]
        if tags:
            ecs["Tags"] = tags
        if c.get("ecs_managed_tags"):
            ecs["EnableECSManagedTags"] = True
        if c.get("ecs_execute_command"):
            ecs["EnableExecuteCommand"] = True
        return {"EcsParameters": ecs}
    if kind == "batch":
        batch: dict[str, Any] = {"JobDefinition": text("batch_job_definition"), "JobName": text("batch_job_name")}
        if c.get("batch_array_size") is not None:
            batch["ArrayProperties"] = {"Size": c["batch_array_size"]}
        if c.get("batch_attempts") is not None:
            batch["RetryStrategy"] = {"Attempts": c["batch_attempts"]}
        return {"BatchParameters": batch}
    if kind == "ssm_run_command":
        targets = [{"Key": k, "Values": _lines(v)} for k, v in _pairs(text("run_command_targets"))]
        return {"RunCommandParameters": {"RunCommandTargets": targets}} if targets else {}
    if kind in ("apigateway", "api_destination"):
        http: dict[str, Any] = {}
        if text("http_path_parameters"):
            http["PathParameterValues"] = [v.strip() for v in text("http_path_parameters").splitlines() if v.strip()]
        if text("http_headers"):
            http["HeaderParameters"] = dict(_pairs(text("http_headers")))
        if text("http_query"):
            http["QueryStringParameters"] = dict(_pairs(text("http_query")))
        return {"HttpParameters": http} if http else {}
    if kind == "redshift":
        redshift: dict[str, Any] = {"Database": text("redshift_database")}
        statements = [s.strip() for s in re.split(r"(?m)^\s*---\s*$", text("redshift_sql")) if s.strip()]
        if len(statements) > 1:
            redshift["Sqls"] = statements
        elif statements:
            redshift["Sql"] = statements[0]
        for key, name in (("DbUser", "redshift_db_user"), ("SecretManagerArn", "redshift_secret_arn"),
                          ("StatementName", "redshift_statement_name")):
            if text(name):
                redshift[key] = text(name)
        if c.get("redshift_with_event"):
            redshift["WithEvent"] = True
        return {"RedshiftDataParameters": redshift}
    if kind == "sagemaker":
        params = [{"Name": k, "Value": v} for k, v in _pairs(text("sagemaker_parameters"))]
        return {"SageMakerPipelineParameters": {"PipelineParameterList": params}} if params else {}
    if kind == "appsync" and text("appsync_operation"):
        return {"AppSyncParameters": {"GraphQLOperation": text("appsync_operation")}}
    return {}


class BaseTargetFormSet(WizardFormSet):
    def clean(self):
        super().clean()
        forms_kept = [f for f in self.forms if f not in self.deleted_forms]
        if len(forms_kept) > TARGETS_PER_RULE:
            raise forms.ValidationError(f"A rule can have at most {TARGETS_PER_RULE} targets (an AWS quota that "
                                        f"cannot be raised).")
        refuse_repeats([f.cleaned_data.get("target_id") for f in forms_kept if getattr(f, "cleaned_data", None)],
                       "Target IDs")
        seen: set[str] = set()
        for form in forms_kept:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("role_new") and data.get("role_value"):
                if data["role_value"] in seen:
                    form.add_error("new_role_name", "Another target creates a role of this name: each new role is "
                                                    "made for one target; change the name.")
                seen.add(data["role_value"])


# max_num limits how many forms are shown; the 5-target quota is enforced (with its own message) in clean().
TargetFormSet = formset_factory(TargetForm, formset=BaseTargetFormSet, extra=0, min_num=1, validate_min=True,
                                max_num=TARGETS_PER_RULE, absolute_max=100, can_delete=True)
