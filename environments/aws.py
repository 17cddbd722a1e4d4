"""The one boto3 client factory. Every AWS call in EventConsole goes through `client()`.

It sets, in one place:
- the endpoint (empty = real AWS; otherwise the local emulator) and the Region;
- credentials: boto3's default chain for real AWS (never stored in the database); fixed
  dummy keys for an emulator, so no lookup ever leaves the machine;
- an optional role to assume (STS AssumeRole, refreshed before it expires);
- retries: botocore's "standard" mode (throttling and transient errors, exponential back-off
  with jitter) with AWS_RETRY_MAX_ATTEMPTS attempts in all, and connect/read timeouts;
- for calls made while a person waits (the pickers' listings), `interactive=True` clients (one
  attempt, short timeouts) and `within_budget()`, which shares AWS_INTERACTIVE_BUDGET_SECONDS
  across every such call one request makes (`InteractiveBudgetMiddleware` starts the clock);
- the shared rate limit (environments.ratelimit): every request, retries included, first takes a
  token from its account, Region and service's bucket (a `before-send` handler on every client).
  A person's call waits at most what is left of the page's budget (else BudgetSpent); background
  work at most ratelimit.BACKGROUND_MAX_WAIT_SECONDS (else ratelimit.RateLimitExceeded).

`describe_error()` turns any botocore/boto3 exception into words for people.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    ReadTimeoutError,
)
from django.conf import settings

from . import ratelimit

if TYPE_CHECKING:
    from .models import Environment

__all__ = ["client", "client_as_role", "describe_error", "clear_cache", "add_client_hook", "remove_client_hook", "EMULATOR_CREDENTIALS",
           "BudgetSpent", "interactive_budget", "within_budget", "InteractiveBudgetMiddleware"]

EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
USER_AGENT = "EventConsole"
# The error codes botocore's standard retry mode treats as throttling (botocore.retries.standard), and so do we.
THROTTLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException"})

_lock = threading.Lock()
_sessions: dict[tuple, boto3.Session] = {}
_clients: dict[tuple, Any] = {}
# Callables run on every new client (client, environment, service_name). Tests use this to put a
# botocore Stubber or a before-send hook on the real clients, without patching our own code.
_client_hooks: list[Callable[[Any, "Environment", str], None]] = []


def _environment_key(environment: Environment) -> tuple:
    return (environment.pk, environment.region, environment.endpoint_url, environment.role_arn)


# One loader of botocore's service models (JSON files, some of megabytes) for every session: a session made
# afresh (another environment, an edited one, the cache cleared) then builds its clients without reading and
# parsing the models again. The loader only caches what it read; sessions share nothing else through it.
_MODEL_LOADER = botocore.loaders.create_loader()


def _core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _MODEL_LOADER)
    return core


def _base_session(environment: Environment) -> boto3.Session:
    if environment.endpoint_url:
        return boto3.Session(botocore_session=_core_session(), region_name=environment.region, **EMULATOR_CREDENTIALS)
    return boto3.Session(botocore_session=_core_session(), region_name=environment.region)


def _role_session(sts, environment: Environment, role_arn: str, session_name: str) -> boto3.Session:
    """A session in `environment`'s Region under `role_arn`, assumed through `sts` (a client of the credentials
    that may assume it); its credentials refresh themselves before expiry. The first AssumeRole is made here."""
    def refresh() -> dict:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    core = _core_session()
    core._credentials = RefreshableCredentials.create_from_metadata(  # documented way to plug refreshable creds
        metadata=refresh(), refresh_using=refresh, method="sts-assume-role")
    return boto3.Session(botocore_session=core, region_name=environment.region)


def _assumed_role_session(environment: Environment) -> boto3.Session:
    """The environment's own role, assumed with the base credentials."""
    sts = _base_session(environment).client(
        "sts", endpoint_url=environment.endpoint_url or None, config=_config(max_attempts=settings.AWS_RETRY_MAX_ATTEMPTS))
    _rate_limit(sts, environment, "sts", quick=False, interactive=False)
    return _role_session(sts, environment, environment.role_arn, f"EventConsole-{environment.pk or 'new'}")


def _session(environment: Environment) -> boto3.Session:
    key = _environment_key(environment)
    with _lock:
        session = _sessions.get(key)
    if session is None:
        session = _assumed_role_session(environment) if environment.role_arn else _base_session(environment)
        with _lock:
            _sessions[key] = session
    return session


def _config(*, max_attempts: int, connect_timeout: float | None = None, read_timeout: float | None = None) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout or settings.AWS_CONNECT_TIMEOUT,
        read_timeout=read_timeout or settings.AWS_READ_TIMEOUT,
        user_agent_extra=USER_AGENT,
    )


