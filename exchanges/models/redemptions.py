"""Redemption bookings paid with points (seed 004): partner clients, conversion ratios, the refund policy,
redemptions and their tickets, and the points operations on them."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords


class PartnerClient(models.Model):
    """A booking engine: it signs in as its own user (an API token) and may touch only its programs' bookings."""

    history = HistoricalRecords()  # admins' edits, with who and when

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner_client")
    programs = models.ManyToManyField("loyalty.Program", related_name="+", help_text="The programs it may redeem in.")
    active = models.BooleanField(default=True)
    hold_minutes = models.PositiveIntegerField(
        default=30, help_text="How long a hold keeps its points from the balance unless captured or released."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AwardConversionRatio(models.Model):
    """Seed 004's Award Conversion Database: points per currency unit in one program and market."""

    history = HistoricalRecords()  # admins' edits, with who and when

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    market = models.CharField(max_length=10, help_text="Point of sale, e.g. FR or EU.")
    currency = models.CharField(max_length=3)
    points_per_unit_redemption = models.DecimalField(
        "points per unit (redemption only)", max_digits=10, decimal_places=4,
        help_text="When the base fare is paid wholly with points.",
    )  # fmt: skip
    points_per_unit_mixed = models.DecimalField(
        "points per unit (points plus cash)", max_digits=10, decimal_places=4,
        help_text="The separate, fixed ratio of points-and-cash payments (the fare slider).",
    )  # fmt: skip
    minimum_points_per_ticket = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["program", "market"]
        constraints = [
            models.UniqueConstraint(fields=["program", "market"], name="one_ratio_per_program_market"),
            models.CheckConstraint(
                condition=Q(points_per_unit_redemption__gt=0, points_per_unit_mixed__gt=0),
                name="ratio_points_per_unit_positive",
                violation_error_message="Points per currency unit must be more than zero.",
            ),
        ]

    def __str__(self):
        return f"{self.program} {self.market}"


class RefundPolicy(models.Model):
    """How a program refunds points whose validity ran out while they were spent on a booking.

    Refunded points keep the validity they had: counted from the redemption, they would have expired
    `points_validity_months` later. A refund after that date credits them anyway when the program
    re-credits expired points, and forfeits them otherwise (the booking's refundable points still fall).
    Without a policy, or without a validity, points never expire.
    """

    history = HistoricalRecords()  # admins' edits, with who and when

    program = models.OneToOneField("loyalty.Program", on_delete=models.CASCADE, related_name="refund_policy")
    points_validity_months = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Months after a redemption at which its points would have expired (empty: they never expire).",
    )  # fmt: skip
    recredit_expired_points = models.BooleanField(
        "re-credit expired points", default=True,
        help_text="Credit refunded points even when their validity ran out since the redemption; "
        "unticked, those points are forfeited.",
    )  # fmt: skip

    class Meta:
        verbose_name_plural = "refund policies"

    def __str__(self):
        return f"Refund policy of {self.program}"


class RedemptionStatus(models.TextChoices):
    AUTHORIZED = "authorized", "Authorized (points held)"
    CAPTURED = "captured", "Captured"
    PARTLY_REFUNDED = "partly_refunded", "Partly refunded"
    REFUNDED = "refunded", "Refunded"
    RELEASED = "released", "Released"


REFUNDABLE = [RedemptionStatus.CAPTURED, RedemptionStatus.PARTLY_REFUNDED]
REFUNDED_ANY = [RedemptionStatus.PARTLY_REFUNDED, RedemptionStatus.REFUNDED]


