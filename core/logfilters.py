"""Logging filters: a refused request is one line, a server error keeps its traceback."""
from __future__ import annotations

import logging


class ForbiddenOneLine(logging.Filter):
    """On django.request: a 403 (PermissionDenied) becomes "Forbidden: METHOD /path (user NAME)", no traceback.

    Django logs every PermissionDenied with the exception's traceback, which buries real errors
    under expected refusals. Records of any other status pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        request = getattr(record, "request", None)
        user = getattr(request, "user", None)
        name = user.get_username() if getattr(user, "is_authenticated", False) else "anonymous"
        record.msg, record.args = "Forbidden: %s %s (user %s)", (
            getattr(request, "method", "?"), getattr(request, "path", "?"), name)
        record.exc_info, record.exc_text = None, None
        return True
