"""Request hygiene and response headers shared by every view."""
from django.conf import settings
from django.http import QueryDict


def _without_nul(data: QueryDict) -> QueryDict | None:
    """A copy of `data` with NUL characters removed, or None when there were none.

    PostgreSQL cannot store NUL in text or JSON, and no person types one: removing it means a stray
    %00 in a URL or form gets the form's ordinary validation instead of a database error.
    """
    if not any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists()):
        return None
    clean = QueryDict(mutable=True)
    for key, values in data.lists():
        clean.setlist(key.replace("\x00", ""), [v.replace("\x00", "") for v in values])
    clean._mutable = False
    return clean


class StripNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cleaned = _without_nul(request.GET)
        if cleaned is not None:
            request.GET = cleaned
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            cleaned = _without_nul(request.POST)
            if cleaned is not None:
                request.POST = cleaned
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY (no inline script, no inline style) on every response.

    Templates carry no inline <script> and no on...= handlers: behaviour lives in static/js and reads
    data- attributes. A view may set its own header first; it is then left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(f"{name} {' '.join(values)}" for name, values in settings.CONTENT_SECURITY_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
