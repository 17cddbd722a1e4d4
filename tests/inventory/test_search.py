"""The inventory search: one query across every environment the user may see, rules and schedules together,
by name, pattern or expression, target ARN, tag and role; filters; pages; CSV and JSON Lines exports."""
import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import VIEWERS
from accounts.services import role_grant, user_create
from tests.conftest import PASSWORD
from tests.inventory.conftest import ACCOUNT_A, ACCOUNT_B, discovered_rule, discovered_schedule, managed_rule, \
    managed_schedule

pytestmark = pytest.mark.django_db

BILLING = f"arn:aws:lambda:us-east-1:{ACCOUNT_A}:function:Billing"
DLQ = f"arn:aws:sqs:us-east-1:{ACCOUNT_A}:billing-dlq"
RULE_ROLE = f"arn:aws:iam::{ACCOUNT_A}:role/Orders-Forwarder"
SCHEDULER_ROLE = f"arn:aws:iam::{ACCOUNT_B}:role/Exporter"
URL = reverse("inventory:search")


@pytest.fixture
def inventory(envs):
    a, b = envs["a"], envs["b"]
    return {
        # Alpha (111111111111, us-east-1)
        "orders-to-billing": discovered_rule(
            a, "orders-to-billing", bus="shop", pattern={"source": ["com.shop.orders"], "detail-type": ["Order Placed"]},
            targets=[{"Id": "t1", "Arn": BILLING, "DeadLetterConfig": {"Arn": DLQ}},
                     {"Id": "t2", "Arn": f"arn:aws:events:us-east-1:{ACCOUNT_A}:event-bus/audit",
                      "RoleArn": RULE_ROLE}],
            tags=[("team", "payments"), ("cost-centre", "42")]),
        "nightly-invoices": managed_schedule(a, "nightly-invoices", group="billing", expression="cron(0 2 * * ? *)",
                                             zone="Europe/Paris", target_arn=BILLING),
        "cleanup": managed_rule(a, "cleanup", schedule="rate(1 day)",
                                targets=[{"Id": "t", "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT_A}:function:Cleanup"}]),
        # Bravo (222222222222, eu-west-1)
        "export-poller": discovered_schedule(b, "export-poller", group="exports", expression="rate(5 minutes)",
                                             target_arn=f"arn:aws:sqs:eu-west-1:{ACCOUNT_B}:exports",
                                             role=SCHEDULER_ROLE),
        "payments-audit": discovered_rule(b, "payments-audit", pattern={"source": ["aws.s3"]},
                                          tags=[("team", "payments")], owner_service="notifications.amazonaws.com"),
    }


def found(client, **params) -> list[tuple[str, str, str, str]]:
    """(name, kind, environment, status) of each result on the page, in the page's order."""
    page = client.get(URL, params)
    assert page.status_code == 200
    return [(r.name, r.kind, r.environment_name, r.sync_status) for r in page.context["page_obj"].results]


def names(client, **params) -> list[str]:
    return [row[0] for row in found(client, **params)]


@pytest.mark.parametrize(("where", "query", "expected"), [
    ("name", "EXPORT", ["export-poller"]),
    ("name", "in", ["nightly-invoices", "orders-to-billing"]),
    ("pattern", "com.shop.orders", ["orders-to-billing"]),
    ("pattern", '"detail-type": ["Order Placed"]', ["orders-to-billing"]),  # typed with spaces, any case
    ("pattern", "europe/paris", ["nightly-invoices"]),  # a schedule's time zone
    ("pattern", "cron(0 2", ["nightly-invoices"]),
    ("pattern", "rate(", ["cleanup", "export-poller"]),  # a rule's schedule expression and a schedule's
    ("target", "function:billing", ["nightly-invoices", "orders-to-billing"]),
    ("target", DLQ, ["orders-to-billing"]),  # dead-letter queues count as targets
    ("target", "sqs:eu-west-1", ["export-poller"]),
    ("tag", "team=payments", ["orders-to-billing", "payments-audit"]),
    ("tag", "cost-centre=", ["orders-to-billing"]),
    ("role", RULE_ROLE, ["orders-to-billing"]),
    ("role", "role/exporter", ["export-poller"]),
    ("role", f"arn:aws:iam::{ACCOUNT_A}:role/scheduler", ["nightly-invoices"]),  # the schedule's execution role
    ("anything", "billing", ["nightly-invoices", "orders-to-billing"]),
    ("anything", "payments", ["orders-to-billing", "payments-audit"]),
    ("anything", "nothing-like-this", []),
])
def test_search_in_each_place_across_environments(client_for, inventory, where, query, expected):
    assert names(client_for("viewer"), q=query, **{"in": where}) == expected


