"""Adopting every discovered object as one batch change per kind: wall time and database writes per object.

Run: .venv/bin/python -m bench adopt                (quick: 200 rules, 2,000 schedules)
     BENCH_FULL=1 .venv/bin/python -m bench adopt, or python bench/bench_adopt.py --full
                                                  (5,000 rules and 50,000 schedules: 55,000 objects)

The account is made by bench/seed_account.py and discovered with
`inventory.discovery.environment_discover` (api_rate_limit raised to 1,000 calls a second for the
emulator). Then, for rules and for schedules, everything Unmanaged that may be adopted (not owned by an
AWS service) goes into one batch change,
`changes.batch.batch_create(kind=..., action=ChangeAction.ADOPT, environment=..., author=..., objects=...)`
(auto-approved: the Sandbox needs no approval), and is applied with
`changes.apply.change_request_apply(change_id)` in this process.

Database writes are the INSERT, UPDATE and DELETE statements sent (`connection.execute_wrapper`), and
the rows they wrote (the cursor's rowcount), per table; "per object" divides by the objects adopted.
"""
from __future__ import annotations

import importlib.util
import re
import sys
import time
from collections import Counter

from setup import django_with_scratch_db

django_with_scratch_db()

from django.db import connection  # noqa: E402

from eventconsole import localaws  # noqa: E402
from seed_account import BENCH_RATE, seeded_sandbox, sizes_from  # noqa: E402

INSERT_COLUMNS = re.compile(r'^\s*INSERT\s+INTO\s+\S+\s*\((.*?)\)\s*VALUES', re.I | re.S)
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.I)


class Writes:
    """Counts the write statements (and rows written) that go through the connection, per table."""

    def __init__(self):
        self.statements: Counter = Counter()
        self.rows: Counter = Counter()

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        match = WRITE.match(sql)
        if match:
            verb = match.group(1).split()[0].upper()
            key = (verb, match.group(2))
            self.statements[key] += 1
            self.rows[key] += self._rows(verb, sql, params, many, context)
        return result

    @staticmethod
    def _rows(verb: str, sql: str, params, many: bool, context) -> int:
        if verb == "INSERT":  # INSERT … RETURNING reports no rowcount: count the VALUES groups
            if many:
                return len(params)
            columns = INSERT_COLUMNS.match(sql)
            if columns and params:
                return len(params) // (columns.group(1).count(",") + 1)
        return max(getattr(context.get("cursor"), "rowcount", -1), 0)

    def report(self, objects: int, indent: str = "      ") -> str:
        total = sum(self.statements.values())
        lines = [f"{indent}{total:,} write statements ({total / max(objects, 1):.2f} per object), "
                 f"{sum(self.rows.values()):,} rows written ({sum(self.rows.values()) / max(objects, 1):.2f} per object)"]
        for (verb, table), n in self.statements.most_common():
            lines.append(f"{indent}  {verb:<6} {table:<32}{n:>9,} statements{self.rows[(verb, table)]:>9,} rows")
        return "\n".join(lines)


def adopt(kind: str, model, environment, author) -> None:
    from changes.apply import change_request_apply
    from changes.batch import batch_create
    from changes.choices import ChangeAction
    from changes.models import ChangeItem

    objects = model.objects.unmanaged().filter(environment=environment, owner_service="")
    count = objects.count()
    print(f"\n{kind}s: adopting {count:,} unmanaged objects in one batch change")
    writes = Writes()
    started = time.perf_counter()
    with connection.execute_wrapper(writes):
        change = batch_create(kind=kind, action=ChangeAction.ADOPT, environment=environment, author=author,
                              objects=objects)
    created = time.perf_counter() - started
    change.refresh_from_db()
    print(f"    batch_create: {created:.1f} s, change #{change.pk} {change.state}")
    print(writes.report(count))

    writes = Writes()
    started = time.perf_counter()
    with connection.execute_wrapper(writes):
        change_request_apply(change.pk)
    applied = time.perf_counter() - started
    change.refresh_from_db()
    states = dict(Counter(ChangeItem.objects.filter(change=change).values_list("state", flat=True)))
    print(f"    change_request_apply: {applied:.1f} s ({applied / max(count, 1) * 1000:.2f} ms per object), "
          f"change {change.state}, items {states}")
    print(writes.report(count))
    managed = model.objects.managed().filter(environment=environment).count()
    print(f"    now managed: {managed:,} {kind}s; still unmanaged: "
          f"{model.objects.unmanaged().filter(environment=environment).count():,}")
    print(f"    in all: {created + applied:.1f} s for {count:,} objects")


def main(argv: list[str]) -> int:
    sizes = sizes_from(argv)
    missing = [name for name in ("inventory.discovery", "changes.batch") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"{', '.join(missing)} not there: nothing to measure")
        return 1
    from accounts.roles import OPERATORS
    from accounts.services import user_create
    from inventory.discovery import environment_discover
    from rules.models import Rule
    from schedules.models import Schedule

    process, url = localaws.start_moto()
    try:
        _, environment = seeded_sandbox(url, sizes)
        started = time.perf_counter()
        run = environment_discover(environment)
        print(f"discovered {environment.name} with api_rate_limit = {BENCH_RATE} calls/s (raised from 20 for the "
              f"emulator): run {run.state}, {run.found:,} found in {time.perf_counter() - started:.1f} s")
        author = user_create(username="bench-operator", password="bench-operator-password-1", roles=[OPERATORS])
        adopt("rule", Rule, environment, author)
        adopt("schedule", Schedule, environment, author)
    finally:
        localaws.stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
