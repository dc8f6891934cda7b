"""Limited adjustments (seed 002): adjustment codes with their thresholds, and bulk adjustment files."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

# What each threshold bounds: (lower field, upper field) -> the claim's fields it applies to.
THRESHOLDS = {
    "points": ("base_points", "bonus_points", "misc_points", "total_points"),
    "stays": ("base_stays", "bonus_stays", "total_stays"),
    "nights": ("base_nights", "bonus_nights", "total_nights"),
    "revenue": ("base_revenue", "bonus_revenue", "total_revenue"),
}


def _bound(kind, which):
    if kind == "revenue":
        return models.DecimalField(f"{which} revenue", max_digits=12, decimal_places=2, default=Decimal(0))
    return models.IntegerField(f"{which} {kind}", default=0)


class AdjustmentCode(models.Model):
    """Why points are adjusted, and by how much at most: each value of an adjustment must fall in its range."""
    history = HistoricalRecords()  # admins' edits, with who and when


    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=20)
    description = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    lower_points = _bound("points", "lower")
    upper_points = _bound("points", "upper")
    lower_stays = _bound("stays", "lower")
    upper_stays = _bound("stays", "upper")
    lower_nights = _bound("nights", "lower")
    upper_nights = _bound("nights", "upper")
    lower_revenue = _bound("revenue", "lower")
    upper_revenue = _bound("revenue", "upper")

    class Meta:
        ordering = ["program", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="adjustment_code_unique_per_program"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"lower_{kind}__lte": F(f"upper_{kind}")}),
                    name=f"adjustment_code_{kind}_range",
                    violation_error_message=f"The lower {kind} threshold cannot be above the upper one.",
                )
                for kind in THRESHOLDS
            ],
        ]

    def __str__(self):
        return f"{self.code} · {self.description}"

    def range_of(self, kind):
        return getattr(self, f"lower_{kind}"), getattr(self, f"upper_{kind}")

    def threshold_labels(self):
        """[(what, "-1,000 to 5,000")] as the claim screen shows them, formatted as its errors are."""
        labels = {"points": "Award points", "stays": "Stays", "nights": "Nights", "revenue": "Revenue"}
        shown = []
        for kind, label in labels.items():
            lower, upper = self.range_of(kind)
            fmt = "{:,.2f}" if kind == "revenue" else "{:,}"
            shown.append((label, f"{fmt.format(lower)} to {fmt.format(upper)}"))
        return shown


class AdjustmentBatchStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AdjustmentBatch(FSMModelMixin, models.Model):
    """A supervisor's file of adjustments: imported, checked row by row, then approved by someone else."""

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+")
    import_batch = models.OneToOneField(
        "retro.RetroImportBatch", on_delete=models.PROTECT, related_name="adjustment_batch"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    status = FSMField(default=AdjustmentBatchStatus.PENDING, choices=AdjustmentBatchStatus.choices, protected=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    lines_count = models.PositiveIntegerField(default=0)
    points_value = models.BigIntegerField(
        default=0, help_text="The award points its rows move, added up without their signs: what approval is worth."
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name_plural = "adjustment batches"
        permissions = [("approve_adjustmentbatch", "Can approve or reject bulk adjustment files")]
        indexes = [models.Index(fields=["status", "submitted_at"], name="adjustment_batch_queue")]

    def __str__(self):
        return f"#{self.pk}"

    @transition(field=status, source=AdjustmentBatchStatus.PENDING, target=AdjustmentBatchStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=AdjustmentBatchStatus.PENDING, target=AdjustmentBatchStatus.REJECTED)
    def reject(self):
        pass


class AdjustmentLine(models.Model):
    """One row of a bulk adjustment file, checked against its code's thresholds; posted once on approval."""

    batch = models.ForeignKey(AdjustmentBatch, on_delete=models.PROTECT, related_name="lines")
    row = models.PositiveIntegerField(help_text="Its line in the file.")
    membership = models.ForeignKey("loyalty.Membership", on_delete=models.PROTECT, related_name="+")
    adjustment_code = models.ForeignKey(AdjustmentCode, on_delete=models.PROTECT, related_name="+")
    base_points = models.IntegerField(default=0)
    bonus_points = models.IntegerField(default=0)
    misc_points = models.IntegerField(default=0)
    total_points = models.IntegerField(default=0)
    total_stays = models.IntegerField(default=0)
    total_nights = models.IntegerField(default=0)
    total_revenue = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    reason = models.CharField(max_length=200)
    activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment_line"
    )

    class Meta:
        ordering = ["batch", "row"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="one_adjustment_line_per_row"),
            models.CheckConstraint(
                condition=Q(total_points=F("base_points") + F("bonus_points") + F("misc_points")),
                name="adjustment_line_total_is_its_parts",
                violation_error_message="The total points must equal base, bonus and misc points together.",
            ),
        ]

    def __str__(self):
        return f"{self.batch} row {self.row}"
