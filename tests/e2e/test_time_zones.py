"""An operator in New York: the schedule flow and Upcoming runs start in the browser's own time zone, the
zone list is searchable with each zone's offset, and the zone picked last is the default next time.

Headless Chromium (Playwright) with the browser's clock set to America/New_York, against the live server;
schedule groups are listed from a moto server.
"""
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.aws, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_york(browser, live_server):
    """A page in a browser whose clocks read New York time."""
    context = browser.new_context(base_url=live_server.url, timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def offset_words(zone: str) -> str:
    """The zone's offset from UTC right now, as the list prints it ("UTC-05:00", with the keyboard's "-" that a
    person types to search it), from zoneinfo itself."""
    minutes = int(datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def start_schedule(page):
    page.goto("/schedules/")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_role("heading", name="Specify schedule detail")).to_be_visible()


def test_the_operator_in_new_york_starts_in_their_own_zone_and_the_last_pick_is_remembered(
        new_york, users, environment, production):
    page = new_york
    sign_in(page, "operator")

    # Upcoming runs: times shown in the browser's zone at once
    page.goto("/schedules/")
    page.get_by_role("link", name="Upcoming runs").click()
    expect(page.get_by_label("Show times in")).to_have_value("America/New_York")

    # Create schedule starts in Sandbox (not production) and in the browser's zone
    page.goto("/schedules/")
    expect(page.get_by_label("Environment for the new schedule")).to_have_value(str(environment.pk))
    start_schedule(page)
    expect(page.get_by_role("combobox", name=re.compile(r"^Environment"))).to_have_value(str(environment.pk))
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("America/New_York")
    # The list of zones is there to search, each with its offset now
    expect(page.locator('datalist option[value="America/New_York"]')).to_have_text(
        f"America/New_York ({offset_words('America/New_York')})")
    expect(page.locator('datalist option[value="Asia/Kolkata"]')).to_have_text("Asia/Kolkata (UTC+05:30)")

    page.get_by_label("Schedule name").fill("tz_remembered")
    page.get_by_label("Recurring schedule").check()
    page.get_by_label("Cron-based schedule", exact=False).check()
    page.get_by_label("Hours", exact=True).fill("23")

    # A zone that does not exist is refused at the field
    zone.fill("Mars/Olympus")
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(page.get_by_role("strong").filter(has_text='"Mars/Olympus" is not a time zone name')).to_be_visible()

    # The operator picks Paris: the runs are shown in Paris time, with UTC beside
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Time zone").blur()
    expect(page.get_by_test_id("next-runs").locator("thead")).to_contain_text("Europe/Paris")
    expect(page.get_by_test_id("next-runs").locator("thead")).to_contain_text("UTC")
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(page.get_by_role("heading", name="Select target")).to_be_visible()

    # Next time, Paris is where the flow (and Upcoming runs) start, although the browser is in New York
    start_schedule(page)
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    page.goto("/schedules/upcoming/")
    expect(page.get_by_label("Show times in")).to_have_value("Europe/Paris")


def test_a_schedule_in_utc_shows_its_runs_in_one_column(new_york, users, environment):
    page = new_york
    sign_in(page, "operator")
    start_schedule(page)
    page.get_by_label("Schedule name").fill("tz_utc")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Time zone").blur()
    header = page.get_by_test_id("next-runs").locator("thead th")
    expect(header).to_have_text(["#", "UTC"])