def test_each_result_names_kind_environment_owner_status_and_links_to_its_page(client_for, inventory):
    client = client_for("viewer")
    assert found(client, q="billing") == [("nightly-invoices", "schedule", "Alpha", "in_sync"),
                                          ("orders-to-billing", "rule", "Alpha", "unmanaged")]
    body = client.get(URL, {"q": "payments"}).content.decode()
    row = body.split('data-testid="inventory-table"')[1].split("</table>")[0]
    assert f'href="/rules/{inventory["payments-audit"].pk}/"' in row
    assert f'href="/rules/{inventory["orders-to-billing"].pk}/"' in row
    assert ACCOUNT_A in row and ACCOUNT_B in row and "eu-west-1" in row and "Bravo" in row
    assert "notifications.amazonaws.com" in row and 'data-status="unmanaged">Unmanaged' in row
    assert client.get(URL, {"q": "billing"}).content.decode().count('data-status="in_sync">In sync') == 1
    partial = client.get(URL, {"q": "payments"}, HTTP_HX_REQUEST="true").content.decode()  # what the form swaps in
    assert "<html" not in partial and "payments-audit" in partial and 'data-testid="export-csv"' in partial


def test_filters_environment_kind_managed_and_status(client_for, inventory, envs):
    client = client_for("viewer")
    assert names(client, environment=envs["b"].pk) == ["export-poller", "payments-audit"]
    assert names(client, kind="schedule") == ["export-poller", "nightly-invoices"]
    assert names(client, kind="rule", managed="managed") == ["cleanup"]
    assert names(client, managed="unmanaged") == ["export-poller", "orders-to-billing", "payments-audit"]
    assert names(client, status="in_sync") == ["cleanup", "nightly-invoices"]
    assert names(client, q="payments", managed="managed") == []


def test_a_user_restricted_to_one_environment_sees_only_it(inventory, envs, client):
    user = user_create(username="alpha-viewer", password=PASSWORD, roles=[])
    role_grant(user=user, role=VIEWERS, environment=envs["a"])
    client.force_login(user)
    assert names(client, q="team=payments", **{"in": "tag"}) == ["orders-to-billing"]
    assert names(client) == ["cleanup", "nightly-invoices", "orders-to-billing"]
    # Bravo is not a choice: asking for it is said at the field, not answered with its objects.
    page = client.get(URL, {"environment": envs["b"].pk})
    assert page.status_code == 200 and page.context["page_obj"] is None
    assert "environment" in page.context["form"].errors
    exported = client.get(URL, {"format": "jsonl"})
    assert [json.loads(line)["name"] for line in b"".join(exported.streaming_content).decode().splitlines()] == [
        "cleanup", "nightly-invoices", "orders-to-billing"]
    nobody = user_create(username="no-role", password=PASSWORD, roles=[])
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_exports_csv_and_json_lines_hold_every_matching_row(client_for, inventory, envs):
    for i in range(60):  # more than a page
        discovered_schedule(envs["b"], f"bulk-{i:02d}", group="bulk", target_arn=BILLING)
    client = client_for("viewer")
    params = {"q": "function:billing", "in": "target"}
    expected = sorted([f"bulk-{i:02d}" for i in range(60)] + ["nightly-invoices", "orders-to-billing"])
    assert client.get(URL, params).context["page_obj"].paginator.count == 62

    response = client.get(URL, {**params, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="inventory-')
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["name"] for row in table] == expected
    first = next(row for row in table if row["name"] == "orders-to-billing")
    assert first == {"kind": "rule", "environment": "Alpha", "account": ACCOUNT_A, "region": "us-east-1",
                     "container": "shop", "name": "orders-to-billing", "managed": "no", "owner": "",
                     "sync_status": "unmanaged", "state": "ENABLED",
                     "url": f"/rules/{inventory['orders-to-billing'].pk}/"}

    lines = b"".join(client.get(URL, {**params, "format": "jsonl"}).streaming_content).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["name"] for r in records] == expected
    nightly = next(r for r in records if r["name"] == "nightly-invoices")
    assert nightly == {"kind": "schedule", "environment": "Alpha", "account": ACCOUNT_A, "region": "us-east-1",
                       "container": "billing", "name": "nightly-invoices", "managed": True, "owner": "EventConsole",
                       "sync_status": "in_sync", "state": "ENABLED",
                       "url": f"/schedules/{inventory['nightly-invoices'].pk}/"}


