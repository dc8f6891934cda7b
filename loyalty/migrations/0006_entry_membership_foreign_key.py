"""On PostgreSQL, a composite foreign key (not a trigger) keeps an entry in its activity's membership.

The row trigger of 0004 ran PL/pgSQL for every entry, a tenth of a
millisecond each on the posting path; the foreign key is checked by the
server's own referential-integrity code, at the end of the statement like
the trigger was, so one statement may still write an activity and its entries.
"""

from importlib import import_module

from django.db import migrations

from loyalty.migration_helpers import run_statements

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


# Undoing restores 0004's trigger (its last two statements).
_append_only = import_module("loyalty.migrations.0004_ledger_append_only")
forwards = run_statements(TRIGGER_CHECK + FOREIGN_KEY)
backwards = run_statements(UNDO_FOREIGN_KEY + _append_only.CREATE[2:])


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0005_trim_write_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