def client(environment: Environment, service_name: str, *, quick: bool = False, interactive: bool = False):
    """A boto3 client for `service_name` in `environment`.

    quick=True gives one attempt and short timeouts (health checks, Test connection), so a
    dead endpoint is reported in seconds rather than after the full retry budget.
    interactive=True (listings for the forms) gives one attempt and connect/read timeouts of
    AWS_INTERACTIVE_BUDGET_SECONDS; run its calls through `within_budget()`.
    """
    key = (*_environment_key(environment), environment.account_id, environment.api_rate_limit, service_name, quick,
           interactive)
    with _lock:
        cached = _clients.get(key)
    if cached is not None:
        return cached
    return _client_made(key, _session(environment), environment, service_name, _config_for(quick, interactive),
                        quick=quick, interactive=interactive)


def _config_for(quick: bool, interactive: bool) -> Config:
    """quick: one attempt, health-check timeouts; interactive: one attempt within the page's budget; else the
    full retry budget."""
    if quick:
        return _config(max_attempts=1, connect_timeout=settings.AWS_HEALTH_TIMEOUT,
                       read_timeout=settings.AWS_HEALTH_TIMEOUT)
    if interactive:
        return _config(max_attempts=1, connect_timeout=settings.AWS_INTERACTIVE_BUDGET_SECONDS,
                       read_timeout=settings.AWS_INTERACTIVE_BUDGET_SECONDS)
    return _config(max_attempts=settings.AWS_RETRY_MAX_ATTEMPTS)


def _client_made(key: tuple, session: boto3.Session, environment: Environment, service_name: str, config: Config, *,
                 quick: bool, interactive: bool):
    """A new client of `session` with the hooks and the shared rate limit, cached under `key` (the first one made
    wins when two threads race)."""
    new = session.client(service_name, endpoint_url=environment.endpoint_url or None, config=config)
    for hook in list(_client_hooks):
        hook(new, environment, service_name)
    _rate_limit(new, environment, service_name, quick=quick, interactive=interactive)  # after the hooks: they count
    with _lock:
        return _clients.setdefault(key, new)


def client_as_role(environment: Environment, role_arn: str, service_name: str, *, interactive: bool = False,
                   session_name: str = "EventConsole"):
    """A client for `service_name` in `environment` under `role_arn`, assumed (STS AssumeRole) with the
    environment's own credentials (its role, when it has one): a target's execution role, for calls made
    as that role would make them (delivery.invoke). Credentials refresh before they expire; retries,
    timeouts, hooks and the rate limit are those of `client()`. The AssumeRole call is made here, so a
    role that cannot be assumed raises the ClientError now."""
    config = _config_for(False, interactive)
    session_key = (*_environment_key(environment), "as-role", role_arn, session_name, interactive)
    with _lock:
        session = _sessions.get(session_key)
    if session is None:
        sts = _session(environment).client("sts", endpoint_url=environment.endpoint_url or None, config=config)
        _rate_limit(sts, environment, "sts", quick=False, interactive=interactive)
        session = _role_session(sts, environment, role_arn, session_name[:64])
        with _lock:
            session = _sessions.setdefault(session_key, session)
    key = (*session_key, environment.account_id, environment.api_rate_limit, service_name)
    with _lock:
        cached = _clients.get(key)
    if cached is not None:
        return cached
    return _client_made(key, session, environment, service_name, config, quick=False, interactive=interactive)


def _rate_limit(new, environment: Environment, service_name: str, *, quick: bool, interactive: bool) -> None:
    """Every request `new` sends (each attempt) first takes a token from the shared bucket."""
    bucket = ratelimit.bucket_for(environment, service_name)

    def take_token(**_):
        if interactive:
            deadline = _budget_deadline.get()
            bound = settings.AWS_INTERACTIVE_BUDGET_SECONDS if deadline is None else deadline - time.monotonic()
        elif quick:
            bound = settings.AWS_HEALTH_TIMEOUT
        else:
            bound = ratelimit.BACKGROUND_MAX_WAIT_SECONDS
        try:
            ratelimit.acquire(bucket, max_wait=bound)
        except ratelimit.WaitTooLong as exc:
            if interactive:
                raise BudgetSpent(settings.AWS_INTERACTIVE_BUDGET_SECONDS) from exc
            raise ratelimit.RateLimitExceeded(
                rate=bucket.rate, service=service_name, scope=f"{environment.account_id or environment.endpoint_url} "
                f"{environment.region}", wait=exc.wait, bound=exc.bound) from exc

    new.meta.events.register("before-send", take_token, unique_id="eventconsole-rate-limit")