def test_a_csv_cell_that_a_spreadsheet_would_run_is_quoted(client_for, envs):
    discovered_rule(envs["a"], "=HYPERLINK(1)", pattern={"source": ["x"]})
    table = list(csv.DictReader(io.StringIO(b"".join(
        client_for("viewer").get(URL, {"format": "csv"}).streaming_content).decode())))
    assert [row["name"] for row in table] == ["'=HYPERLINK(1)"]


def test_pages_of_exactly_the_page_size_and_constant_queries(client_for, envs):
    client = client_for("viewer")
    counts = []
    for total in (10, 100):
        for i in range(total - (10 if total == 100 else 0)):
            n = i + (10 if total == 100 else 0)
            (discovered_rule if n % 2 else discovered_schedule)(
                envs["a" if n % 3 else "b"], f"obj-{n:03d}", **({"pattern": {"source": ["x"]}} if n % 2 else {}))
        client.get(URL, {"per_page": 100})
        with CaptureQueriesContext(connection) as queries:
            page = client.get(URL, {"per_page": 100})
        assert len(page.context["page_obj"].results) == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    exact = client.get(URL, {"per_page": 50, "managed": "unmanaged", "kind": "rule"}).context["page_obj"]
    assert exact.paginator.count == 50 and exact.paginator.num_pages == 1 and len(exact.results) == 50
    second = client.get(URL, {"per_page": 50, "page": 2}).context["page_obj"]
    assert [r.name for r in second.results] == [f"obj-{n:03d}" for n in range(50, 100)]


def test_a_text_search_pages_alike_whether_it_matches_few_or_many(client_for, envs, monkeypatch):
    """A text search reads each kind's matches once when they are few; past SearchResults.SMALL it counts
    and pages in the database instead. Both give the same pages, in the same queries per page size."""
    from inventory.search import SearchResults

    for i in range(30):
        (discovered_rule if i % 2 else discovered_schedule)(
            envs["a" if i % 3 else "b"], f"item-{i:02d}", **({"pattern": {"source": ["x"]}} if i % 2 else {}))
    client = client_for("viewer")
    expected = [f"item-{i:02d}" for i in range(30)]
    pages = {}
    for small in (5000, 4):
        monkeypatch.setattr(SearchResults, "SMALL", small)
        pages[small] = [names(client, q="item", per_page=per_page, page=page)
                        for per_page, page in ((10, 1), (10, 3), (7, 5), (50, 1))]
        counts = []
        for per_page in (5, 30):
            client.get(URL, {"q": "item", "per_page": per_page})
            with CaptureQueriesContext(connection) as queries:
                client.get(URL, {"q": "item", "per_page": per_page})
            counts.append(len(queries))
        assert counts[0] == counts[1], (small, counts)
    assert pages[5000] == pages[4] == [expected[:10], expected[20:30], expected[28:30], expected]


@pytest.mark.parametrize("query", [
    {"in": "bogus"}, {"status": "bogus"}, {"kind": "queue"}, {"environment": "x"}, {"managed": "both"},
    {"page": "-1"}, {"page": "abc"}, {"per_page": "0"}, {"per_page": "99999999999"}, {"q": "x" * 600},
    {"q": "%_\\'\""}, {"in": ["name", "tag"]},
])
def test_the_page_never_fails_on_bad_parameters(client_for, inventory, query):
    assert client_for("viewer").get(URL, query).status_code == 200


def test_an_unknown_export_format_or_a_bad_search_is_a_400(client_for, inventory):
    client = client_for("viewer")
    assert client.get(URL, {"format": "xml"}).status_code == 400
    assert client.get(URL, {"format": "csv", "in": "bogus"}).status_code == 400
    assert client.post(URL).status_code == 405


def test_the_navigation_links_to_the_inventory(client_for, inventory):
    body = client_for("viewer").get(reverse("rules:rule_list")).content.decode()
    assert f'href="{URL}"' in body and ">Inventory</a>" in body
