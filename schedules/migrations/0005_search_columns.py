"""Fill the inventory search columns of the schedules there already are, from their desired spec (the live
one for a schedule nobody manages). The same extraction as schedules.kind.denormalise, written out here
because a migration must not import the app's code (it changes)."""
from django.db import migrations

FIELDS = ("search_pattern", "search_targets", "search_roles", "search_tags")


def _lines(values):
    seen = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(" ".join(value.lower().split()), None)
    return "\n".join(seen)


def columns(spec):
    spec = spec if isinstance(spec, dict) else {}
    target = spec.get("Target") if isinstance(spec.get("Target"), dict) else {}
    return {
        "search_pattern": _lines([spec.get("ScheduleExpression"), spec.get("ScheduleExpressionTimezone")]),
        "search_targets": _lines([target.get("Arn"), (target.get("DeadLetterConfig") or {}).get("Arn")]),
        "search_roles": _lines([target.get("RoleArn")]),
        "search_tags": _lines([f"{t.get('Key', '')}={t.get('Value', '')}" for t in spec.get("Tags") or []
                               if isinstance(t, dict)]),
    }


def backfill(apps, schema_editor):
    Schedule = apps.get_model("schedules", "Schedule")
    batch = []
    for schedule in Schedule.objects.only("pk", "desired_spec", "live_spec", "sync_status").iterator(chunk_size=1000):
        spec = schedule.desired_spec if schedule.sync_status != "unmanaged" else schedule.live_spec
        for field, value in columns(spec).items():
            setattr(schedule, field, value)
        batch.append(schedule)
        if len(batch) == 1000:
            Schedule.objects.bulk_update(batch, FIELDS)
            batch = []
    if batch:
        Schedule.objects.bulk_update(batch, FIELDS)


class Migration(migrations.Migration):

    dependencies = [
        ("schedules", "0004_inventory_fields"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
