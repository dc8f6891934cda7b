"""Effective-dated earning rule sets: a new period gets a new set, a used set is never edited."""

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords


class EarningRuleSet(models.Model):
    """Rules in force from `valid_from` to `valid_to`, both inclusive (open-ended when null).

    Sets of one program never overlap: clean() says so in forms and, on
    PostgreSQL, an exclusion constraint (migration 0002) guarantees it.
    """
    history = HistoricalRecords()  # admins' edits, with who and when


    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="rule_sets")
    name = models.CharField(max_length=100)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "-valid_from"]
        indexes = [models.Index(fields=["program", "valid_from"], name="ruleset_program_from")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="rule_set_ends_after_start",
                violation_error_message="The end date must be on or after the start date.",
            ),
        ]

    def __str__(self):
        end = self.valid_to.isoformat() if self.valid_to else "open"
        return f"{self.name} ({self.valid_from.isoformat()} – {end})"

    def covers(self, day):
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def overlapping_sets(self):
        others = EarningRuleSet.objects.filter(program_id=self.program_id).exclude(pk=self.pk)
        if self.valid_to is not None:
            others = others.filter(valid_from__lte=self.valid_to)
        return others.filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=self.valid_from))

    @property
    def is_used(self):
        return self.pk is not None and self.activities.exists()

    USED_MESSAGE = (
        "“{name}” has already valued activities, so it can no longer be edited or deleted: "
        "late postings dated in its period must keep earning what it said. Create a new rule set for the new "
        "period instead (an open-ended set may only be given an end date)."
    )

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self._refuse_editing_if_used()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_used:
            raise ValidationError(self.USED_MESSAGE.format(name=self.name))
        return super().delete(*args, **kwargs)

    def _refuse_editing_if_used(self):
        """A used set may change only by closing an open end after its last valued activity."""
        stored = EarningRuleSet.objects.filter(pk=self.pk).first()
        if stored is None or not stored.is_used:
            return
        tracked = ("program_id", "name", "valid_from", "valid_to")
        changed = [name for name in tracked if getattr(stored, name) != getattr(self, name)]
        if not changed:
            return
        last_used = stored.activities.aggregate(last=models.Max("occurred_on"))["last"]
        closing_open_end = (
            changed == ["valid_to"]
            and stored.valid_to is None
            and self.valid_to is not None
            and self.valid_to >= last_used
        )
        if not closing_open_end:
            raise ValidationError(self.USED_MESSAGE.format(name=stored.name))

    def clean(self):
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "The end date must be on or after the start date."})
        if self.program_id and self.valid_from:
            clash = self.overlapping_sets().first()
            if clash is not None:
                raise ValidationError(
                    f"This period overlaps “{clash}”. Rule sets of one program may not overlap: "
                    "end the earlier set the day before this one starts."
                )


class EarningRule(models.Model):
    """One way an activity earns, with optional conditions; all matching rules of a set apply."""
    history = HistoricalRecords()  # admins' edits, with who and when


    class Calculation(models.TextChoices):
        FIXED = "fixed", "Fixed points per activity"
        PER_CURRENCY_UNIT = "per_unit", "Points per currency unit"
        PERCENT_OF_AMOUNT = "percent", "Percentage of amount"
        DISTANCE = "distance", "Distance × class multiplier"
        PERCENT_OF_BASE = "percent_base", "Percentage of base points (tier bonus)"

    class Tracker(models.TextChoices):
        AWARD_BALANCE = "award_balance", "Award balance"
        TIER_POINTS = "tier_points", "Tier points to date"

    rule_set = models.ForeignKey(EarningRuleSet, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=100)
    activity_kind = models.CharField(max_length=12, blank=True, help_text="Blank: any kind that earns.")
    calculation = models.CharField(max_length=12, choices=Calculation.choices)
    metric = models.CharField(
        max_length=20,
        default="base",
        choices=[
            ("base", "Base points"),
            ("bonus", "Bonus points"),
            ("misc", "Misc points"),
            ("tier_points", "Tier points"),
        ],
    )
    points = models.IntegerField(null=True, blank=True, help_text="Fixed points.")
    rate = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Points per currency unit, or the percentage for percentage rules.",
    )
    class_multipliers = models.JSONField(
        default=dict, blank=True, help_text='Distance rules: {"J": 1.5, "Y": 1, "economy": 1}; 1 when absent.'
    )
    # Conditions: a blank condition always holds.
    tier = models.ForeignKey("loyalty.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("loyalty.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cabin = models.CharField(max_length=20, blank=True)
    booking_class = models.CharField(max_length=2, blank=True)
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Trackers are read at processing time, not on the original date (seed 003's callout).
    tracker = models.CharField(max_length=20, choices=Tracker.choices, blank=True)
    tracker_min = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["rule_set", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        needs = {
            self.Calculation.FIXED: ("points", "Fixed rules need a number of points."),
            self.Calculation.PER_CURRENCY_UNIT: ("rate", "Give the points per currency unit."),
            self.Calculation.PERCENT_OF_AMOUNT: ("rate", "Give the percentage of the amount."),
            self.Calculation.PERCENT_OF_BASE: ("rate", "Give the percentage of base points."),
        }
        field, message = needs.get(self.calculation, (None, None))
        if field and getattr(self, field) is None:
            raise ValidationError({field: message})
        if self.tracker and self.tracker_min is None:
            raise ValidationError({"tracker_min": "Give the minimum the tracker must reach."})
        if not isinstance(self.class_multipliers, dict):
            raise ValidationError({"class_multipliers": 'Use an object such as {"J": 1.5, "Y": 1}.'})
        for key, value in self.class_multipliers.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError({"class_multipliers": f"The multiplier of “{key}” must be a number."})

    def _refuse_if_set_used(self):
        if self.rule_set_id and EarningRuleSet.objects.filter(pk=self.rule_set_id, activities__isnull=False).exists():
            raise ValidationError(EarningRuleSet.USED_MESSAGE.format(name=self.rule_set.name))

    def save(self, *args, **kwargs):
        self._refuse_if_set_used()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_set_used()
        return super().delete(*args, **kwargs)
