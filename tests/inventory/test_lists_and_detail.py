"""Rules and schedules lists with unmanaged objects (filter, Owner, selection) and the read-only page of an
object EventConsole does not manage (what AWS has, where it came from, no actions; action URLs refused)."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changes.models import ChangeRequest
from rules.models import Rule
from schedules.models import Schedule
from tests.inventory.conftest import (
    discovered_rule, discovered_schedule, managed_rule, managed_schedule,
)

pytestmark = pytest.mark.django_db

STACK = {"name": "orders-stack", "id": "arn:aws:cloudformation:us-east-1:111111111111:stack/orders-stack/1f2e",
         "logical_id": "OrdersRule"}
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:billing"


def rows(body: str) -> dict[str, str]:
    """name -> the row's HTML, for every row of the page's table."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        name = re.search(r'<a href="/(?:rules|schedules)/\d+/">([^<]+)</a>', row)
        if name:
            found[name.group(1)] = row
    return found


def names(page) -> set[str]:
    return {r.record.name for r in page.context["table"].page.object_list}


@pytest.fixture
def mixed(envs):
    a = envs["a"]
    return {
        "managed": managed_rule(a, "managed-rule", pattern={"source": ["aws.s3"]}),
        "plain": discovered_rule(a, "hand-made", pattern={"source": ["com.shop"]}),
        "service": discovered_rule(a, "Events-Archive-1", pattern={"source": ["x"]},
                                   owner_service="prod.vhs.events.aws.internal"),
        "stack": discovered_rule(a, "orders-rule", pattern={"source": ["com.shop.orders"]}, stack=STACK),
    }


@pytest.mark.parametrize(("managed", "expected"), [
    ("", {"managed-rule", "hand-made", "Events-Archive-1", "orders-rule"}),
    ("all", {"managed-rule", "hand-made", "Events-Archive-1", "orders-rule"}),
    ("managed", {"managed-rule"}),
    ("unmanaged", {"hand-made", "Events-Archive-1", "orders-rule"}),
])
def test_rules_list_filters_managed_unmanaged_and_all(client_for, mixed, managed, expected):
    page = client_for("viewer").get(reverse("rules:rule_list"), {"managed": managed} if managed else {})
    assert page.status_code == 200
    assert names(page) == expected


