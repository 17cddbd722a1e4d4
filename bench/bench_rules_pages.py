"""Rules list and detail pages with 10,000 rules: server time per page and queries per page.

Run: python -m bench rules_pages   (or make bench)
"""
import json

from setup import django_with_scratch_db, summary, timed

django_with_scratch_db()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.services import user_create  # noqa: E402
from changes.choices import ChangeState, SyncStatus  # noqa: E402
from changes.models import ChangeRequest  # noqa: E402
from environments.models import Environment  # noqa: E402
from rules.models import Rule  # noqa: E402

RULES = 10_000
PATTERN = json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                      "detail": {"bucket": {"name": ["processing-bucket-1"]}}})

environment = Environment.objects.create(name="Bench", region="us-east-1", endpoint_url="http://127.0.0.1:9")
user = user_create(username="bench", password="bench-password-1", roles=["Operators"])
spec = {"Rule": {"Name": "x", "EventBusName": "default", "State": "ENABLED", "EventPattern": PATTERN},
        "Targets": [{"Id": f"Target{i}", "Arn": f"arn:aws:sqs:us-east-1:123456789012:q{i}"} for i in range(3)],
        "Tags": []}
Rule.objects.bulk_create([
    Rule(environment=environment, name=f"rule-{i:05d}", event_bus_name="default" if i % 4 else "orders",
         desired_spec=spec, live_spec=spec, version=1, state="ENABLED" if i % 3 else "DISABLED", targets_count=3,
         sync_status=SyncStatus.IN_SYNC if i % 7 else SyncStatus.DRIFTED, description=f"bench rule {i}")
    for i in range(RULES)], batch_size=2000)
ChangeRequest.objects.bulk_create([
    ChangeRequest(kind="rule", action="update", environment=environment, rule_id=pk, author=user,
                  state=ChangeState.SUBMITTED) for pk in Rule.objects.values_list("pk", flat=True)[:500]])
client = Client()
client.force_login(user)
detail_url = Rule.objects.get(name="rule-05000").get_absolute_url()

PAGES = [("list, page 1", "/rules/"), ("list, page 100", "/rules/?page=100"),
         ("list, search", "/rules/?q=bench+rule+77"), ("list, filter drifted", "/rules/?status=drifted"),
         ("list, sort by -name", "/rules/?sort=-name"), ("list, pending changes", "/rules/?status=pending_change"),
         ("detail", detail_url)]
print(f"{RULES:,} rules in SQLite; Django test client; 30 requests per page after 3 warm-ups")
for label, url in PAGES:
    for _ in range(3):
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    count = len(queries.captured_queries)
    print(f"  {label:<24} {summary(timed(lambda: client.get(url), 30))}   {count} queries")

# Queries per page do not depend on the page size.
from rules.views import RuleListView  # noqa: E402

for size in (10, 50, 200):
    RuleListView.per_page = size  # the table's page size (core.tables.CheckedPaginationMixin)
    with CaptureQueriesContext(connection) as queries:
        client.get("/rules/")
    print(f"  page size {size:<4} -> {len(queries.captured_queries)} queries")
