"""Opening the create-schedule flow and clicking through its first step (shared by the browser tests)."""
import re

from playwright.sync_api import expect


def create_schedule_opened(page, environment: str = "Sandbox") -> None:
    """From the Schedules list, "Create schedule" in `environment`: the flow's first step is open."""
    page.goto("/schedules/")
    page.get_by_label("Environment for the new schedule").select_option(label=environment)
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_role("heading", name="Specify schedule detail")).to_be_visible()


def new_schedule_at_target_step(page, name: str) -> None:
    """A new rate-based schedule called `name` in Sandbox, standing at the Select target step."""
    create_schedule_opened(page)
    page.get_by_label("Schedule name").fill(name)
    page.get_by_label("Recurring schedule").check()
    page.get_by_label("Rate-based schedule", exact=False).check()
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(page.get_by_role("heading", name="Select target")).to_be_visible()
