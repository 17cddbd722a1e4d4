"""Sign-in, sign-out, throttling of failed sign-ins, demo users."""
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from accounts.demo import credentials_file, demo_users_seed
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_sign_in_and_out(client, users):
    response = sign_in(client, "operator", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:dashboard")
    page = client.get(reverse("dashboard:dashboard"))
    assert b"operator" in page.content and b"Environments" in page.content
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard:dashboard")).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, users):
    response = sign_in(client, "operator", "nope")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


@override_settings(AXES_FAILURE_LIMIT=3)
def test_failed_sign_ins_are_throttled(client, users):
    for _ in range(3):
        sign_in(client, "operator", "wrong")
    # Now even the right password is refused for a while.
    response = sign_in(client, "operator", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    # Another user from the same address is not locked out.
    assert sign_in(client, "reviewer", PASSWORD).status_code == 302


@pytest.fixture
def isolated_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_demo_users_are_idempotent_and_passwords_work(client, isolated_var):
    first = demo_users_seed()
    assert {r["username"] for r in first} == {"operator", "reviewer", "viewer", "admin"}
    assert all(r["created"] for r in first)
    second = demo_users_seed()
    assert not any(r["created"] for r in second)
    assert [r["password"] for r in first] == [r["password"] for r in second]
    saved = json.loads(credentials_file().read_text())
    assert sign_in(client, "reviewer", saved["reviewer"]).status_code == 302


def test_no_demo_users_outside_local_mode(settings, isolated_var):
    settings.LOCAL_MODE = False
    with pytest.raises(CommandError, match="only in local mode"):
        call_command("seed_demo_users")
    with pytest.raises(CommandError, match="only seeded in local mode"):
        call_command("seed_demo_aws")


def test_set_roles_command(users, capsys):
    call_command("set_roles", "viewer", "Operators", "Reviewers")
    assert sorted(g.name for g in users["viewer"].groups.all()) == ["Operators", "Reviewers"]
    with pytest.raises(CommandError, match="No user"):
        call_command("set_roles", "ghost", "Operators")
