"""Stays from the property systems (seed 002's All Trx screen): the record points are calculated from."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class StayStatus(models.TextChoices):
    CHECKED_OUT = "checked_out", "CHECKED OUT"
    IN_HOUSE = "in_house", "IN HOUSE"
    NO_SHOW = "no_show", "NO SHOW"
    CANCELLED = "cancelled", "CANCELLED"


class StayException(models.TextChoices):
    """What the system flags on a stay it cannot credit as it stands (seed 002's membership exceptions)."""

    NONE = "", "None"
    NO_CARD = "no_card", "Stay without a membership card"
    UNKNOWN_CARD = "unknown_card", "Card number not found"
    OTHER_MEMBERS_CARD = "other_members_card", "Another member's card"
    CALCULATION_FAILED = "calculation_failed", "Calculation failed"


class Stay(models.Model):
    """One reservation's stay as the property system reports it; calculated once, after the delay.

    The property's reservation number identifies it in the program: the feed may send a stay again
    (IN HOUSE, then CHECKED OUT) and the newer record replaces it until its points are calculated.
    """

    # Program, membership and guest lead composite indexes below: no single-column index each (a stay's
    # calculation updates the row, and every index is rewritten with it).
    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    hotel = models.ForeignKey("loyalty.Location", verbose_name="property", on_delete=models.PROTECT, related_name="+")
    property_reservation_number = models.CharField(max_length=30)
    central_reservation_number = models.CharField(max_length=30, blank=True)
    guest_name = models.CharField(max_length=100, blank=True)
    arrival_date = models.DateField()
    departure_date = models.DateField()
    status = models.CharField(max_length=12, choices=StayStatus.choices)
    room_revenue = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    # As the property sent it; `membership` is the card it names, when the program knows it.
    card_number = models.CharField(max_length=30, blank=True)
    membership = models.ForeignKey(
        "loyalty.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="stays", db_index=False
    )
    # The guest profile the property attached, when it knew one: how "another member's card" is seen.
    guest = models.ForeignKey(
        "loyalty.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="stays", db_index=False
    )
    exception = models.CharField(max_length=20, choices=StayException.choices, default="", blank=True)
    exception_detail = models.CharField(max_length=200, blank=True)
    card_attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    card_attached_at = models.DateTimeField(null=True, blank=True)
    calculated_at = models.DateTimeField(null=True, blank=True)
    activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="stay"
    )
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-departure_date", "-id"]
        indexes = [
            models.Index(fields=["membership", "-departure_date"], name="stay_by_membership"),
            models.Index(fields=["guest", "-departure_date"], name="stay_by_guest"),
            # The daily calculation's work: checked-out stays with a card, not yet calculated.
            models.Index(
                fields=["program", "departure_date", "id"],
                condition=Q(status="checked_out", activity__isnull=True, membership__isnull=False, exception=""),
                name="stay_awaiting_calculation",
            ),
            # The stays whose calculation failed, counted at each /metrics scrape (claims.operations).
            models.Index(
                fields=["id"],
                condition=Q(exception="calculation_failed", activity__isnull=True),
                name="stay_calculation_failed",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "hotel", "property_reservation_number"],
                name="one_stay_per_property_reservation",
                violation_error_message="The property already sent this reservation.",
            ),
            models.CheckConstraint(
                condition=Q(departure_date__gte=models.F("arrival_date")),
                name="stay_departure_after_arrival",
                violation_error_message="The departure date cannot be before the arrival date.",
            ),
            models.CheckConstraint(
                condition=Q(activity__isnull=True) | Q(status="checked_out", calculated_at__isnull=False),
                name="stay_credited_only_when_checked_out",
                violation_error_message="Only a checked-out stay earns points.",
            ),
        ]

    def __str__(self):
        return f"{self.hotel.code if self.hotel_id else '?'} {self.property_reservation_number}"

    @property
    def nights(self):
        return (self.departure_date - self.arrival_date).days

    @property
    def calculated(self):
        return self.activity_id is not None

    @property
    def card_can_change(self):
        """Seed 002's Options: a CHECKED OUT stay whose points are not calculated yet."""
        return self.status == StayStatus.CHECKED_OUT and not self.calculated