def test_rules_list_status_unmanaged_owner_column_and_selection(client_for, mixed):
    client = client_for("operator")
    page = client.get(reverse("rules:rule_list"))
    body = page.content.decode()
    assert '<option value="unmanaged">Unmanaged</option>' in body  # the Status filter lists it
    assert names(client.get(reverse("rules:rule_list"), {"status": "unmanaged"})) == {
        "hand-made", "Events-Archive-1", "orders-rule"}
    table = rows(body)
    assert set(table) == {"managed-rule", "hand-made", "Events-Archive-1", "orders-rule"}
    assert "EventConsole" in table["managed-rule"]
    assert "prod.vhs.events.aws.internal" in table["Events-Archive-1"]
    assert "CloudFormation: orders-stack" in table["orders-rule"]
    assert "EventConsole" not in table["hand-made"] and "CloudFormation" not in table["hand-made"]
    assert 'data-status="unmanaged">Unmanaged</span>' in table["hand-made"]
    for name, rule in mixed.items():  # the first cell selects the row for the bulk actions' form
        first = re.search(r"<td>(.*?)</td>", table[rule.name], flags=re.S).group(1)
        assert first == (f'<input type="checkbox" class="form-check-input" name="pk" value="{rule.pk}" '
                         f'form="batch-form" aria-label="Select {rule.name}">')
    assert 'id="batch-form"' in body
    assert body.index('id="batch-form"') < body.index('id="rule-table"')  # above the table, outside its partial
    partial = client.get(reverse("rules:rule_list"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="batch-form"' not in partial and 'form="batch-form"' in partial


def test_schedules_list_filter_owner_and_selection(client_for, envs):
    a = envs["a"]
    managed = managed_schedule(a, "nightly", expression="cron(0 2 * * ? *)")
    found = discovered_schedule(a, "poller", group="ops")
    stacked = discovered_schedule(a, "stacked", stack={**STACK, "logical_id": "Nightly"})
    client = client_for("viewer")
    url = reverse("schedules:schedule_list")
    assert names(client.get(url)) == {"nightly", "poller", "stacked"}
    assert names(client.get(url, {"managed": "managed"})) == {"nightly"}
    assert names(client.get(url, {"managed": "unmanaged"})) == {"poller", "stacked"}
    assert names(client.get(url, {"status": "unmanaged"})) == {"poller", "stacked"}
    table = rows(client.get(url).content.decode())
    assert "EventConsole" in table["nightly"] and "CloudFormation: orders-stack" in table["stacked"]
    for schedule in (managed, found, stacked):
        assert (f'<input type="checkbox" class="form-check-input" name="pk" value="{schedule.pk}" form="batch-form" '
                f'aria-label="Select {schedule.name}">') in table[schedule.name]


@pytest.mark.parametrize("query", [{"managed": "bogus"}, {"managed": ["managed", "unmanaged"]}, {"status": "x"}])
def test_lists_never_fail_on_bad_filter_values(client_for, mixed, query):
    for url in (reverse("rules:rule_list"), reverse("schedules:schedule_list")):
        assert client_for("viewer").get(url, query).status_code == 200


def test_unmanaged_rule_page_is_read_only_and_says_where_it_came_from(client_for, envs):
    rule = discovered_rule(envs["a"], "orders-rule", bus="shop",
                           pattern={"source": ["com.shop.orders"], "detail-type": ["Order Placed"]},
                           targets=[{"Id": "billing", "Arn": LAMBDA,
                                     "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:111111111111:dlq"}}],
                           tags=[("team", "payments")], stack=STACK)
    page = client_for("operator").get(rule.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    # What AWS has, explained as a managed rule's desired spec is: the sources, the pattern, targets, tags.
    assert "com.shop.orders" in body and "Order Placed" in body and LAMBDA in body
    assert "DLQ arn:aws:sqs:us-east-1:111111111111:dlq" in body and "team=payments" in body
    assert 'data-testid="diagram"' in body and 'data-testid="live-only"' in body
    origin = body.split('data-testid="origin"')[1].split("</dl>")[0]
    assert "orders-stack" in origin and "OrdersRule" in origin and STACK["id"] in origin
    assert "discovery run #7" in origin and "First seen by discovery" in origin
    assert "Edits made here once it is adopted will drift the stack." in origin
    for action in ("edit", "enable", "disable", "clone"):
        assert reverse("rules:rule_action", args=[rule.pk, action]) not in body
    assert reverse("rules:rule_delete", args=[rule.pk]) not in body
    assert "Versions" not in body


def test_origin_without_a_stack_record_or_a_discovery_run(client_for, envs):
    """A stack name with no stack in the origin, an origin that is not a mapping: the page still draws."""
    rule = discovered_rule(envs["a"], "sparse", pattern={"source": ["x"]})
    for origin in ({}, {"stack": "odd"}, ["odd"], {"adopted_by_change": "x"}):
        Rule.objects.filter(pk=rule.pk).update(stack_name="legacy-stack", origin=origin)
        page = client_for("viewer").get(rule.get_absolute_url())
        assert page.status_code == 200 and "legacy-stack" in page.content.decode()


def test_a_rule_an_aws_service_manages_names_it(client_for, envs):
    rule = discovered_rule(envs["a"], "AWSUserNotificationsManagedRule-1", pattern={"source": ["aws.health"]},
                           owner_service="notifications.amazonaws.com")
    body = client_for("operator").get(rule.get_absolute_url()).content.decode()
    assert "Managed by notifications.amazonaws.com: read-only, cannot be adopted." in body


def test_unmanaged_schedule_page_shows_live_spec_and_next_runs(client_for, envs):
    schedule = discovered_schedule(envs["b"], "nightly-export", group="exports", expression="cron(30 2 * * ? *)",
                                   zone="Europe/Paris", target_arn=LAMBDA)
    page = client_for("operator").get(schedule.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "cron(30 2 * * ? *)" in body and "Europe/Paris" in body and LAMBDA in body
    runs = body.split('data-testid="next-runs"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert runs.count("<tr>") == 10 and "02:30" in runs  # ten runs ahead, at 02:30 in its own zone
    assert 'data-testid="live-only"' in body and "Desired spec" not in body and 'data-testid="origin"' in body
    for action in ("edit", "enable", "disable", "clone"):
        assert reverse("schedules:schedule_action", args=[schedule.pk, action]) not in body


@pytest.mark.parametrize("kind", ["rule", "schedule"])
def test_action_urls_on_an_unmanaged_object_are_refused_with_a_message(client_for, envs, kind):
    target = (discovered_rule(envs["a"], "found", pattern={"source": ["x"]}) if kind == "rule"
              else discovered_schedule(envs["a"], "found"))
    app = f"{kind}s"
    client = client_for("operator")
    for action in ("edit", "enable", "disable", "clone", "delete"):
        response = client.post(reverse(f"{app}:{kind}_action", args=[target.pk, action]), follow=True)
        assert response.status_code == 200 and response.redirect_chain[0][0] == target.get_absolute_url()
        assert "does not manage this" in response.content.decode()
    confirm = client.get(reverse(f"{app}:{kind}_delete", args=[target.pk]), follow=True)
    assert confirm.redirect_chain[0][0] == target.get_absolute_url()
    assert client.post(reverse(f"{app}:{kind}_delete", args=[target.pk])).status_code == 302
    if kind == "rule":
        fixed = client.post(reverse("rules:rule_action", args=[target.pk, "fix-permissions"]), follow=True)
        assert "does not manage this" in fixed.content.decode()
    assert not ChangeRequest.objects.exists()
    model = Rule if kind == "rule" else Schedule
    assert model.objects.get(pk=target.pk).desired_spec is None


def test_managed_objects_keep_their_actions(client_for, envs):
    rule = managed_rule(envs["a"], "managed-rule", pattern={"source": ["aws.s3"]})
    body = client_for("operator").get(rule.get_absolute_url()).content.decode()
    assert reverse("rules:rule_action", args=[rule.pk, "edit"]) in body
    assert 'data-testid="live-only"' not in body and 'data-testid="origin"' not in body


def make_rule(env, i):
    if i % 2:
        return managed_rule(env, f"r-{i:03d}", pattern={"source": ["x"]})
    return discovered_rule(env, f"r-{i:03d}", pattern={"source": ["x"]}, stack=STACK if i % 4 else None)


def make_schedule(env, i):
    return (managed_schedule if i % 2 else discovered_schedule)(env, f"s-{i:03d}")


@pytest.mark.parametrize(("url", "make"), [("rules:rule_list", make_rule),
                                           ("schedules:schedule_list", make_schedule)])
def test_list_queries_are_the_same_for_10_and_100_rows(client_for, envs, url, make):
    client = client_for("operator")
    counts = []
    made = 0
    for total in (10, 100):
        while made < total:
            make(envs["a" if made % 3 else "b"], made)
            made += 1
        client.get(reverse(url), {"per_page": 100})  # warm the session and permission caches
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(url), {"per_page": 100})
        assert len(page.context["table"].page.object_list) == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_page_of_exactly_the_page_size(client_for, envs):
    for i in range(50):
        discovered_schedule(envs["a"], f"s-{i:02d}")
    page = client_for("viewer").get(reverse("schedules:schedule_list"), {"managed": "unmanaged"})
    table = page.context["table"]
    assert len(table.page.object_list) == 50 and table.paginator.num_pages == 1
    assert not table.page.has_next()
