"""Environment actions: test the AWS connection, check the endpoint's health."""
from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .models import Environment


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
