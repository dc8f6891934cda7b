"""The ledger refuses TRUNCATE as it refuses UPDATE and DELETE: the activities and their entries stay.

A statement-level trigger on both tables (a TRUNCATE of the activities cascades to the entries, and
fires both). Test database flushes empty every table between tests with TRUNCATE: only a session that
sets loyalty.allow_ledger_truncate to on (the test settings do, at connection) may.
"""

from django.db import migrations

from loyalty.migration_helpers import run_statements

TABLES = ["loyalty_ledgerentry", "loyalty_activity"]
CREATE = [
    """CREATE OR REPLACE FUNCTION loyalty_ledger_no_truncate() RETURNS trigger AS $$
       BEGIN
         IF current_setting('loyalty.allow_ledger_truncate', true) = 'on' THEN
           RETURN NULL;
         END IF;
         RAISE EXCEPTION 'The ledger is append-only: %% cannot be truncated.', TG_TABLE_NAME
           USING ERRCODE = 'integrity_constraint_violation';
       END $$ LANGUAGE plpgsql""",
    *[
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION loyalty_ledger_no_truncate()"""
        for table in TABLES
    ],
]
DROP = [
    *[f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in TABLES],
    "DROP FUNCTION IF EXISTS loyalty_ledger_no_truncate()",
]


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0016_reconciliation")]

    operations = [migrations.RunPython(run_statements(CREATE), run_statements(DROP))]
