"""import_retro_transactions FILE --program CODE: a CSV of retro transactions into the pool, whole or not at all."""

from retro.imports.command import ImportCommand, ProgressBar  # noqa: F401 - ProgressBar: imported by tests
from retro.imports.services import TRANSACTIONS


class Command(ImportCommand):
    kind = TRANSACTIONS
    help = (
        "Import a CSV file of retro transactions, whole or not at all (one transaction; COPY new rows straight "
        "into the pool, through a staging table only when a chunk repeats known rows). Rows with a "
        "membership_number are posted to that member. Known source ids are skipped; rejected rows go to an "
        "error report CSV; waiting claims the new transactions answer are matched at once."
    )

    def summary(self, batch):
        return (
            f"Import #{batch.pk}: {batch.rows_done:,} rows, {batch.rows_imported:,} imported, "
            f"{batch.rows_duplicate:,} duplicates, {batch.rows_rejected:,} rejected, "
            f"{batch.rows_posted:,} posted to members; {batch.claims_matched:,} waiting claims matched."
        )
