"""Security headers and `manage.py check --deploy` with production settings."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/rules/sandbox/"])
def test_every_response_has_a_policy_without_inline_script(client_for, client, path):
    caller = client if path != "/rules/sandbox/" else client_for("viewer")
    response = caller.get(path)
    assert response.status_code in (200, 503)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EVENTCONSOLE_", "AUDIT_"))}
    env.update(EVENTCONSOLE_LOCAL_MODE="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
               AUDIT_CHAIN_KEY=secrets.token_urlsafe(32),
               DJANGO_ALLOWED_HOSTS="console.example.com", PYTHONPATH=str(ROOT), **extra)
    return env


def _run(code_or_args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *code_or_args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_with_production_settings_has_no_warnings(tmp_path):
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                _production_env(EVENTCONSOLE_VAR_DIR=str(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


PRODUCTION_REQUESTS = r"""
import django
django.setup()
from django.test import Client
plain, secure = Client(), Client()
home = plain.get("/", HTTP_HOST="console.example.com")
health = plain.get("/healthz", HTTP_HOST="console.example.com")
login = secure.get("/accounts/login/", HTTP_HOST="console.example.com", secure=True)
print(home.status_code, home.get("Location"))
print(health.status_code)
print(login.status_code, login.get("Strict-Transport-Security"))
"""


def test_outside_local_mode_http_is_redirected_and_https_gets_hsts(tmp_path):
    done = _run(["-c", PRODUCTION_REQUESTS],
                _production_env(EVENTCONSOLE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="eventconsole.settings"))
    assert done.returncode == 0, done.stderr
    home, health, login = done.stdout.strip().splitlines()[-3:]
    assert home == "301 https://console.example.com/"
    assert health in ("200", "503")  # load balancers probe over plain HTTP: never redirected
    assert login == "200 max-age=31536000; includeSubDomains; preload"
