"""Every URL pattern of the project, requested anonymously, redirects to sign-in.

The patterns are found by walking the URL resolver, so new pages are covered automatically.
Only the sign-in pages, /healthz, /favicon.ico and static files are public.
"""
import re
import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "healthz", "admin:login", "favicon"}
SAMPLE = {"int": "1", "slug": "x", "str": "x", "uuid": "00000000-0000-0000-0000-000000000001", "path": "1"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", prefix + str(entry.pattern)


def _example_path(route: str) -> str:
    """Turn a route ('rules/<int:pk>/' or a regex like '^(?P<app_label>auth|core)/$') into a concrete path."""
    if "(?P" in route or "^" in route:
        route = re.sub(r"\(\?P<\w+>([a-z_]+)(\|[^)]*)?\)", r"\1", route)  # admin app_label alternatives
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
        route = route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), route)


ALL_ROUTES = sorted({(name, _example_path(route)) for name, route in _walk(get_resolver().url_patterns)})
# Public by design (checked in test_public_pages): sign-in pages, /healthz and /favicon.ico.
ROUTES = [(name, path) for name, path in ALL_ROUTES if name not in PUBLIC]


def test_the_walk_finds_the_project_pages():
    names = {name for name, _ in ALL_ROUTES}
    assert {"dashboard:dashboard", "environments:environment_list", "environments:environment_test", "healthz"} <= names


@pytest.mark.parametrize(("name", "path"), ROUTES, ids=[f"{n or '-'} {p}" for n, p in ROUTES])
def test_anonymous_request_redirects_to_sign_in(client, name, path):
    for method in (client.get, client.post):
        response = method(path, follow=True)
        assert response.redirect_chain, f"{method.__name__.upper()} {path} answered {response.status_code}"
        assert response.request["PATH_INFO"] == resolve_url(settings.LOGIN_URL), response.redirect_chain
        assert response.status_code == 200


def test_public_pages(client):
    assert client.get(resolve_url(settings.LOGIN_URL)).status_code == 200
    assert client.get("/healthz").status_code in (200, 503)
