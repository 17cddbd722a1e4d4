"""Covering indexes for text searches on SQLite (the embedded default): a search for text inside a column
(the inventory's pattern, target, role and tag searches, LIKE '%...%') cannot seek, so SQLite reads every row;
the table's rows carry the JSON specs, while these indexes hold only the searched column with the columns the
search filters and returns, so the scan reads a fraction of the pages. PostgreSQL keeps large values out of
line (TOAST), and a b-tree entry there is limited to about 2.7 kB, which a pattern may exceed: nothing there."""
from django.db import migrations

TABLE = "schedules_schedule"
COLUMNS = ("search_pattern", "search_targets", "search_roles", "search_tags")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{TABLE}_{column}_scan" ON "{TABLE}" '
                              f'("environment_id", "sync_status", "{column}", "name")')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{TABLE}_{column}_scan"')


class Migration(migrations.Migration):
    dependencies = [
        ("schedules", "0005_search_columns"),
    ]

    operations = [migrations.RunPython(create, drop)]
