"""Approval limits: the largest value each role may approve, per program and lifecycle (set in admin)."""

from django.db import models
from simple_history.models import HistoricalRecords


class ApprovalLimit(models.Model):
    history = HistoricalRecords()  # admins' edits, with who and when

    program = models.ForeignKey("loyalty.Program", on_delete=models.CASCADE, related_name="approval_limits")
    # The lifecycle's key, as its ApprovalPolicy registers it (e.g. "membership_claim").
    lifecycle = models.CharField(max_length=40)
    role = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="approval_limits")
    max_value = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="The largest value (points, miles…) this role may approve."
    )
    daily_max = models.DecimalField(
        "daily cap",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The most one person of this role may approve in a day, all decisions together (empty: no cap). "
        "Only lifecycles that count what was approved apply it (e.g. adjustments).",
    )

    class Meta:
        ordering = ["program", "lifecycle", "role__name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "lifecycle", "role"], name="one_approval_limit_per_role"),
            models.CheckConstraint(
                condition=models.Q(max_value__gte=0),
                name="approval_limit_not_negative",
                violation_error_message="The limit cannot be negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(daily_max__isnull=True) | models.Q(daily_max__gte=models.F("max_value")),
                name="approval_daily_cap_at_least_the_limit",
                violation_error_message="The daily cap cannot be below the limit for one decision.",
            ),
        ]

    def __str__(self):
        return f"{self.role} · {self.lifecycle} · up to {self.max_value:,.0f}"