class Redemption(FSMModelMixin, models.Model):
    """A booking paid wholly or partly with points, by its original paying membership."""

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    partner = models.ForeignKey(PartnerClient, on_delete=models.PROTECT, related_name="redemptions")
    pnr = models.CharField("PNR", max_length=13, db_index=True)
    membership = models.ForeignKey(
        "loyalty.Membership", on_delete=models.PROTECT, related_name="redemptions",
        help_text="The original booker, who paid with points: only they are refunded.",
    )  # fmt: skip
    currency = models.CharField(max_length=3)
    cash_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="The cash part (another form of payment): not ours."
    )
    points_held = models.PositiveIntegerField()
    points_captured = models.PositiveIntegerField(default=0)
    points_refunded = models.PositiveIntegerField(default=0)
    refund_count = models.PositiveIntegerField(
        default=0, help_text="Refunds made so far: the next one's number (its activity's reference)."
    )
    status = FSMField(default=RedemptionStatus.AUTHORIZED, choices=RedemptionStatus.choices, protected=True)
    created_at = models.DateTimeField()
    hold_expires_at = models.DateTimeField(help_text="An authorized hold no longer counts after this.")
    captured_at = models.DateTimeField(null=True, blank=True)
    capture_activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="redemption"
    )

    class Meta:
        ordering = ["-id"]
        # No index names the status: a capture or refund then rewrites the row in place, on its own page
        # (a HOT update, with room kept by the table's fillfactor, migration 0006) instead of adding an entry
        # to each of its seven indexes. The active holds that reduce a membership's available balance are
        # found through the membership's index: a membership has few bookings.
        constraints = [
            models.CheckConstraint(
                condition=Q(points_refunded__lte=F("points_captured")),
                name="redemption_refunds_within_captured",
                violation_error_message="A refund cannot exceed the points captured minus those already refunded.",
            ),
            models.CheckConstraint(
                condition=Q(points_captured__lte=F("points_held")),
                name="redemption_captures_within_held",
                violation_error_message="More points cannot be captured than were held.",
            ),
            models.CheckConstraint(condition=Q(cash_amount__gte=0), name="redemption_cash_not_negative"),
        ]

    def __str__(self):
        return f"{self.pnr} #{self.pk}"

    @property
    def points_refundable(self):
        return self.points_captured - self.points_refunded

    # Applied only by loyalty.lifecycle.transition(), which logs who, when and why.

    @transition(field=status, source=RedemptionStatus.AUTHORIZED, target=RedemptionStatus.CAPTURED)
    def capture(self):
        pass

    @transition(field=status, source=RedemptionStatus.AUTHORIZED, target=RedemptionStatus.RELEASED)
    def release(self):
        pass

    @transition(field=status, source=REFUNDABLE, target=RedemptionStatus.PARTLY_REFUNDED)
    def refund_part(self):
        pass

    @transition(field=status, source=REFUNDABLE, target=RedemptionStatus.REFUNDED)
    def refund_rest(self):
        pass

    # A manual-handling case takes back points refunded in error (a reversal).

    @transition(field=status, source=REFUNDED_ANY, target=RedemptionStatus.PARTLY_REFUNDED)
    def reverse_part(self):
        pass

    @transition(field=status, source=REFUNDED_ANY, target=RedemptionStatus.CAPTURED)
    def reverse_all(self):
        pass


class RedemptionTicket(models.Model):
    """One ticket of a redemption and the points it was paid with: refunds may go ticket by ticket."""

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    ticket_number = models.CharField(max_length=13)
    points = models.PositiveIntegerField()
    points_refunded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["redemption", "ticket_number"]
        constraints = [
            models.UniqueConstraint(fields=["redemption", "ticket_number"], name="one_ticket_per_redemption"),
            models.CheckConstraint(
                condition=Q(points_refunded__lte=F("points")),
                name="ticket_refunds_within_points",
                violation_error_message="A ticket cannot be refunded more points than it was paid with.",
            ),
        ]

    def __str__(self):
        return self.ticket_number

    @property
    def points_refundable(self):
        return self.points - self.points_refunded


class PointsOperation(models.Model):
    """One call of a partner on a redemption's points: a hold, its capture or release, a refund."""

    class Kind(models.TextChoices):
        AUTHORIZE = "authorize", "Authorize (hold)"
        CAPTURE = "capture", "Capture"
        RELEASE = "release", "Release"
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal (manual handling)"

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="operations", db_index=False)
    partner = models.ForeignKey(PartnerClient, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.PositiveIntegerField()
    cash_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    tickets = models.JSONField(default=dict, blank=True, help_text="Points per ticket number (refunds).")
    points_forfeited = models.PositiveIntegerField(
        default=0, help_text="Of a refund's points, those past their validity and not credited (refund policy)."
    )
    activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="points_operation"
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["redemption", "id"], name="operation_by_redemption")]
        constraints = [
            # A retried call has its effect once, whatever the timing: the database decides.
            models.UniqueConstraint(
                fields=["partner", "kind", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="operation_once_per_partner_key",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["redemption", "kind"],
                condition=Q(kind__in=["authorize", "capture", "release"]),
                name="one_hold_capture_release",
            ),
            models.CheckConstraint(
                condition=Q(points_forfeited__lte=F("points")), name="operation_forfeits_within_points"
            ),
            models.CheckConstraint(
                condition=Q(points__gt=0) | Q(kind="release"),
                name="operation_moves_points",
            ),  # fmt: skip
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.points} · {self.redemption_id}"
