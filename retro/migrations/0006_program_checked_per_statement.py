"""A pool transaction's program is checked once per statement instead of once per row.

The foreign key ran a lookup of the program (with a share lock) for every
imported row: a quarter of an import's database time. On PostgreSQL these
triggers keep the same guarantee as the key:
- an INSERT (a COPY of 10,000 rows included) checks, after the statement, that
  every program it names exists, and share-locks those programs as the key
  would, so a program cannot be deleted while rows naming it are committed;
- changing a transaction's program checks the new program the same way;
- a program with pool transactions can be neither deleted nor renumbered.
The ORM keeps on_delete=PROTECT, so Django refuses before the database does.
"""

import django.db.models.deletion
from django.db import migrations, models

from loyalty.migration_helpers import run_statements

MISSING = "A retro transaction must belong to an existing program."
CREATE = [
    f"""CREATE OR REPLACE FUNCTION retro_txn_programs_exist() RETURNS trigger AS $$
        DECLARE
          wanted integer;
          present integer;
        BEGIN
          SELECT count(DISTINCT program_id) INTO wanted FROM new_rows;
          SELECT count(*) INTO present FROM (
            SELECT id FROM loyalty_program WHERE id IN (SELECT program_id FROM new_rows) FOR KEY SHARE
          ) locked;
          IF present < wanted THEN
            RAISE EXCEPTION '{MISSING}' USING ERRCODE = 'foreign_key_violation';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER retro_txn_programs_exist AFTER INSERT ON retro_retrotransaction
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION retro_txn_programs_exist()""",
    f"""CREATE OR REPLACE FUNCTION retro_txn_new_program_exists() RETURNS trigger AS $$
        BEGIN
          PERFORM 1 FROM loyalty_program WHERE id = NEW.program_id FOR KEY SHARE;
          IF NOT FOUND THEN
            RAISE EXCEPTION '{MISSING}' USING ERRCODE = 'foreign_key_violation';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER retro_txn_new_program_exists BEFORE UPDATE OF program_id ON retro_retrotransaction
       FOR EACH ROW WHEN (OLD.program_id IS DISTINCT FROM NEW.program_id)
       EXECUTE FUNCTION retro_txn_new_program_exists()""",
    """CREATE OR REPLACE FUNCTION retro_program_keeps_transactions() RETURNS trigger AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM retro_retrotransaction WHERE program_id = OLD.id) THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
              MESSAGE = 'Program ' || OLD.code || ' still has retro transactions in the pool.';
          END IF;
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER retro_program_keeps_transactions BEFORE DELETE ON loyalty_program
       FOR EACH ROW EXECUTE FUNCTION retro_program_keeps_transactions()""",
    """CREATE TRIGGER retro_program_keeps_transactions_id BEFORE UPDATE OF id ON loyalty_program
       FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION retro_program_keeps_transactions()""",
]
DROP = [
    "DROP TRIGGER IF EXISTS retro_program_keeps_transactions_id ON loyalty_program",
    "DROP TRIGGER IF EXISTS retro_program_keeps_transactions ON loyalty_program",
    "DROP FUNCTION IF EXISTS retro_program_keeps_transactions()",
    "DROP TRIGGER IF EXISTS retro_txn_new_program_exists ON retro_retrotransaction",
    "DROP FUNCTION IF EXISTS retro_txn_new_program_exists()",
    "DROP TRIGGER IF EXISTS retro_txn_programs_exist ON retro_retrotransaction",
    "DROP FUNCTION IF EXISTS retro_txn_programs_exist()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0007_search_name_without_punctuation"),
        ("retro", "0005_import_batch_link_unchecked"),
    ]

    operations = [
        migrations.AlterField(
            model_name="retrotransaction",
            name="program",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="retro_transactions",
                to="loyalty.program",
            ),
        ),
        migrations.RunPython(run_statements(CREATE), run_statements(DROP)),
    ]
