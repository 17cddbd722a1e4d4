"""The pages that show stored figures: a rule's Monitoring tab, a schedule group page, a schedule's Monitoring
tab, the rules list's sparkline and "failing" filter, and Refresh metrics. Pages make no AWS call."""
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from metrics import fetch
from metrics.models import Datapoint, Fetch, FetchState, Watched
from tests.metrics.conftest import five_minutes_ago, rule_row, schedule_row
from tests.support.recording import recorded_calls

pytestmark = [pytest.mark.aws]
calls = pytest.fixture(recorded_calls, name="calls")


def monitoring(client, rule) -> str:
    response = client.get(reverse("rules:rule_detail", args=[rule.pk]) + "?tab=monitoring")
    assert response.status_code == 200
    return response.content.decode()


def totals(html: str) -> dict[str, list[str]]:
    """The totals table as {metric name: [3 hours, 24 hours, 7 days]} (the charts' text alternative)."""
    import re

    table = html.split('data-testid="metrics-totals"')[1].split("</table>")[0]
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\".*?</tr>", table, re.S):
        name = re.search(r"<code[^>]*>(\w+)</code>", row).group(1)
        rows[name] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return rows


def test_a_rule_never_fetched_says_so_and_offers_refresh(client_for, environment, calls):
    rule = rule_row(environment, "quiet")
    html = monitoring(client_for("viewer"), rule)
    assert "Never fetched" in html
    assert 'data-testid="metrics-refresh"' in html
    assert totals(html)["Invocations"] == ["never fetched"] * 3
    assert calls == []  # the page made no AWS call


def test_the_monitoring_tab_shows_totals_zero_versus_no_data_and_the_chart_data(client_for, environment, publish,
                                                                                calls):
    rule = rule_row(environment, "busy", bus="orders")
    dims = {"EventBusName": "orders", "RuleName": "busy"}
    publish("AWS/Events", "Invocations", dims, 4, five_minutes_ago(20))  # within 3 hours
    publish("AWS/Events", "Invocations", dims, 6, five_minutes_ago(600))  # 10 hours ago: 24 hours, 7 days
    publish("AWS/Events", "Invocations", dims, 5, five_minutes_ago(3 * 24 * 60))  # 3 days ago: 7 days only
    publish("AWS/Events", "MatchedEvents", dims, 2, five_minutes_ago(20))
    fetch.environment_fetch(environment)
    calls.clear()

    html = monitoring(client_for("viewer"), rule)

    assert calls == []
    assert "Figures from less than a minute ago" in html
    table = totals(html)
    assert table["Invocations"] == ["4", "10", "15"]
    assert table["MatchedEvents"] == ["2", "2", "2"]
    # only-when-not-zero metrics read 0; the others, never reported, "no data"
    assert table["FailedInvocations"] == ["0", "0", "0"]
    assert table["InvocationsSentToDlq"] == ["0", "0", "0"]
    assert table["ThrottledRules"] == ["no data", "no data", "no data"]
    assert len(table) == 8
    data = json.loads(html.split('<script id="metrics-data" type="application/json">')[1].split("</script>")[0])
    assert data["order"] == ["3h", "24h", "7d"]
    three_hours = data["ranges"]["3h"]
    assert len(three_hours["x"]) == 36 and three_hours["x"][1] - three_hours["x"][0] == 300
    assert sum(v for v in three_hours["series"][0]["values"] if v) == 4
    assert len(data["ranges"]["7d"]["x"]) == 7 * 24 and data["ranges"]["7d"]["x"][1] - data["ranges"]["7d"]["x"][0] == 3600
    assert 'src="/static/vendor/uplot/uPlot.iife.min.js"' in html


def test_the_page_says_how_old_its_figures_are_and_when_the_last_fetch_failed(client_for, environment):
    rule = rule_row(environment, "older")
    Watched.objects.create(environment=environment, namespace="AWS/Events", dimensions="RuleName=older",
                           fetched_at=timezone.now() - timedelta(minutes=4, seconds=10))
    Fetch.objects.create(environment=environment, state=FetchState.FAILED, finished=timezone.now(),
                         error="AWS is throttling requests (too many calls); retried with back-off and still throttled")
    html = monitoring(client_for("viewer"), rule)
    assert "Figures from 4 minutes ago" in html
    assert "The last fetch failed: AWS is throttling requests" in html


def test_refresh_fetches_in_a_worker_is_audited_and_a_second_one_says_how_fresh(client_for, environment, publish,
                                                                                apply_inline, users):
    rule = rule_row(environment, "refreshed")
    publish("AWS/Events", "Invocations", {"RuleName": "refreshed"}, 3, five_minutes_ago(15))
    viewer = client_for("viewer")
    page = reverse("rules:rule_detail", args=[rule.pk]) + "?tab=monitoring"

    response = viewer.post(reverse("metrics:refresh", args=[environment.pk]), {"next": page}, follow=True)

    assert response.redirect_chain[-1][0] == page
    assert "Fetching the metrics of Sandbox" in " ".join(str(m) for m in response.context["messages"])
    assert Fetch.objects.get().state == FetchState.SUCCEEDED
    assert totals(response.content.decode())["Invocations"][0] == "3"
    event = AuditEvent.objects.get(action="metrics.refresh")
    assert (event.actor_id, event.environment_id) == (users["viewer"].pk, environment.pk)

    again = viewer.post(reverse("metrics:refresh", args=[environment.pk]), {"next": page}, follow=True)
    words = " ".join(str(m) for m in again.context["messages"])
    assert "Metrics of Sandbox were fetched" in words and "refresh again in a minute" in words
    assert Fetch.objects.count() == 1


