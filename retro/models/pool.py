"""The pool of anonymous retro transactions waiting to be claimed."""

from django.conf import settings
from django.db import models


class RetroImportBatch(models.Model):
    """One import (CSV upload, command or API batch), with its progress and error report."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+")
    # What the file holds (retro.imports.kinds).
    kind = models.CharField(max_length=12, default="transactions", help_text="transactions or flights")
    channel = models.CharField(max_length=10, help_text="upload, command or api")
    file_name = models.CharField(max_length=255, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_posted = models.PositiveIntegerField(
        default=0, help_text="Rows carrying a membership number, posted straight to that member."
    )
    claims_matched = models.PositiveIntegerField(
        default=0, help_text="Outstanding claims matched at once by this file's transactions."
    )
    errors = models.JSONField(default=list, blank=True, help_text="[{row, reason}] for the error report")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Import #{self.pk} · {self.file_name or self.channel}"


class RetroTransaction(models.Model):
    """Non-member data of a transaction made without a loyalty id."""

    # Few indexes on purpose: each one slows the bulk import. The composite indexes
    # below all start with the program; the batch link is followed, never searched.
    # Checked once per statement, not once per row: a foreign key costs every imported row a
    # lookup of its program (a quarter of the import's database time). Migration 0006 keeps the
    # same guarantee on PostgreSQL with statement-level triggers.
    program = models.ForeignKey(
        "loyalty.Program",
        on_delete=models.PROTECT,
        related_name="retro_transactions",
        db_index=False,
        db_constraint=False,
    )
    transaction_type = models.CharField(max_length=12, default="purchase")
    source_id = models.CharField(max_length=64, help_text="The feed's own id; unique per program.")
    location_code = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField()
    occurred_on = models.DateField(help_text="Program-local date of occurred_at.")
    reference = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    register_id = models.CharField(max_length=20, blank=True)
    card_last_four = models.CharField(max_length=4, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    match_key = models.CharField(max_length=255, help_text="Normalised composite key, for index matching.")
    expires_on = models.DateField()
    claimed_by = models.OneToOneField(
        "retro.RetroClaim", null=True, blank=True, on_delete=models.PROTECT, related_name="claimed_transaction"
    )
    # A log link, not part of the transaction's meaning: no database check, which
    # would cost every imported row a lookup at commit (about a fifth of an import).
    import_batch = models.ForeignKey(
        RetroImportBatch, null=True, blank=True, on_delete=models.SET_NULL, db_index=False, db_constraint=False
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            # The matching lookup: a key's transactions, oldest first (a key has a
            # handful, so claimed ones are skipped in the index scan).
            models.Index(fields=["program", "match_key", "occurred_at", "id"], name="retro_txn_key"),
            models.Index(fields=["program", "occurred_on"], name="retro_txn_date"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["program", "source_id"], name="retro_txn_source_unique"),
        ]

    def __str__(self):
        return f"{self.source_id} · {self.occurred_on.isoformat()}"
