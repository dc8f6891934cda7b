"""Tiers and a membership's tier history, kept as dated periods."""

from django.db import models
from simple_history.models import HistoricalRecords


class Tier(models.Model):
    history = HistoricalRecords()  # admins' edits, with who and when

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="tiers")
    code = models.SlugField(max_length=20)
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(help_text="1 is the entry tier; higher ranks are better.")

    class Meta:
        ordering = ["program", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["program", "rank"], name="tier_rank_unique_per_program"),
            models.UniqueConstraint(fields=["program", "code"], name="tier_code_unique_per_program"),
        ]

    def __str__(self):
        return self.name


class TierPeriod(models.Model):
    """The tier a membership held from `valid_from` to `valid_to` (inclusive; open when null).

    Periods of one membership never overlap: the database enforces it on
    PostgreSQL (exclusion constraint, migration 0002); at most one is open.
    """

    membership = models.ForeignKey("loyalty.Membership", on_delete=models.PROTECT, related_name="tier_periods")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="periods")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["membership", "-valid_from"]
        indexes = [models.Index(fields=["membership", "valid_from"], name="tierperiod_membership_from")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="tier_period_ends_after_start",
                violation_error_message="A tier period must end on or after the day it starts.",
            ),
            models.UniqueConstraint(
                fields=["membership"],
                condition=models.Q(valid_to__isnull=True),
                name="one_open_tier_period",
                violation_error_message="This membership already has an open tier period: give it an end date first.",
            ),
        ]

    def __str__(self):
        end = self.valid_to.isoformat() if self.valid_to else "…"
        return f"{self.tier} {self.valid_from.isoformat()} – {end}"
