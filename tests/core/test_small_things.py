"""Issue 13's small things: /favicon.ico is served to anyone (a real icon among the static files, linked
from every page), and each list's Status filter lists "Apply failed" once, yet still finds both kinds of
failure (a failed pending change, and an object whose sync status is Failed)."""
import re
import struct

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from changes.choices import ChangeState, SyncStatus
from changes.models import ChangeRequest
from rules.models import Rule
from tests.rules.test_pages import make_rules

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_a_permanent_redirect_to_the_static_icon_without_sign_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("favicon.ico")


def test_the_static_icon_is_a_windows_icon_file():
    path = finders.find("favicon.ico")
    assert path is not None
    data = open(path, "rb").read()
    reserved, kind, count = struct.unpack("<HHH", data[:6])  # ICONDIR: 0, 1 (icon), number of images
    assert (reserved, kind) == (0, 1) and count >= 1
    sizes = {struct.unpack("<BB", data[6 + 16 * i:8 + 16 * i]) for i in range(count)}
    assert (16, 16) in sizes


def test_every_page_links_the_icon(client_for):
    html = client_for("viewer").get(reverse("dashboard:dashboard")).content.decode()
    assert f'<link rel="icon" href="{static("favicon.ico")}"' in html


def _status_options(html: str) -> list[str]:
    select = re.search(r'<select name="status".*?</select>', html, re.S).group(0)
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


@pytest.mark.parametrize("list_url", ["rules:rule_list", "schedules:schedule_list"])
def test_the_status_filter_lists_apply_failed_once(client_for, list_url):
    html = client_for("viewer").get(reverse(list_url)).content.decode()
    options = _status_options(html)
    assert options.count("Apply failed") == 1, options
    assert {"Pending change", "In sync", "Drifted", "Missing in AWS"} <= set(options)


def test_apply_failed_finds_a_failed_change_and_a_failed_sync_status(client_for, users):
    from environments.models import Environment

    env = Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                     account_id="123456789012")
    make_rules(env, 3)
    Rule.objects.filter(name="rule-00000").update(sync_status=SyncStatus.FAILED)
    failed = Rule.objects.get(name="rule-00002")
    ChangeRequest.objects.create(kind="rule", action="update", environment=env, rule=failed, author=users["operator"],
                                 state=ChangeState.FAILED, object_name=failed.object_name)
    table = client_for("viewer").get(reverse("rules:rule_list"), {"status": "apply_failed"}).context["table"]
    assert sorted(r.record.name for r in table.page.object_list) == ["rule-00000", "rule-00002"]
