"""What admins configure for membership claims: claim types, origins, note activity types, program settings."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords


class _Choice(models.Model):
    """A list of values admins keep: a short code, the label CSRs read, and whether it is still offered."""

    code = models.SlugField(max_length=20, unique=True, help_text="Short code, e.g. STAY.")
    label = models.CharField(max_length=80)
    active = models.BooleanField(default=True, help_text="Offered for new entries; old ones keep it.")

    class Meta:
        abstract = True
        ordering = ["label"]

    def __str__(self):
        return self.label


class ClaimType(_Choice):
    """Seed 002: "user-definable", e.g. STAY (missing stay credit), NEWCARD (lost or replaced card)."""
    history = HistoricalRecords()  # admins' edits, with who and when



class ClaimOrigin(_Choice):
    """How the claim reached us: e-mail, fax, phone call, web…"""
    history = HistoricalRecords()  # admins' edits, with who and when



class NoteActivityType(_Choice):
    """A note's activity: Reply, Call Property for Verification, Caller Called Back, Remarks…"""
    history = HistoricalRecords()  # admins' edits, with who and when


    class Meta(_Choice.Meta):
        verbose_name = "note activity type"


class ClaimSettings(models.Model):
    """One program's parameters for membership claims and stays (seed 002's membership type settings)."""
    history = HistoricalRecords()  # admins' edits, with who and when


    program = models.OneToOneField("loyalty.Program", on_delete=models.CASCADE, related_name="claim_settings")
    stay_claim_after_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(60)],
        help_text="Days after departure before a missing stay may be claimed: the property's feed needs them "
        "(hotels ask members to wait 5 to 10 business days).",
    )
    stay_claim_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text="Months after departure during which a stay may still be claimed.",
    )
    calculation_delay_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(3), MaxValueValidator(90)],
        help_text="Days after check-out before a stay's points are calculated (at least 3: the property may "
        "still correct the stay).",
    )
    exceptions_enabled = models.BooleanField(
        "membership exceptions",
        default=True,
        help_text="Flag stays the system cannot credit (no card, another member's card, a failed calculation) "
        "and offer the exceptions filter on the member's transactions.",
    )

    class Meta:
        verbose_name = "claim settings"
        verbose_name_plural = "claim settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(calculation_delay_days__gte=3),
                name="stay_calculation_delay_at_least_3_days",
                violation_error_message="Points are calculated at least 3 days after check-out.",
            ),
        ]

    def __str__(self):
        return f"Claim settings of {self.program}"
