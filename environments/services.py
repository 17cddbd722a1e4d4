"""Environment actions: test the AWS connection, check the endpoint's health."""
from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.forms.models import model_to_dict

from audit.choices import AuditAction, ObjectType
from audit.recorder import audit_explicit
from audit.services import audit_record

from . import aws
from .models import Environment

AUDITED_FIELDS = ("name", "description", "account_id", "region", "endpoint_url", "role_arn", "is_production",
                  "approvals_required")


def environment_snapshot(environment: Environment | None) -> dict | None:
    return model_to_dict(environment, fields=AUDITED_FIELDS) if environment is not None and environment.pk else None


@audit_explicit(Environment)  # records its own event, with the actor
def environment_save(form, *, actor) -> Environment:
    """Create or update an environment from a valid EnvironmentForm; the audit event says what changed."""
    before = environment_snapshot(Environment.objects.filter(pk=form.instance.pk).first()) if form.instance.pk else None
    with transaction.atomic():
        environment = form.save()
        audit_record(action=AuditAction.ENVIRONMENT_CHANGED, object_type=ObjectType.ENVIRONMENT,
                     object_id=environment.pk, object_repr=environment.name, environment=environment, actor=actor,
                     before=before, after=environment_snapshot(environment),
                     message="Environment created" if before is None else "Environment changed")
    aws.clear_cache()
    return environment


@audit_explicit(Environment)
def environment_delete(environment: Environment, *, actor) -> None:
    """Delete an environment (refused with ProtectedError while rules or schedules use it)."""
    with transaction.atomic():
        audit_record(action=AuditAction.ENVIRONMENT_CHANGED, object_type=ObjectType.ENVIRONMENT,
                     object_id=environment.pk, object_repr=environment.name, actor=actor,
                     before=environment_snapshot(environment), after=None, message="Environment deleted")
        environment.delete()
    aws.clear_cache()


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str
    account: str = ""
    arn: str = ""
    warning: str = ""


def environment_test_connection(environment: Environment) -> ConnectionResult:
    """STS GetCallerIdentity: who are we in this environment? Errors come back in words."""
    try:
        identity = aws.client(environment, "sts", quick=True).get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        return ConnectionResult(ok=False, message=aws.describe_error(exc))
    account, arn = identity["Account"], identity["Arn"]
    warning = ""
    if environment.account_id and environment.account_id != account:
        warning = (f"These credentials reach account {account}, but this environment is set up for account "
                   f"{environment.account_id}.")
    where = "the local emulator" if environment.is_emulated else "AWS"
    return ConnectionResult(ok=True, message=f"Connected to {where} as {arn} (account {account}, "
                            f"Region {environment.region}).", account=account, arn=arn, warning=warning)


def environment_check_endpoint(environment: Environment) -> tuple[bool, str]:
    """For /healthz: is the environment's AWS endpoint answering?"""
    result = environment_test_connection(environment)
    return result.ok, result.message
