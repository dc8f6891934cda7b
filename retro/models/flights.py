"""Airline retro flight claims (seed 000): flown coupons from the departure-control feed, and claims on them.

A Flight is anonymous: the airline's record of one flown coupon, with the passenger name as the
airline carries it. A CSR claims coupons of a ticket for a member; each coupon's claim waits in the
Flights Approval queue and is approved or rejected on its own. A hand-entered flight (seed 000's
"Add Flight Activity") is a claim without a Flight, marked manual entry.
"""

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

TICKET_DIGITS = 13  # 3-digit airline code + 10-digit serial
MAX_COUPONS = 4


class Flight(models.Model):
    # Checked once per statement, as the retro pool's program is (migrations 0006 and 0014): a foreign key
    # would look the program up for each of a feed's million rows.
    program = models.ForeignKey(
        "loyalty.Program", on_delete=models.PROTECT, related_name="flights", db_constraint=False
    )
    ticket_number = models.CharField(max_length=TICKET_DIGITS)
    coupon_number = models.PositiveSmallIntegerField()
    pnr = models.CharField("PNR locator", max_length=6, blank=True)
    operating_carrier = models.CharField(max_length=3)
    marketing_carrier = models.CharField(max_length=3)
    flight_number = models.CharField(max_length=5)
    flight_date = models.DateField(help_text="Local to the origin airport.")
    origin = models.CharField(max_length=3, help_text="IATA airport code.")
    destination = models.CharField(max_length=3, help_text="IATA airport code.")
    cabin = models.CharField(max_length=12, blank=True)
    booking_class = models.CharField(max_length=2, blank=True)
    passenger_name = models.CharField(
        max_length=60, blank=True, help_text="As the airline carries it: SURNAME/GIVENNAMES TITLE, perhaps cut short."
    )
    distance = models.PositiveIntegerField(help_text="Miles.")
    flown = models.BooleanField(default=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ticket_number", "coupon_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket_number", "coupon_number"],
                name="one_flight_per_coupon",
                violation_error_message="This coupon (ticket number and coupon number) is already in the feed.",
            ),
            models.CheckConstraint(
                condition=models.Q(ticket_number__regex=r"^[0-9]{13}$"),
                name="flight_ticket_13_digits",
                violation_error_message="A ticket number has 13 digits.",
            ),
            models.CheckConstraint(
                condition=models.Q(coupon_number__gte=1, coupon_number__lte=MAX_COUPONS),
                name="flight_coupon_1_to_4",
                violation_error_message="A coupon number is 1 to 4.",
            ),
        ]

    def __str__(self):
        return f"{self.ticket_number}/{self.coupon_number}"

    @property
    def airline_code(self):
        return self.ticket_number[:3]

    @property
    def route(self):
        return f"{self.origin}–{self.destination}"


class FlightSettings(models.Model):
    """What an airline program's admins set for retro flight claims; defaults as airlines commonly use."""
    history = HistoricalRecords()  # admins' edits, with who and when


    program = models.OneToOneField("loyalty.Program", on_delete=models.CASCADE, related_name="flight_settings")
    airline_code = models.CharField(
        max_length=3, blank=True, help_text="The program's own 3-digit ticket prefix (e.g. 057)."
    )
    partner_codes = models.CharField(
        max_length=200, blank=True, help_text="Partner airlines' 3-digit ticket prefixes, separated by commas."
    )
    wait_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days after a flight before it can be claimed: the feed needs them to arrive."
    )
    claim_window_months = models.PositiveSmallIntegerField(
        default=6, help_text="How far back a flight can be claimed (airlines use 6 to 12 months)."
    )
    enrolment_buffer_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days before enrolment a flight may still be claimed."
    )
    service_level_days = models.PositiveSmallIntegerField(
        default=5, help_text="Business days within which a claim should be decided (airlines promise 3 to 7)."
    )

    class Meta:
        verbose_name_plural = "flight settings"

    def __str__(self):
        return f"Flight claim settings of {self.program}"

    def accepted_prefixes(self):
        partners = {code.strip() for code in self.partner_codes.split(",") if code.strip()}
        return {self.airline_code, *partners} - {""}


class FlightClaimStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class NameMatch(models.TextChoices):
    MATCH = "match", "Name matches"
    NEAR_MISS = "near_miss", "Near miss"
    MISMATCH = "mismatch", "Name differs"
    MISSING = "missing", "No name on coupon"
    MANUAL = "manual", "Manual entry"