# ---------------------------------------------------------------------------------------------
# The interactive budget: AWS calls made while a person waits share a few seconds in all.
# ---------------------------------------------------------------------------------------------
class BudgetSpent(Exception):
    """An interactive AWS call did not finish within what was left of the request's budget."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"AWS did not answer within {seconds:g} s (this page's time budget for AWS calls)")


_budget_deadline: ContextVar[float | None] = ContextVar("aws_interactive_deadline", default=None)
# Calls run here so the page can stop waiting for them; one that outlives the budget ends by itself
# at the interactive client's own timeout (and a listing it finishes is still cached for next time).
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="aws-interactive")


@contextmanager
def interactive_budget(seconds: float | None = None) -> Iterator[None]:
    """Within the block, `within_budget()` calls share `seconds` (AWS_INTERACTIVE_BUDGET_SECONDS) in all."""
    total = settings.AWS_INTERACTIVE_BUDGET_SECONDS if seconds is None else seconds
    token = _budget_deadline.set(time.monotonic() + total)
    try:
        yield
    finally:
        _budget_deadline.reset(token)


def within_budget(call: Callable[[], Any]) -> Any:
    """`call()`'s result, or BudgetSpent once the request's interactive budget has run out.

    Outside `interactive_budget()` (a shell, a task) the call gets a budget of its own.
    """
    total = settings.AWS_INTERACTIVE_BUDGET_SECONDS
    deadline = _budget_deadline.get()
    if deadline is None:
        deadline = time.monotonic() + total
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise BudgetSpent(total)
    future = _pool.submit(_with_deadline, deadline, call)
    try:
        return future.result(timeout=remaining)
    except FutureTimeout:
        raise BudgetSpent(total) from None
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        # The interactive clients' own timeouts are the budget: on a busy machine they may fire before
        # this wait ends. Either way the page's budget is spent, and the person reads the same words.
        raise BudgetSpent(total) from exc


def _with_deadline(deadline: float, call: Callable[[], Any]) -> Any:
    """Run `call` (in a pool thread) under the page's deadline, so the rate limit waits no longer than it."""
    token = _budget_deadline.set(deadline)
    try:
        return call()
    finally:
        _budget_deadline.reset(token)


class InteractiveBudgetMiddleware:
    """Every web request gets one AWS_INTERACTIVE_BUDGET_SECONDS budget for its interactive AWS calls."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with interactive_budget():
            return self.get_response(request)


def clear_cache() -> None:
    """Forget every cached session and client (after an environment is edited, or between tests)."""
    with _lock:
        _sessions.clear()
        _clients.clear()


def add_client_hook(hook: Callable[[Any, Environment, str], None]) -> None:
    with _lock:
        _client_hooks.append(hook)
    clear_cache()


def remove_client_hook(hook: Callable[[Any, Environment, str], None]) -> None:
    with _lock:
        if hook in _client_hooks:
            _client_hooks.remove(hook)
    clear_cache()


_CODE_WORDS = {
    "AccessDenied": "AWS refused the call: the credentials are not allowed to do this",
    "AccessDeniedException": "AWS refused the call: the credentials are not allowed to do this",
    "UnauthorizedOperation": "AWS refused the call: the credentials are not allowed to do this",
    "ExpiredToken": "The AWS credentials have expired",
    "ExpiredTokenException": "The AWS credentials have expired",
    "InvalidClientTokenId": "AWS does not recognise the access key",
    "UnrecognizedClientException": "AWS does not recognise the access key",
    "SignatureDoesNotMatch": "The AWS secret key does not match the access key",
    "ThrottlingException": "AWS is throttling requests (too many calls); retried with back-off and still throttled",
    "Throttling": "AWS is throttling requests (too many calls); retried with back-off and still throttled",
    "TooManyRequestsException": "AWS is throttling requests (too many calls); retried with back-off and still throttled",
    "ValidationException": "AWS rejected the request as invalid",
    "ResourceNotFoundException": "The AWS resource does not exist",
    "LimitExceededException": "An AWS quota was exceeded",
    "ConcurrentModificationException": "Someone else changed this resource at the same moment; try again",
}


def describe_error(exc: BaseException) -> str:
    """A sentence for people: what went wrong talking to AWS, and the AWS message when there is one."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = (error.get("Message") or "").strip()
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code.isdigit() or (status and status >= 500 and code not in _CODE_WORDS):
            head = f"The AWS endpoint failed with an internal error (HTTP {status or code})"
            return head if "<html" in message.lower() or not message else f"{head}: {message[:300]}"
        words = _CODE_WORDS.get(code)
        operation = exc.operation_name
        detail = f"{code}: {message}" if message else code
        return f"{words} ({operation}: {detail})." if words else f"AWS returned an error for {operation}: {detail}."
    if isinstance(exc, EndpointConnectionError):
        return f"Could not connect to the AWS endpoint {exc.kwargs.get('endpoint_url', '')}: nothing answered there."
    if isinstance(exc, ConnectTimeoutError):
        return f"Timed out connecting to the AWS endpoint {exc.kwargs.get('endpoint_url', '')}."
    if isinstance(exc, ReadTimeoutError):
        return f"The AWS endpoint {exc.kwargs.get('endpoint_url', '')} did not answer in time."
    if isinstance(exc, NoCredentialsError):
        return ("No AWS credentials were found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), "
                "or run on a machine with an instance or task role.")
    if isinstance(exc, NoRegionError):
        return "No AWS Region is set for this environment."
    if isinstance(exc, (ratelimit.RateLimitExceeded, ratelimit.RateLimitUnavailable)):
        return f"{exc}."
    if isinstance(exc, ParamValidationError):
        return f"The request was not valid before it was sent: {exc}"
    if isinstance(exc, BotoCoreError):
        return f"AWS client error: {exc}"
    return f"Unexpected error talking to AWS: {type(exc).__name__}: {exc}"
