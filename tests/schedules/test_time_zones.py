"""Time zones in the schedule pages: the flow starts at the person's last pick (else their browser's zone), a
run table has one column when the zone is UTC, the timeframe reads as a sentence, and the change page a
reviewer reads shows the runs in the zone its heading names.

Expected runs are worked out by hand: cron(0 23 * * ? *) in Europe/London fires at 23:00 London time every
day; British Summer Time ends on Sunday 25 October 2026 (the last Sunday of October), so 23:00 is 22:00 UTC
up to the 24th and 23:00 UTC from the 25th.
"""
import re
from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Preference
from accounts.preferences import BROWSER_ZONE_COOKIE
from changes.models import ChangeRequest
from schedules.preview import preview_context, timeframe_text
from tests.schedules import flow

LONDON_2300 = "cron(0 23 * * ? *)"
BEFORE_THE_CLOCKS_GO_BACK = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)  # a Friday, BST
EC2_INPUT = '{"InstanceIds": ["i-0123456789abcdef0"]}'


# -- the runs, the columns and the timeframe (no database) ---------------------------------------------------
def test_next_runs_in_london_across_the_end_of_summer_time():
    context = preview_context(LONDON_2300, "Europe/London", now=BEFORE_THE_CLOCKS_GO_BACK, count=4)
    shown = [(local.strftime("%a %d %b %H:%M %Z"), utc.strftime("%d %H:%M")) for local, utc in context["preview_runs"]]
    assert shown == [("Fri 23 Oct 23:00 BST", "23 22:00"), ("Sat 24 Oct 23:00 BST", "24 22:00"),
                     ("Sun 25 Oct 23:00 GMT", "25 23:00"), ("Mon 26 Oct 23:00 GMT", "26 23:00")]
    assert context["preview_dst"] and context["preview_utc_beside"]


def test_the_run_table_has_one_column_when_the_zone_is_utc():
    context = preview_context("cron(0 9 * * ? *)", "UTC", now=BEFORE_THE_CLOCKS_GO_BACK, count=2)
    html = render_to_string("schedules/_preview.html", context)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", html) == ["#", "UTC"]
    assert "Sat, 24 Oct 2026 09:00" in html and html.count("2026 09:00") == 2  # each run once


def test_the_run_table_shows_london_then_utc_for_london():
    context = preview_context(LONDON_2300, "Europe/London", now=BEFORE_THE_CLOCKS_GO_BACK, count=1)
    html = render_to_string("schedules/_preview.html", context)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", html) == ["#", "Europe/London", "UTC"]
    assert re.search(r"Fri, 23 Oct 2026 23:00 <span[^>]*>BST</span></td><td>Fri, 23 Oct 2026 22:00</td>", html)


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, "From when it is created (no start date); no end date: it runs until it is deleted."),
    ("2026-12-01T09:00:00Z", None, "From Tue, 01 Dec 2026 09:00 GMT; no end date: it runs until it is deleted."),
    (None, "2027-07-01T08:30:00Z", "From when it is created (no start date) until Thu, 01 Jul 2027 09:30 BST."),
    ("2026-12-01T09:00:00Z", "2027-07-01T08:30:00Z",
     "From Tue, 01 Dec 2026 09:00 GMT until Thu, 01 Jul 2027 09:30 BST."),
])
def test_the_timeframe_reads_as_a_sentence_in_the_schedules_zone(start, end, expected):
    assert timeframe_text(LONDON_2300, "Europe/London", start, end) == expected


def test_a_one_time_schedule_has_no_timeframe():
    assert timeframe_text("at(2027-01-01T10:00:00)", "Europe/London").startswith("Runs once")


# -- the flow and the pages (database, moto over HTTP) ---------------------------------------------------------


def detail_zone(client, draft) -> str:
    return client.get(flow.step_url(draft, "detail")).context["form"]["timezone"].value()


