"""Activities and the append-only, signed points ledger."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Floor


class Metric(models.TextChoices):
    """What a ledger entry counts. Award buckets are spendable; the rest qualify for tiers."""

    BASE = "base", "Base points"
    BONUS = "bonus", "Bonus points"
    MISC = "misc", "Misc points"
    TIER_POINTS = "tier_points", "Tier points"
    QUALIFYING_MILES = "qualifying_miles", "Qualifying miles"
    QUALIFYING_SEGMENTS = "qualifying_segments", "Qualifying segments"
    STAYS = "stays", "Stays"
    NIGHTS = "nights", "Nights"
    REVENUE = "revenue", "Revenue"

    @classmethod
    def award(cls):
        return [cls.BASE, cls.BONUS, cls.MISC]

    @classmethod
    def tier_metrics(cls):
        return [cls.TIER_POINTS, cls.QUALIFYING_MILES, cls.QUALIFYING_SEGMENTS, cls.STAYS, cls.NIGHTS, cls.REVENUE]


class Activity(models.Model):
    """Something that earned or spent: its original date is kept apart from when it was posted."""

    class Kind(models.TextChoices):
        FLIGHT = "flight", "Flight"
        STAY = "stay", "Stay"
        PURCHASE = "purchase", "Purchase"
        ADJUSTMENT = "adjustment", "Adjustment"
        REDEMPTION = "redemption", "Redemption"
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal"

    # Indexes are few on purpose: every one costs each post. Lookups by membership
    # use the timeline and reference indexes below; the other foreign keys are
    # only followed from the activity, never searched by.
    membership = models.ForeignKey(
        "loyalty.Membership", on_delete=models.PROTECT, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurred_on = models.DateField(help_text="Original (program-local) date: decides rules and tier.")
    occurred_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField()
    source = models.CharField(max_length=30, help_text="Channel that caused it: csr, portal, api, pos…")
    external_reference = models.CharField(max_length=100, blank=True, default="")
    caused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    description = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    location = models.ForeignKey(
        "loyalty.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    attributes = models.JSONField(default=dict, blank=True, help_text="distance, cabin, booking_class, nights…")
    rule_set = models.ForeignKey(
        "loyalty.EarningRuleSet", null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    tier = models.ForeignKey(
        "loyalty.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    explanation = models.JSONField(default=dict, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    class Meta:
        ordering = ["-occurred_on", "-posted_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["membership", "-occurred_on", "-posted_at"], name="activity_member_timeline")]
        constraints = [
            # Idempotency: the same source reference posts once per membership.
            models.UniqueConstraint(
                fields=["membership", "source", "external_reference"],
                condition=~models.Q(external_reference=""),
                name="activity_source_reference_once",
            ),
            models.CheckConstraint(
                condition=models.Q(reverses__isnull=True) | models.Q(kind="reversal"),
                name="only_reversals_reverse",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_on.isoformat()} · {self.membership.membership_number}"


class LedgerEntryQuerySet(models.QuerySet):
    """Bulk update/delete would bypass the model's guards: refuse them too."""

    def update(self, **kwargs):
        raise RuntimeError("Ledger entries are append-only: post a reversal instead of editing.")

    def delete(self):
        raise RuntimeError("Ledger entries are append-only: post a reversal instead of deleting.")

    delete.alters_data = True
    delete.queryset_only = True
    update.alters_data = True


class LedgerEntry(models.Model):
    """One signed movement of one metric. Never updated, never deleted."""

    objects = LedgerEntryQuerySet.as_manager()

    # Covered by the (activity, metric) and (membership, metric) indexes below.
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="entries", db_index=False)
    membership = models.ForeignKey(
        "loyalty.Membership", on_delete=models.PROTECT, related_name="ledger_entries", db_index=False
    )
    metric = models.CharField(max_length=20, choices=Metric.choices)
    quantity = models.DecimalField(max_digits=16, decimal_places=2)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["activity", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            # Covering index: a balance is an index-only sum however long the history.
            models.Index(fields=["membership", "metric"], include=["quantity"], name="ledger_balance"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["activity", "metric"], name="one_entry_per_metric_per_activity"),
            models.CheckConstraint(
                condition=models.Q(metric="revenue") | models.Q(quantity=Floor("quantity")),
                name="points_are_whole",
            ),
            models.CheckConstraint(condition=~models.Q(quantity=0), name="ledger_entry_not_zero"),
        ]

    def __str__(self):
        return f"{self.metric} {self.quantity:+}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Ledger entries are append-only: post a reversal instead of editing.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Ledger entries are append-only: post a reversal instead of deleting.")
