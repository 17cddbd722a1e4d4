"""A scheduled rule runs in UTC (EventBridge rules have no time zone): its preview lists the runs in UTC, with
the person's own time in their zone beside (the zone their browser reported, or the one they last picked).

cron(0 23 * * ? *) fires at 23:00 UTC: 18:00 in New York in winter (EST, UTC−5), 19:00 in summer (EDT)."""
import re

import pytest

from accounts.preferences import BROWSER_ZONE_COOKIE
from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

CRON_2300 = {"schedule-schedule_kind": "cron", "schedule-minutes": "0", "schedule-hours": "23",
             "schedule-day_of_month": "*", "schedule-month": "*", "schedule-day_of_week": "?", "schedule-year": "*"}


def test_the_runs_are_in_utc_with_the_persons_time_beside(operator, environment):
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment, name="nightly", rule_type="schedule"))
    url = f"/rules/drafts/{draft}/schedule-preview/"
    in_utc = operator.post(url, CRON_2300).content.decode()
    assert in_utc.count("<li>") == 10 and "23:00 UTC" in in_utc and " in " not in in_utc
    operator.cookies[BROWSER_ZONE_COOKIE] = "America/New_York"
    beside = operator.post(url, CRON_2300).content.decode()
    items = re.findall(r"<li>(.*?)</li>", beside, re.S)
    assert len(items) == 10
    for item in items:
        found = re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} 23:00 UTC <span[^>]*>\(\w{3} (\d\d):00 (EST|EDT) in "
                             r"America/New_York\)</span>", item)
        assert found and (found.group(1), found.group(2)) in {("18", "EST"), ("19", "EDT")}, item
