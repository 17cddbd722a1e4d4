"""Step 3: Settings — state, action after completion, retry policy and DLQ, encryption, permissions."""
from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django import forms

from delivery import roles
from environments import aws, resources

from ..spec import DEFAULT_RETRY
from .common import WizardFormMixin, listing_choices, map_spec_errors

DLQ_NONE, DLQ_THIS, DLQ_OTHER = "none", "this", "other"
ROLE_NEW, ROLE_EXISTING, ROLE_ARN = "new", "existing", "arn"
SCHEDULER_PRINCIPAL = roles.SCHEDULER_PRINCIPAL
SPEC_FIELDS = {"State": "enabled", "ActionAfterCompletion": "action_after_completion", "KmsKeyArn": "kms_key_arn",
               "Target.RetryPolicy.MaximumEventAgeInSeconds": "max_age_hours",
               "Target.RetryPolicy.MaximumRetryAttempts": "max_retries"}


class ScheduleSettingsForm(WizardFormMixin, forms.Form):
    enabled = forms.BooleanField(label="Enable schedule", required=False, initial=True)
    action_after_completion = forms.ChoiceField(
        label="Action after schedule completion", widget=forms.RadioSelect, initial="NONE", choices=[
            ("NONE", "NONE — keep the schedule after its last invocation"),
            ("DELETE", "DELETE — delete the schedule after its last invocation (one-time: after it runs)")])
    retry = forms.BooleanField(label="Retry", required=False, initial=True,
                               help_text="Retry the invocation when the target cannot be reached.")
    max_age_hours = forms.IntegerField(label="Maximum age of event - hour(s)", required=False, initial=24,
                                       min_value=0, max_value=24)
    max_age_minutes = forms.IntegerField(label="min(s)", required=False, initial=0, min_value=0, max_value=59)
    max_retries = forms.IntegerField(label="Maximum retries", required=False, initial=185, help_text="0 to 185.")
    dlq_mode = forms.ChoiceField(label="Dead-letter queue (DLQ)", widget=forms.RadioSelect, initial=DLQ_NONE, choices=[
        (DLQ_NONE, "None"),
        (DLQ_THIS, "Select an Amazon SQS queue in my AWS account as a DLQ"),
        (DLQ_OTHER, "Specify an Amazon SQS queue in other AWS accounts as a DLQ")])
    dlq_queue = forms.ChoiceField(label="SQS queue", required=False)
    dlq_arn = forms.CharField(label="Queue ARN", required=False, max_length=1600)
    encryption = forms.BooleanField(label="Customize encryption settings (advanced)", required=False,
                                    help_text="Off: the target input is encrypted with an AWS owned key.")
    kms_key_arn = forms.CharField(label="KMS key ARN", required=False, max_length=2048)
    role_mode = forms.ChoiceField(label="Permissions", widget=forms.RadioSelect, initial=ROLE_NEW, choices=[
        (ROLE_NEW, "Create new role for this schedule"), (ROLE_EXISTING, "Use existing role"),
        (ROLE_ARN, "Enter a role ARN")])
    new_role_name = forms.CharField(
        label="Role name", required=False, max_length=64,
        help_text="Created under /service-role/ when the change is applied: trusted by scheduler.amazonaws.com for "
                  "this schedule group only, allowed to call this target (and the dead-letter queue and KMS key, "
                  "where set). The review shows both policies.")
    role = forms.ChoiceField(label="Execution role", required=False,
                             help_text="Roles whose trust policy allows scheduler.amazonaws.com.")
    role_arn = forms.CharField(label="Role ARN", required=False, max_length=1600)
    role_trust_ack = forms.BooleanField(
        label="Use this role anyway (its trust policy will be fixed in IAM before the change is applied)",
        required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        environment = self.environment
        self.listing_errors: list[str] = []
        queues, error = resources.sqs_queues(environment)
        if error:
            self.listing_errors.append(f"SQS queues could not be listed: {error}")
        listing_choices(self.fields["dlq_queue"], [q for q in queues if not q.label.endswith(".fifo")],
                        empty="Choose a queue", data_value=self._value("dlq_queue"))
        trusting, error = resources.roles_trusting(environment, SCHEDULER_PRINCIPAL)
        if error:
            self.listing_errors.append(f"IAM roles could not be listed: {error}")
        listing_choices(self.fields["role"], trusting, empty="Choose a role", data_value=self._value("role"))
        target_arn = ((self.wizard.change.spec or {}).get("Target") or {}).get("Arn", "")
        self.fields["new_role_name"].initial = scheduler_role_name_for(target_arn)
        self.role_warnings: dict[str, list[str]] = {}
        self.trust_mismatch = ""  # the field whose role does not trust scheduler.amazonaws.com
        self._check_trust()

    def _check_trust(self) -> None:
        """The chosen existing role's trust policy must let scheduler.amazonaws.com assume it: GetRole,
        within the page's AWS budget; a warning at the field. Moving on with such a role takes a tick
        ("Use this role anyway": the trust policy may be fixed in IAM before the change is applied);
        a role that cannot be read or found is only warned about."""
        mode = self._value("role_mode") or (self.initial.get("role_mode") if not self.is_bound else "")
        field = "role_arn" if mode == ROLE_ARN else "role" if mode == ROLE_EXISTING else ""
        arn = (self._value(field) if self.is_bound else str(self.initial.get(field) or "")).strip() if field else ""
        name = roles.role_name_of(arn)
        environment = self.environment
        if not name or (environment.account_id and roles.role_account_of(arn) != environment.account_id):
            return
        try:
            found = aws.within_budget(lambda: _get_role(environment, name))
        except (aws.BudgetSpent, BotoCoreError, ClientError) as exc:
            message = aws.describe_error(exc) if not isinstance(exc, aws.BudgetSpent) else str(exc)
            self.role_warnings[field] = [f"The role's trust policy could not be checked: {message}"]
            return
        if found is None:
            where = environment.account_id or "this environment's account"
            self.role_warnings[field] = [f"No role {name} exists in account {where}: EventBridge Scheduler "
                                         "would refuse the schedule."]
            return
        group = (self.wizard.change.spec or {}).get("GroupName") or "default"
        context = (roles.scheduler_context(account_id=environment.account_id, region=environment.region, group=group)
                   if environment.account_id else None)
        warning = roles.trust_warning(name, found.get("AssumeRolePolicyDocument"), context=context)
        if warning:
            self.role_warnings[field] = [warning]
            self.trust_mismatch = field

    def _value(self, name: str) -> str:
        return (self.data.get(self.add_prefix(name)) or "") if self.is_bound else ""

    def clean(self):
        cleaned = super().clean()
        retry = dict(DEFAULT_RETRY)
        if not cleaned.get("retry"):
            retry["MaximumRetryAttempts"] = 0
        else:
            hours, minutes = cleaned.get("max_age_hours"), cleaned.get("max_age_minutes")
            if "max_age_hours" not in self.errors and "max_age_minutes" not in self.errors:
                retry["MaximumEventAgeInSeconds"] = (hours or 0) * 3600 + (minutes or 0) * 60
            if cleaned.get("max_retries") is None and "max_retries" not in self.errors:
                self.add_error("max_retries", "Enter the maximum number of retries, from 0 to 185.")
            else:
                retry["MaximumRetryAttempts"] = cleaned.get("max_retries")
        target: dict[str, Any] = {"RetryPolicy": retry}
        mode = cleaned.get("dlq_mode")
        if mode == DLQ_THIS:
            if not cleaned.get("dlq_queue"):
                self.add_error("dlq_queue", "Choose the queue, or choose None.")
            else:
                target["DeadLetterConfig"] = {"Arn": cleaned["dlq_queue"]}
        elif mode == DLQ_OTHER:
            if not (cleaned.get("dlq_arn") or "").strip():
                self.add_error("dlq_arn", "Enter the queue's ARN, or choose None.")
            else:
                target["DeadLetterConfig"] = {"Arn": cleaned["dlq_arn"].strip()}
        role_mode = cleaned.get("role_mode")
        role = ((cleaned.get("role_arn") or "").strip() if role_mode == ROLE_ARN
                else cleaned.get("role") or "")
        role_field = {ROLE_ARN: "role_arn", ROLE_NEW: "new_role_name"}.get(role_mode, "role")
        if role_mode == ROLE_NEW:
            role = self._new_role_arn((cleaned.get("new_role_name") or "").strip())
        elif not role:
            self.add_error(role_field, "Choose the execution role EventBridge Scheduler uses to invoke the target."
                           if role_field == "role" else "Enter the ARN of the execution role.")
        elif self.trust_mismatch == role_field and not cleaned.get("role_trust_ack"):
            self.add_error(role_field, "This role's trust policy does not allow scheduler.amazonaws.com: fix it in "
                                       "IAM, choose another role, or tick “Use this role anyway”.")
        target["RoleArn"] = role
        kms = (cleaned.get("kms_key_arn") or "").strip() if cleaned.get("encryption") else ""
        if cleaned.get("encryption") and not kms:
            self.add_error("kms_key_arn", "Enter the ARN of the customer managed KMS key, or turn encryption "
                                          "customisation off.")
        part = {"State": "ENABLED" if cleaned.get("enabled") else "DISABLED",
                "ActionAfterCompletion": cleaned.get("action_after_completion") or "NONE",
                "Target": {"Arn": "x", **target}}
        if kms:
            part["KmsKeyArn"] = kms
        dlq_field = "dlq_arn" if mode == DLQ_OTHER else "dlq_queue"
        map_spec_errors(self, {"Name": "x", "ScheduleExpression": "rate(1 day)", **part},
                        dict(SPEC_FIELDS, **{"Target.RoleArn": role_field, "Target.DeadLetterConfig.Arn": dlq_field}))
        cleaned.update(target_part=target, state=part["State"], action=part["ActionAfterCompletion"], kms=kms)
        return cleaned

    def _new_role_arn(self, name: str) -> str:
        arn, problem = roles.new_role_arn(name, self.environment)
        if problem:
            self.add_error("new_role_name", problem)
        return arn


def scheduler_role_name_for(target_arn: str) -> str:
    return roles.scheduler_role_name(target_arn)


def _get_role(environment, name: str) -> dict | None:
    try:
        return aws.client(environment, "iam", interactive=True).get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise
