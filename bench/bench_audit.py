"""Audit pages with 1,000,000 events: server time and queries per page, and a 10,000-row export.

Run: python -m bench audit   (or make bench). AUDIT_EVENTS=200000 python -m bench audit for a quicker run.

The events are inserted with executemany in batches of 5,000, with a valid keyed hash chain computed
here, event by event, by the function audit_record() uses (audit.services.event_hash, under the chain
key), so `verify_audit` accepts the data. The mix: ~10,000 objects (70% rules, 30% schedules) in 2 environments, about ten
change requests each; a change leaves 3 draft steps (before/after/diff), submit, approve, apply
started, 2 API calls (request/response data) and applied (system, on behalf of the approver); plus
drift detected and sign-ins; 24 users; times spread evenly over 2025 in id order. The pages are
measured twice: without planner statistics (Django never runs ANALYZE) and after ANALYZE; every
page query keeps an id-ordered plan either way.

Set AUDIT_KEEP_DB=1 to keep the scratch database (otherwise removed: about 1.2 GB).
"""
from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import time
from datetime import datetime, timedelta, timezone as dt_timezone

EVENTS = int(os.environ.get("AUDIT_EVENTS", "1000000"))
OBJECTS = 10_000
ACTORS = 24
YEAR_START = datetime(2025, 1, 1, tzinfo=dt_timezone.utc)


def _spec(kind: str, name: str, n: int) -> dict:
    if kind == "rule":
        return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED" if n % 5 else "DISABLED",
                         "EventPattern": json.dumps({"detail": {"bucket": {"name": [f"bucket-{n % 7}"]}},
                                                     "source": ["aws.s3"]}, separators=(",", ":"))},
                "Targets": [{"Arn": f"arn:aws:sqs:us-east-1:123456789012:queue-{n % 11}", "Id": "Target0"}],
                "Tags": [{"Key": "team", "Value": f"team-{n % 4}"}]}
    return {"Name": name, "GroupName": "default", "ScheduleExpression": f"rate({n % 59 + 1} minutes)",
            "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "Target": {"Arn": f"arn:aws:lambda:us-east-1:123456789012:function:job-{n % 9}",
                       "RoleArn": "arn:aws:iam::123456789012:role/scheduler"}}


def seed(events: int = EVENTS, *, progress: bool = True) -> dict:
    """Users, 2 environments, ~10,000 rules/schedules, their change requests, and `events` audit events."""
    from django.conf import settings
    from django.db import connection, transaction

    from accounts.roles import OPERATORS, REVIEWERS
    from accounts.services import user_create
    from audit.choices import AuditAction as A, ObjectType
    from audit.diff import diff
    from audit.models import AuditChainHead, AuditEvent
    from audit.keys import signing_key
    from audit.services import GENESIS, _normalise, event_hash
    from changes.models import ChangeRequest
    from environments.models import Environment
    from rules.models import Rule
    from schedules.models import Schedule

    rng = random.Random(6)
    started = time.perf_counter()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # bench users only
    environments = [Environment.objects.create(name=name, region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                               is_production=prod, approvals_required=int(prod))
                    for name, prod in (("Sandbox", False), ("Production", True))]
    operators = [user_create(username=f"operator{i}", password="bench-password-1", roles=[OPERATORS])
                 for i in range(ACTORS * 2 // 3)]
    reviewers = [user_create(username=f"reviewer{i}", password="bench-password-1", roles=[REVIEWERS])
                 for i in range(ACTORS // 3)]
    rules = Rule.objects.bulk_create(
        [Rule(environment=environments[i % 2], name=f"orders-rule-{i:05d}", version=1)
         for i in range(OBJECTS * 7 // 10)],
        batch_size=2000)
    schedules = Schedule.objects.bulk_create(
        [Schedule(environment=environments[i % 2], name=f"nightly-job-{i:05d}", version=1)
         for i in range(OBJECTS - len(rules))], batch_size=2000)
    objects = [("rule", r) for r in rules] + [("schedule", s) for s in schedules]

    per_change = 9.2  # events per change request on average (drift and sign-ins included)
    change_count = max(1, int(events / per_change) + 1)
    plan = [objects[rng.randrange(len(objects))] for _ in range(change_count)]
    changes = ChangeRequest.objects.bulk_create(
        [ChangeRequest(kind=kind, action="update", environment=obj.environment, author=operators[n % len(operators)],
                       state="applied", object_name=obj.object_name,
                       **({"rule": obj} if kind == "rule" else {"schedule": obj}))
         for n, (kind, obj) in enumerate(plan)], batch_size=2000)
    setup_s = time.perf_counter() - started

    key = signing_key()
    step = timedelta(days=365) / events
    head = AuditChainHead.objects.filter(id=1).first()  # creating the users above recorded events already
    prev_hash = head.last_hash if head is not None else GENESIS
    batch: list[tuple] = []
    written = 0
    versions: dict[int, int] = {}
    # Rows go in with executemany (bulk_create's per-field preparation would take most of the time),
    # each value adapted the way the model fields would adapt it.
    columns = ["time", "actor_id", "actor_name", "on_behalf_of_id", "action", "object_type", "object_id",
               "object_repr", "related_type", "related_id", "environment_id", "environment_name", "before", "after",
               "diff", "message", "data", "request_id", "ip_address", "user_agent", "prev_hash", "hash", "key_id"]
    json_columns = {"before", "after", "diff", "data"}
    quote = connection.ops.quote_name
    insert = (f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
              f"VALUES ({', '.join(['%s'] * len(columns))})")
    adapt_time = connection.ops.adapt_datetimefield_value

    def flush():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
        batch.clear()

    def emit(**fields):
        nonlocal prev_hash, written
        fields.setdefault("on_behalf_of_id", None)
        fields.setdefault("related_type", "")
        fields.setdefault("related_id", "")
        fields.setdefault("message", "")
        for name in json_columns:
            fields.setdefault(name, None)
        fields.update(time=YEAR_START + step * written, request_id=f"{rng.getrandbits(64):016x}" * 2,
                      ip_address=None if fields["actor_id"] is None else f"10.0.{written % 250}.{written % 199 + 1}",
                      user_agent="" if fields["actor_id"] is None else "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
        fields["prev_hash"], fields["key_id"] = prev_hash, key.id
        fields["hash"] = prev_hash = event_hash(prev_hash, fields, key)
        batch.append(tuple(
            adapt_time(fields[c]) if c == "time" else
            (json.dumps(fields[c]) if fields[c] is not None else None) if c in json_columns else fields[c]
            for c in columns))
        written += 1
        if len(batch) >= 5000:
            flush()
            if progress and written % 100_000 == 0:
                print(f"  … {written:,} events ({time.perf_counter() - started:.0f} s)", flush=True)

    for n, ((kind, obj), change) in enumerate(zip(plan, changes)):
        if written >= events:
            break
        author, reviewer = operators[n % len(operators)], reviewers[n % len(reviewers)]
        env = obj.environment
        common = dict(object_type=kind, object_id=str(obj.pk), object_repr=obj.object_name, environment_id=env.pk,
                      environment_name=env.name, related_type=ObjectType.CHANGE, related_id=str(change.pk))
        version = versions.get(obj.pk, 0)
        versions[obj.pk] = version + 1
        before, after = _normalise(_spec(kind, obj.name, version)), _normalise(_spec(kind, obj.name, version + 1))
        if version == 0:  # a create: the drafts were written before the object existed
            common_draft = {**common, "object_id": ""}
        else:
            common_draft = common
        change_diff = diff(before, after)
        for step_name in ("detail", "pattern", "targets"):
            emit(action=A.DRAFT_SAVED, actor_id=author.pk, actor_name=author.username, before=before, after=after,
                 diff=change_diff, message=f"Step {step_name} saved", **common_draft)
        emit(action=A.SUBMITTED, actor_id=author.pk, actor_name=author.username, message="Submitted for review",
             data={"plan": [{"operation": "PutRule" if kind == "rule" else "UpdateSchedule"}]}, **common)
        emit(action=A.APPROVED, actor_id=reviewer.pk, actor_name=reviewer.username, message="Looks good", **common)
        system = dict(actor_id=None, actor_name="system", on_behalf_of_id=reviewer.pk)
        emit(action=A.APPLY_STARTED, message="Attempt 1", **system, **common)
        for operation in (("PutRule", "PutTargets") if kind == "rule" else ("UpdateSchedule", "TagResource")):
            emit(action=A.API_CALL, message=operation, data={
                "operation": operation, "request": {"Name": obj.name},
                "response": {"HTTPStatusCode": 200, "RequestId": f"{rng.getrandbits(64):016x}"}, "ms": 40 + n % 50},
                **system, **common)
        emit(action=A.APPLIED, before=before, after=after, diff=change_diff, message=f"Version {version + 1} live",
             **system, **common)
        if n % 10 == 0:  # drift appears, or a sign-in
            if n % 20 == 0:
                emit(action=A.DRIFT_DETECTED, actor_id=None, actor_name="system",
                     message="Changed outside EventConsole",
                     **{**common, "related_type": "", "related_id": ""})
            else:
                emit(action=A.SIGNED_IN, actor_id=author.pk, actor_name=author.username, object_type=ObjectType.USER,
                     object_id=str(author.pk), object_repr=author.username, environment_id=None, environment_name="")
    while written < events:  # top up with sign-ins
        user = operators[written % len(operators)]
        emit(action=A.SIGNED_IN, actor_id=user.pk, actor_name=user.username, object_type=ObjectType.USER,
             object_id=str(user.pk), object_repr=user.username, environment_id=None, environment_name="")
    if batch:
        flush()
    last = AuditEvent.objects.order_by("-id").first()
    AuditChainHead.objects.update_or_create(id=1, defaults={"last_hash": prev_hash, "last_event_id": last.pk})
    return {"environments": environments, "operators": operators, "reviewers": reviewers, "rules": rules,
            "schedules": schedules, "setup_s": setup_s, "seconds": time.perf_counter() - started}


def main():
    from setup import django_with_scratch_db, summary, timed

    scratch = django_with_scratch_db()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from audit.models import AuditEvent

    print(f"inserting {EVENTS:,} audit events (executemany, hash chain computed here) …", flush=True)
    data = seed(EVENTS)
    size_mb = (scratch / "bench.sqlite3").stat().st_size / 1e6
    print(f"set-up: {EVENTS:,} events in {data['seconds']:.0f} s; database {size_mb:,.0f} MB")

    client = Client()
    client.force_login(data["reviewers"][0])
    operator = data["operators"][3]
    production = data["environments"][1]
    rule = data["rules"][1234]

    def older_link(url: str, times: int) -> str:
        """Follow the page's Older link `times` times, as a person would."""
        for _ in range(times):
            found = re.search(r'href="([^"]*)" data-testid="older"', client.get(url).content.decode())
            url = "/audit/" + html.unescape(found.group(1))
        return url

    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:1][0]
    pages = [
        ("list, first page", "/audit/"),
        ("list, 50 pages deep", older_link("/audit/", 50)),
        ("list, actor + action", f"/audit/?actor={operator.username}&action=change.submitted"),
        ("list, env + date range", f"/audit/?environment={production.pk}&date_from=2025-06-01&date_to=2025-06-30"),
        ("list, date range only", "/audit/?date_from=2025-03-01&date_to=2025-03-31"),
        ("list, object type", "/audit/?object_type=schedule"),
        ("list, search", "/audit/?q=nightly-job-0042"),
        ("list, search (no match)", "/audit/?q=no-such-thing"),
        ("object history", f"/audit/history/rule/{rule.pk}/"),
        ("event detail", f"/audit/{newest - 12}/"),
    ]

    def measure():
        for label, url in pages:
            for _ in range(3):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            count = len(queries.captured_queries)
            sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
            flags = "".join([" COUNT!" if "COUNT(" in sql else "", " OFFSET!" if "OFFSET" in sql else ""])
            rows = f", {response.content.count(b'data-event-id=')} rows" if "detail" not in label else ""
            print(f"  {label:<24} {summary(timed(lambda: client.get(url), 30))}   {count} queries{rows}{flags}",
                  flush=True)

    print(f"{EVENTS:,} events in SQLite; Django test client; 30 requests per page after 3 warm-ups")
    print("no planner statistics (as after migrate; Django never runs ANALYZE):")
    measure()
    with connection.cursor() as cursor:  # what `PRAGMA optimize` on a long-running system would leave
        cursor.execute("ANALYZE")
    print("after ANALYZE:")
    measure()

    # Export of a filtered view: ~10,000 rows (one environment, one week), streamed.
    export = f"/audit/?environment={production.pk}&date_from=2025-08-01&date_to=2025-08-07"
    for fmt in ("csv", "jsonl"):
        def run():
            response = client.get(f"{export}&format={fmt}")
            run.lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        times = timed(run, 5)
        print(f"  export {fmt:<5} {run.lines - (fmt == 'csv'):,} rows (env + week)   {summary(times)}")

    connection.close()
    if os.environ.get("AUDIT_KEEP_DB"):
        print(f"database kept: {scratch / 'bench.sqlite3'}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)  # about 1.2 GB for 1,000,000 events


if __name__ == "__main__":
    main()
