"""On PostgreSQL, the database itself keeps the ledger append-only and consistent.

Entries cannot be updated or deleted (the model and its queryset refuse too;
this also stops raw SQL and other clients; TRUNCATE, used by test database
flushes, is not affected), and an entry must belong to the membership of its
activity (checked after the statement, so one statement may write both).
"""

from django.db import migrations

from loyalty.migration_helpers import run_statements

CREATE = [
    """CREATE OR REPLACE FUNCTION loyalty_ledger_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'Ledger entries are append-only: post a reversal instead.'
           USING ERRCODE = 'integrity_constraint_violation';
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON loyalty_ledgerentry
       FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only()""",
    """CREATE OR REPLACE FUNCTION loyalty_ledger_entry_matches_activity() RETURNS trigger AS $$
       BEGIN
         IF NOT EXISTS (SELECT 1 FROM loyalty_activity
                        WHERE id = NEW.activity_id AND membership_id = NEW.membership_id) THEN
           RAISE EXCEPTION 'A ledger entry must belong to the membership of its activity.'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER ledger_entry_matches_activity AFTER INSERT ON loyalty_ledgerentry
       FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_entry_matches_activity()""",
]
DROP = [
    "DROP TRIGGER IF EXISTS ledger_entry_matches_activity ON loyalty_ledgerentry",
    "DROP FUNCTION IF EXISTS loyalty_ledger_entry_matches_activity()",
    "DROP TRIGGER IF EXISTS ledger_entries_append_only ON loyalty_ledgerentry",
    "DROP FUNCTION IF EXISTS loyalty_ledger_append_only()",
]


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_roles")]

    operations = [migrations.RunPython(run_statements(CREATE), run_statements(DROP))]
