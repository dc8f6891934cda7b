"""On PostgreSQL, a composite foreign key (not a trigger) keeps an entry in its activity's membership.

The row trigger of 0004 ran PL/pgSQL for every entry, a tenth of a
millisecond each on the posting path; the foreign key is checked by the
server's own referential-integrity code, at the end of the statement like
the trigger was, so one statement may still write an activity and its entries.
"""

from django.db import migrations

TRIGGER_CHECK = [
    "DROP TRIGGER IF EXISTS ledger_entry_matches_activity ON loyalty_ledgerentry",
    "DROP FUNCTION IF EXISTS loyalty_ledger_entry_matches_activity()",
]
FOREIGN_KEY = [
    "ALTER TABLE loyalty_activity ADD CONSTRAINT activity_id_membership_unique UNIQUE (id, membership_id)",
    """ALTER TABLE loyalty_ledgerentry ADD CONSTRAINT ledger_entry_in_membership_of_its_activity
       FOREIGN KEY (activity_id, membership_id) REFERENCES loyalty_activity (id, membership_id)""",
]
UNDO_FOREIGN_KEY = [
    "ALTER TABLE loyalty_ledgerentry DROP CONSTRAINT IF EXISTS ledger_entry_in_membership_of_its_activity",
    "ALTER TABLE loyalty_activity DROP CONSTRAINT IF EXISTS activity_id_membership_unique",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in TRIGGER_CHECK + FOREIGN_KEY:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from importlib import import_module

    append_only = import_module("loyalty.migrations.0004_ledger_append_only")
    for statement in UNDO_FOREIGN_KEY + append_only.CREATE[2:]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0005_trim_write_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