@pytest.mark.django_db
@pytest.mark.aws
def test_a_new_schedule_starts_in_the_browsers_zone_then_in_the_last_zone_picked(client_for, users, environment):
    client = client_for("operator")
    # nothing known yet: UTC, and the browser's script is asked to fill in its own zone
    draft = flow.start(client, environment)
    page = client.get(flow.step_url(draft, "detail")).content.decode()
    assert re.search(r'<input[^>]*name="detail-timezone"[^>]*data-browser-zone', page)
    assert detail_zone(client, draft) == "UTC"
    # the browser said it is in New York (its cookie)
    client.cookies[BROWSER_ZONE_COOKIE] = "America/New_York"
    assert detail_zone(client, flow.start(client, environment)) == "America/New_York"
    # a cookie naming no zone is ignored
    client.cookies[BROWSER_ZONE_COOKIE] = "Mars/Olympus"
    assert detail_zone(client, flow.start(client, environment)) == "UTC"
    client.cookies[BROWSER_ZONE_COOKIE] = "America/New_York"
    # the operator picks Tokyo: the next schedule starts there, wherever the browser is
    flow.post(client, draft, "detail", flow.detail(environment, zone="Asia/Tokyo"), go="save")
    assert Preference.objects.get(user=users["operator"]).time_zone == "Asia/Tokyo"
    assert detail_zone(client, flow.start(client, environment)) == "Asia/Tokyo"
    # a draft keeps its own zone
    assert detail_zone(client, draft) == "Asia/Tokyo"
    # a zone that does not exist is refused at the field and not remembered
    response = flow.post(client, draft, "detail", flow.detail(environment, zone="Mars/Olympus"))
    assert "is not a time zone name" in " ".join(response.context["form"].errors["timezone"])
    assert Preference.objects.get(user=users["operator"]).time_zone == "Asia/Tokyo"


@pytest.mark.django_db
@pytest.mark.aws
def test_upcoming_runs_start_in_the_persons_zone_and_a_wrong_zone_is_said(client_for, users, environment):
    client = client_for("viewer")
    url = reverse("schedules:upcoming")
    assert client.get(url).context["chosen"]["zone"] == "UTC"
    client.cookies[BROWSER_ZONE_COOKIE] = "America/New_York"
    assert client.get(url).context["chosen"]["zone"] == "America/New_York"
    Preference.objects.create(user=users["viewer"], time_zone="Europe/Paris")
    assert client.get(url).context["chosen"]["zone"] == "Europe/Paris"
    assert client.get(url, {"zone": "Asia/Kolkata"}).context["chosen"]["zone"] == "Asia/Kolkata"
    wrong = client.get(url, {"zone": "Mars/Olympus"})
    assert wrong.status_code == 200 and wrong.context["chosen"]["zone"] == "Europe/Paris"
    assert "is not a time zone name" in wrong.content.decode().replace("&quot;", '"')


@pytest.mark.django_db
@pytest.mark.aws
def test_the_change_page_shows_the_runs_in_the_zone_its_heading_names(client_for, production):
    operator = client_for("operator")
    draft = flow.create(operator, production, detail_data=flow.detail(production, cron=("0", "23", "*", "*", "?", "*"),
                                                                      zone="Europe/London"),
                        target_data=flow.universal(input_text=EC2_INPUT),
                        settings_data=flow.settings(flow.role_arn(), retry=False))
    change = ChangeRequest.objects.get(pk=draft)
    html = client_for("reviewer").get(change.get_absolute_url()).content.decode()
    assert re.search(r"Next runs <span[^>]*>\(Europe/London\)</span>", html)
    runs = re.search(r'<ol[^>]*data-testid="next-runs">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", runs, re.S)
    assert len(items) == 5
    for item in items:  # 23:00 in London: 22:00 UTC in summer time, 23:00 UTC in winter
        found = re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} 23:00 <span[^>]*>(BST|GMT)</span> <span[^>]*>\((\d\d):00 UTC\)</span>",
                             item)
        assert found, item
        assert (found.group(1), found.group(2)) in {("BST", "22"), ("GMT", "23")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.aws
def test_an_edit_that_keeps_its_zone_picks_none_and_one_that_changes_it_does(client_for, users, environment,
                                                                              apply_inline):
    client = client_for("operator")
    draft = flow.create(client, environment, detail_data=flow.detail(environment, zone="Europe/London"),
                        target_data=flow.universal(input_text=EC2_INPUT),
                        settings_data=flow.settings(flow.role_arn(), retry=False))
    schedule = ChangeRequest.objects.get(pk=draft).schedule
    Preference.objects.filter(user=users["operator"]).update(time_zone="Asia/Tokyo")  # picked since, elsewhere

    def edit_with(zone):
        response = client.post(reverse("schedules:schedule_action", args=[schedule.pk, "edit"]))
        edit = int(response["Location"].rstrip("/").split("/")[-2])
        assert detail_zone(client, edit) == "Europe/London"  # an edit opens in the schedule's own zone
        flow.post(client, edit, "detail", flow.detail(environment, zone=zone), go="save")
        return Preference.objects.get(user=users["operator"]).time_zone

    assert edit_with("Europe/London") == "Asia/Tokyo"
    assert edit_with("America/Chicago") == "America/Chicago"
