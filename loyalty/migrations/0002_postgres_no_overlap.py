"""The database itself forbids overlapping rule sets and tier periods (btree_gist exclusion constraints).

The model's clean() and the services' checks say it first, in words; both ends are inclusive, NULL means open.
"""

from django.db import migrations

from loyalty.migration_helpers import run_statements

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE loyalty_earningruleset ADD CONSTRAINT rule_sets_do_not_overlap
       EXCLUDE USING gist (program_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&)""",
    """ALTER TABLE loyalty_tierperiod ADD CONSTRAINT tier_periods_do_not_overlap
       EXCLUDE USING gist (membership_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&)""",
]
DROP = [
    "ALTER TABLE loyalty_earningruleset DROP CONSTRAINT IF EXISTS rule_sets_do_not_overlap",
    "ALTER TABLE loyalty_tierperiod DROP CONSTRAINT IF EXISTS tier_periods_do_not_overlap",
]


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(run_statements(CREATE), run_statements(DROP))]
