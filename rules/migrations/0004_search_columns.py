"""Fill the inventory search columns of the rules there already are, from their desired spec (the live one
for a rule nobody manages). The same extraction as rules.kind.denormalise, written out here because a
migration must not import the app's code (it changes)."""
import json

from django.db import migrations

FIELDS = ("search_pattern", "search_targets", "search_roles", "search_tags")


def _lines(values):
    seen = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(" ".join(value.lower().split()), None)
    return "\n".join(seen)


def _compact(text):
    if not text:
        return text
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return text


def columns(spec):
    spec = spec if isinstance(spec, dict) else {}
    body = spec.get("Rule") if isinstance(spec.get("Rule"), dict) else {}
    targets = [t for t in spec.get("Targets") or [] if isinstance(t, dict)]
    return {
        "search_pattern": _lines([_compact(body.get("EventPattern")), body.get("ScheduleExpression")]),
        "search_targets": _lines([t.get("Arn") for t in targets]
                                 + [(t.get("DeadLetterConfig") or {}).get("Arn") for t in targets]),
        "search_roles": _lines([body.get("RoleArn")] + [t.get("RoleArn") for t in targets]),
        "search_tags": _lines([f"{t.get('Key', '')}={t.get('Value', '')}" for t in spec.get("Tags") or []
                               if isinstance(t, dict)]),
    }


def backfill(apps, schema_editor):
    Rule = apps.get_model("rules", "Rule")
    batch = []
    for rule in Rule.objects.only("pk", "desired_spec", "live_spec", "sync_status").iterator(chunk_size=1000):
        spec = rule.desired_spec if rule.sync_status != "unmanaged" else rule.live_spec
        for field, value in columns(spec).items():
            setattr(rule, field, value)
        batch.append(rule)
        if len(batch) == 1000:
            Rule.objects.bulk_update(batch, FIELDS)
            batch = []
    if batch:
        Rule.objects.bulk_update(batch, FIELDS)


class Migration(migrations.Migration):

    dependencies = [
        ("rules", "0003_inventory_fields"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
