"""Poll of 1,000 managed rules against a moto server: wall time and API calls, vs the fewest possible.

Run: python -m bench rules_poll   (or make bench)
"""
import json
import time

from setup import django_with_scratch_db

django_with_scratch_db()

from changes.polling import objects_poll  # noqa: E402
from eventconsole import localaws  # noqa: E402
from environments import aws  # noqa: E402
from environments.models import Environment  # noqa: E402
from rules.aws_reader import spec_from_api  # noqa: E402
from rules.models import Rule  # noqa: E402
from rules.spec import canonical_rule_spec  # noqa: E402

RULES = 1000
process, url = localaws.start_moto()
try:
    environment = Environment.objects.create(name="Bench", region="us-east-1", endpoint_url=url,
                                             account_id="123456789012")
    events = aws.client(environment, "events")
    start = time.perf_counter()
    rules = []
    for i in range(RULES):
        name = f"rule-{i:04d}"
        pattern = json.dumps({"source": [f"app.{i % 20}"], "detail": {"n": [{"numeric": [">", i]}]}})
        events.put_rule(Name=name, EventPattern=pattern, State="ENABLED")
        targets = [{"Id": "q", "Arn": f"arn:aws:sqs:us-east-1:123456789012:q{i % 10}"}]
        events.put_targets(Rule=name, Targets=targets)
        spec = canonical_rule_spec({"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED",
                                             "EventPattern": pattern}, "Targets": targets, "Tags": []})
        rules.append(Rule(environment=environment, name=name, desired_spec=spec, version=1))
    Rule.objects.bulk_create(rules)
    print(f"set-up: {RULES} rules created in moto in {time.perf_counter() - start:.1f} s")

    # The floor: how long the endpoint itself takes for the fewest calls that learn the same state.
    start = time.perf_counter()
    floor_calls = 0
    listed = []
    token = None
    while True:
        page = events.list_rules(Limit=100, **({"NextToken": token} if token else {}))
        floor_calls += 1
        listed += page["Rules"]
        token = page.get("NextToken")
        if not token:
            break
    for rule in listed:
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        tags = events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
        spec_from_api(rule, targets, tags)
        floor_calls += 2
    floor = time.perf_counter() - start

    for run in range(3):
        start = time.perf_counter()
        report = objects_poll(environment, "rule")
        wall = time.perf_counter() - start
        print(f"poll {run + 1}: {report.objects} rules, {report.in_sync} in sync, {report.api_calls} API calls, "
              f"{wall:.2f} s ({wall / report.api_calls * 1000:.2f} ms per call)")
    pages = -(-RULES // 100)
    print(f"endpoint floor (same calls, no bookkeeping): {floor_calls} calls in {floor:.2f} s")
    print(f"fewest calls that learn the same state on real AWS: {pages} ListRules pages + {RULES} ListTargetsByRule "
          f"+ ~{pages} GetResources pages = {RULES + 2 * pages}; on moto (no GetResources for rules) "
          f"{pages} + {2 * RULES} = {pages + 2 * RULES}")
finally:
    localaws.stop(process)