def test_refresh_refuses_a_foreign_next_and_bad_input_without_a_500(client_for, environment):
    viewer = client_for("viewer")
    response = viewer.post(reverse("metrics:refresh", args=[environment.pk]), {"next": "https://evil.example/x"})
    assert response.status_code == 302 and response["Location"] == environment.get_absolute_url()
    assert viewer.post(reverse("metrics:refresh", args=[987654])).status_code == 404
    assert viewer.get(reverse("metrics:refresh", args=[environment.pk])).status_code == 405


def test_the_schedule_group_page_and_the_schedule_monitoring_tab(client_for, environment, publish, calls):
    schedule = schedule_row(environment, "nightly", "batch")
    publish("AWS/Scheduler", "InvocationAttemptCount", {"ScheduleGroup": "batch"}, 3, five_minutes_ago(30))
    fetch.environment_fetch(environment)
    calls.clear()
    viewer = client_for("viewer")

    tab = viewer.get(reverse("schedules:schedule_detail", args=[schedule.pk]) + "?tab=monitoring").content.decode()
    group_url = reverse("metrics:schedule_group", args=[environment.pk, "batch"])
    assert "reports its CloudWatch metrics (AWS/Scheduler) per <strong>schedule group</strong>, not per schedule" in tab
    assert f'href="{group_url}"' in tab

    html = viewer.get(group_url).content.decode()
    assert "Schedule group batch" in html and "not per schedule" in html
    assert totals(html)["InvocationAttemptCount"] == ["3", "3", "3"]
    assert totals(html)["TargetErrorCount"] == ["0", "0", "0"]
    assert 'href="%s"' % schedule.get_absolute_url() in html
    assert calls == []
    assert viewer.get(reverse("metrics:schedule_group", args=[environment.pk, "no such group!"])).status_code == 404


def _list(client, query=""):
    response = client.get(reverse("rules:rule_list") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_rules_list_draws_a_sparkline_for_fetched_rules_and_filters_the_failing(client_for, environment,
                                                                                   production, publish, calls):
    failing_default = rule_row(environment, "fails")
    same_name_elsewhere = rule_row(production, "fails")  # another environment: its own figures
    failing_custom = rule_row(environment, "to-dlq", bus="orders")
    healthy = rule_row(environment, "fine")
    publish("AWS/Events", "Invocations", {"RuleName": "fine"}, 12, five_minutes_ago(40))
    publish("AWS/Events", "FailedInvocations", {"RuleName": "fails"}, 2, five_minutes_ago(40))
    publish("AWS/Events", "InvocationsSentToDlq", {"EventBusName": "orders", "RuleName": "to-dlq"}, 1,
            five_minutes_ago(300))
    publish("AWS/Events", "FailedInvocations", {"RuleName": "fine"}, 0, five_minutes_ago(40))  # a zero: not failing
    fetch.environment_fetch(environment)
    later = rule_row(environment, "not-fetched-yet")
    calls.clear()
    viewer = client_for("viewer")

    html = _list(viewer)
    assert html.count('data-testid="sparkline"') == 3  # the three fetched rules; the fourth shows a dash
    assert 'aria-label="Invocations in the 24 hours up to the last fetch: 12"' in html
    assert "Invocations (24 h)" in html
    assert '<span class="small fw-normal text-secondary" data-testid="sparkline-age">figures from less than a minute ago' \
        in html

    failing = _list(viewer, "?failing=failing")
    for rule in (failing_default, failing_custom):
        assert f'href="{rule.get_absolute_url()}"' in failing
    for rule in (healthy, later, same_name_elsewhere):
        assert f'href="{rule.get_absolute_url()}"' not in failing
    assert calls == []


def test_a_failure_older_than_24_hours_is_not_failing(client_for, environment):
    rule = rule_row(environment, "long-ago")
    Datapoint.objects.create(environment=environment, namespace="AWS/Events", metric="FailedInvocations",
                             dimensions="RuleName=long-ago", period=300, value=3, fetched_at=timezone.now(),
                             timestamp=timezone.now() - timedelta(hours=25))
    assert f'href="{rule.get_absolute_url()}"' not in _list(client_for("viewer"), "?failing=failing")
    assert _list(client_for("viewer"), "?failing=nonsense")  # a bad value is a form error, not a 500


def test_the_list_reads_sparklines_in_one_query_whatever_the_page_size(client_for, environment):
    viewer = client_for("viewer")
    for i in range(3):
        rule_row(environment, f"few-{i}")
    with CaptureQueriesContext(connection) as few:
        _list(viewer)
    for i in range(40):
        rule_row(environment, f"many-{i:02d}")
    with CaptureQueriesContext(connection) as many:
        _list(viewer)
    assert len(few.captured_queries) == len(many.captured_queries)
    assert sum("metrics_watched" in q["sql"] for q in many.captured_queries) == 1
    assert not any("metrics_datapoint" in q["sql"] for q in many.captured_queries)


def test_admins_read_the_fetches_on_the_admin_site(client_for, environment):
    Fetch.objects.create(environment=environment, state=FetchState.SUCCEEDED, calls=2, queries=16,
                         messages=["MaxDatapointsExceeded More datapoints than one answer holds"])
    admin = client_for("admin")
    listing = admin.get(reverse("admin:metrics_fetch_changelist"))
    assert listing.status_code == 200 and "Sandbox" in listing.content.decode()
    page = admin.get(reverse("admin:metrics_fetch_change", args=[Fetch.objects.get().pk]))
    assert page.status_code == 200 and "MaxDatapointsExceeded" in page.content.decode()