class FlightClaim(FSMModelMixin, models.Model):
    """One coupon claimed for one member. The flight's details are copied, so a manual entry has them too."""

    class Channel(models.TextChoices):
        CSR = "csr", "CSR"
        API = "api", "Web service"

    number = models.CharField(max_length=20, unique=True)
    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="flight_claims")
    membership = models.ForeignKey("loyalty.Membership", on_delete=models.PROTECT, related_name="flight_claims")
    flight = models.ForeignKey(Flight, null=True, blank=True, on_delete=models.PROTECT, related_name="claims")
    manual_entry = models.BooleanField(default=False)
    submission = models.UUIDField(help_text="The coupons of one ticket claimed together share it.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.CSR)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    submitted_at = models.DateTimeField()
    # The coupon as claimed (copied from the Flight, or typed for a manual entry).
    ticket_number = models.CharField(max_length=13)
    coupon_number = models.PositiveSmallIntegerField()
    carrier = models.CharField(max_length=3)
    flight_number = models.CharField(max_length=5)
    flight_date = models.DateField()
    origin = models.CharField(max_length=3)
    destination = models.CharField(max_length=3)
    cabin = models.CharField(max_length=12, blank=True)
    booking_class = models.CharField(max_length=2, blank=True)
    distance = models.PositiveIntegerField()
    passenger_name = models.CharField(max_length=60, blank=True)
    name_match = models.CharField(max_length=10, choices=NameMatch.choices)
    name_score = models.PositiveSmallIntegerField(default=0)
    name_message = models.TextField(blank=True)
    estimated_miles = models.IntegerField(help_text="What approval would post, valued at submission.")
    valued_on = models.DateField(help_text="The date the estimate used: the flight date.")
    note = models.TextField(blank=True, help_text="The CSR's note (why a mismatch is submitted, a manual entry).")
    status = FSMField(default=FlightClaimStatus.PENDING, choices=FlightClaimStatus.choices, protected=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was decided so (required to reject).")
    member_message = models.TextField(blank=True)
    activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="flight_claim"
    )
    notifications_sent = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["submitted_at", "id"]
        permissions = [("approve_flightclaim", "Can approve or reject flight claims")]
        indexes = [
            # The queue, oldest first, and its counts: the filters' columns ride along, so a filtered count
            # over 100,000 pending claims reads the index alone.
            models.Index(
                fields=["status", "submitted_at", "id"],
                include=["name_match", "carrier", "flight_date", "manual_entry", "submitted_by"],
                name="flight_claim_queue",
            ),
            # The dashboard's share of pending claims whose name did not match.
            models.Index(
                fields=["submitted_at"],
                condition=models.Q(status="pending") & ~models.Q(name_match__in=["match", "manual"]),
                name="flight_claim_pending_unmatched",
            ),
            # The dashboard's last 30 days of decisions.
            models.Index(
                fields=["decided_at"], condition=models.Q(decided_at__isnull=False), name="flight_claim_decided"
            ),
            models.Index(fields=["membership", "-submitted_at"], name="flight_claim_member"),
            models.Index(fields=["ticket_number", "coupon_number"], name="flight_claim_coupon"),
        ]
        constraints = [
            # A coupon is credited at most once, and waits in the queue at most once, whoever claims it.
            models.UniqueConstraint(
                fields=["ticket_number", "coupon_number"],
                condition=models.Q(status="approved"),
                name="flight_coupon_credited_once",
                violation_error_message="This coupon has already been credited.",
            ),
            models.UniqueConstraint(
                fields=["ticket_number", "coupon_number"],
                condition=models.Q(status="pending"),
                name="flight_coupon_pending_once",
                violation_error_message="A claim for this coupon is already waiting for approval.",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def route(self):
        return f"{self.origin}–{self.destination}"

    @property
    def coupon(self):
        return f"{self.ticket_number}/{self.coupon_number}"

    # Applied only by loyalty.lifecycle.transition(), which logs who and why.

    @transition(field=status, source=FlightClaimStatus.PENDING, target=FlightClaimStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=FlightClaimStatus.PENDING, target=FlightClaimStatus.REJECTED)
    def reject(self):
        pass
