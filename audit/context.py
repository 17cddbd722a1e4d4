"""Who and where, for audit events: set per web request by the middleware, read by audit_record()."""
from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestMeta:
    request_id: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    # The request itself, to name the signed-in user when an event is recorded without an explicit actor
    # (audit.recorder): read then, not now, since signing in replaces request.user.
    request: Any = field(default=None, compare=False, repr=False)


_current: contextvars.ContextVar[RequestMeta | None] = contextvars.ContextVar("audit_request_meta", default=None)


def current_request_meta() -> RequestMeta:
    return _current.get() or RequestMeta()


def request_meta_from(request) -> RequestMeta:
    """Request id from X-Request-ID (set by a load balancer) or a new one; the client's address and agent."""
    request_id = (request.headers.get("X-Request-ID") or "")[:64] or uuid.uuid4().hex
    return RequestMeta(request_id=request_id, ip_address=request.META.get("REMOTE_ADDR") or None,
                       user_agent=(request.headers.get("User-Agent") or "")[:300], request=request)


def current_user():
    """The signed-in user of the current web request, or None (commands, workers, anonymous)."""
    user = getattr(current_request_meta().request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


class RequestMetaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request_meta_from(request)
        request.request_id = meta.request_id
        token = _current.set(meta)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = meta.request_id
        return response
