"""The transition log keeps only the indexes its readers use: every state change of every lifecycle writes a row.

django-fsm-log indexes `state` and `source_state` (each twice, with a LIKE twin) for filters this
product never runs: a history is read by content type and object id, a reversal by those and its
state. A daily pass logs tens of thousands of changes in one statement, and each of these four
indexes cost every row. They are found by their columns, as django-fsm-log's migrations named them.
"""

from django.db import migrations

TABLE = "django_fsm_log_statelog"
UNUSED = ("state", "source_state")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.relname FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
               WHERE t.relname = %s AND x.indnatts = 1 AND NOT x.indisunique AND a.attname = ANY(%s)""",
            [TABLE, list(UNUSED)],
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    for column in UNUSED:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{TABLE}_{column}" ON {TABLE} ({column})')


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0013_readable_constraint_messages"),
        ("django_fsm_log", "0005_description_null"),
    ]

    operations = [migrations.RunPython(drop, restore)]
