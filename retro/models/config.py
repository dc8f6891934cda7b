"""What admins configure per program: the composite retro claim keys and retro settings."""

from decimal import Decimal

from django.db import models
from simple_history.models import HistoricalRecords

# The fixed list of fields a key may be built from (seed 001's "Retro Claim Keys").
# "attribute" picks a named extra attribute of the transaction.
KEY_FIELD_CHOICES = [
    ("location_code", "Location code"),
    ("transaction_date", "Transaction date"),
    ("reference", "Reference / receipt number"),
    ("amount", "Amount"),
    ("currency", "Currency"),
    ("register_id", "Register / terminal id"),
    ("card_last_four", "Card last four digits"),
    ("attribute", "Named extra attribute"),
]


class RetroClaimKey(models.Model):
    """The composite key of one transaction type in one program, e.g. store + date + receipt + amount."""

    # Admins' edits, with who and when (the recomputation's progress fields are its own log).
    history = HistoricalRecords(
        excluded_fields=["recompute_state", "recompute_done", "recompute_total", "recompute_error"]
    )


    class RecomputeState(models.TextChoices):
        IDLE = "idle", "Up to date"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Recomputing"
        FAILED = "failed", "Failed"

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="retro_claim_keys")
    transaction_type = models.CharField(max_length=12, help_text="Activity kind: purchase, stay, flight…")
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change of the fields.")
    # Progress of the background recomputation of stored keys after a change.
    recompute_state = models.CharField(max_length=10, choices=RecomputeState.choices, default=RecomputeState.IDLE)
    recompute_done = models.PositiveIntegerField(default=0)
    recompute_total = models.PositiveIntegerField(default=0)
    recompute_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program", "transaction_type"]
        constraints = [
            models.UniqueConstraint(fields=["program", "transaction_type"], name="one_retro_key_per_type"),
        ]

    def __str__(self):
        return f"{self.program} · {self.transaction_type}"


class RetroClaimKeyField(models.Model):
    history = HistoricalRecords()  # admins' edits, with who and when

    key = models.ForeignKey(RetroClaimKey, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField()
    field = models.CharField(max_length=20, choices=KEY_FIELD_CHOICES)
    attribute_name = models.SlugField(max_length=40, blank=True, help_text="Only for a named extra attribute.")

    class Meta:
        ordering = ["key", "position"]
        constraints = [
            models.UniqueConstraint(fields=["key", "position"], name="retro_key_position_unique"),
            models.CheckConstraint(
                condition=(models.Q(field="attribute") & ~models.Q(attribute_name=""))
                | (~models.Q(field="attribute") & models.Q(attribute_name="")),
                name="attribute_name_only_for_attributes",
                violation_error_message="Give an attribute name for a named extra attribute, and only for one.",
            ),
        ]

    def __str__(self):
        return self.attribute_name or self.get_field_display()

    @property
    def form_name(self):
        """The name this part of the key has in forms, CSV files and the API."""
        return f"attr_{self.attribute_name}" if self.field == "attribute" else self.field


class RetroSettings(models.Model):
    history = HistoricalRecords()  # admins' edits, with who and when

    program = models.OneToOneField("loyalty.Program", on_delete=models.CASCADE, related_name="retro_settings")
    retro_enabled = models.BooleanField(default=True)
    submission_limit_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many claims per member…"
    )
    submission_limit_days = models.PositiveIntegerField(null=True, blank=True, help_text="…in this many days.")
    max_transaction_age_days = models.PositiveIntegerField(
        default=180, help_text="A transaction older than this on the claim date cannot be claimed."
    )
    transaction_lifetime_days = models.PositiveIntegerField(
        default=365, help_text="A retro transaction expires this many days after its date."
    )
    enrolment_buffer_days = models.PositiveIntegerField(
        default=0, help_text="Transactions up to this many days before enrolment may be claimed."
    )
    reprocessing_enabled = models.BooleanField(
        default=True, help_text="Off: the first match attempt is the only one (seed 001)."
    )
    approval_required = models.BooleanField(default=False)
    auto_approve_max_points = models.PositiveIntegerField(
        null=True, blank=True, help_text="With approval required: claims earning up to this many points post at once."
    )
    review_above_points = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Always review: a claim earning more than this many points waits for a supervisor, even when "
        "approval is otherwise not required.",
    )
    max_transaction_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("100000.00"),
        help_text="The largest amount a retro transaction or claim may carry; larger ones are refused.",
    )
    notify_submitted = models.BooleanField(default=True)
    notify_matched = models.BooleanField(default=True)
    notify_already_claimed = models.BooleanField(default=True)
    notify_failed = models.BooleanField(default=True)
    notify_not_matched = models.BooleanField(default=True)
    notify_rejected = models.BooleanField(default=True)
    notify_reversed = models.BooleanField(default=True)

    class Meta:
        verbose_name = "retro settings"
        verbose_name_plural = "retro settings"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(submission_limit_count__isnull=True) & models.Q(submission_limit_days__isnull=True))
                | (models.Q(submission_limit_count__isnull=False) & models.Q(submission_limit_days__isnull=False)),
                name="submission_limit_needs_count_and_days",
                violation_error_message="A submission limit needs both a number of claims and a number of days.",
            ),
            models.CheckConstraint(
                condition=models.Q(max_transaction_amount__gt=0),
                name="max_amount_positive",
                violation_error_message="The maximum amount must be more than zero.",
            ),
        ]

    def __str__(self):
        return f"Retro settings · {self.program}"
