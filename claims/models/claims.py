"""The membership claim (seed 002's Membership Claim screen) and its notes chronology."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

ADJUSTMENT_PARTS = {
    # total field: its parts (seed 002's Limited Adjustments block)
    "total_points": ("base_points", "bonus_points", "misc_points"),
    "total_stays": ("base_stays", "bonus_stays"),
    "total_nights": ("base_nights", "bonus_nights"),
    "total_revenue": ("base_revenue", "bonus_revenue"),
}
ADJUSTMENT_FIELDS = tuple(name for total, parts in ADJUSTMENT_PARTS.items() for name in (*parts, total))


class ClaimStatus(models.TextChoices):
    # Seed 002: "The status codes in the list are hard coded and cannot be changed."
    OPEN = "open", "OPEN"
    PENDING = "pending", "PENDING"
    REVIEW = "review", "REVIEW"
    WAIT_CALLER = "wait_caller", "WAIT-CALLER"
    CLOSED = "closed", "CLOSED"


OPEN_STATUSES = [ClaimStatus.OPEN, ClaimStatus.PENDING, ClaimStatus.REVIEW, ClaimStatus.WAIT_CALLER]


class ClaimDecision(models.TextChoices):
    NONE = "none", "None"
    APPROVED = "approved", "Approve"
    REJECTED = "rejected", "Reject"


class ClaimSource(models.TextChoices):
    BACK_OFFICE = "back_office", "Back office"
    PROPERTY = "property", "Property system"
    WEB = "web", "Web"


class RecordType(models.TextChoices):
    STAY = "stay", "STAY"
    OTHER = "other", "OTHER"
    LIMITED_ADJUSTMENT = "limited_adjustment", "LIMITED ADJUSTMENT"


def _points(label):
    return models.IntegerField(label, null=True, blank=True)


class MembershipClaim(FSMModelMixin, models.Model):
    """A member's claim for credit or service, worked as a case; its number is its id, given on save."""

    # The foreign keys searched by have a composite index (fk, -id) below, which also serves their checks:
    # no single-column index of their own (each costs every insert).
    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    membership = models.ForeignKey(
        "loyalty.Membership", on_delete=models.PROTECT, related_name="membership_claims", db_index=False
    )
    claim_date = models.DateField(help_text="Program-local date the claim was entered.")
    created_at = models.DateTimeField()
    closed_on = models.DateField("close date", null=True, blank=True)
    source = models.CharField(max_length=12, choices=ClaimSource.choices, default=ClaimSource.BACK_OFFICE)
    caller_name = models.CharField(max_length=100, blank=True, help_text="Who called; may not be the member.")
    status = FSMField(default=ClaimStatus.OPEN, choices=ClaimStatus.choices, protected=True)
    decision = FSMField("approve/reject", default=ClaimDecision.NONE, choices=ClaimDecision.choices, protected=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    origin = models.ForeignKey("claims.ClaimOrigin", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Who handles the claim.", db_index=False,
    )  # fmt: skip
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    claim_type = models.ForeignKey("claims.ClaimType", on_delete=models.PROTECT, related_name="+", db_index=False)
    # As they were when the claim was made (seed 002: view-only).
    card_level = models.CharField(max_length=50, blank=True)
    joined_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    record_type = models.CharField(max_length=20, choices=RecordType.choices, default=RecordType.STAY)
    hotel = models.ForeignKey(
        "loyalty.Location", verbose_name="property", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    property_reservation_number = models.CharField(max_length=30, blank=True)
    central_reservation_number = models.CharField(max_length=30, blank=True)
    arrival_date = models.DateField(null=True, blank=True)
    departure_date = models.DateField(null=True, blank=True)
    caller_information = models.TextField(blank=True)
    reply_by = models.DateField("reply by", null=True, blank=True)
    comments = models.TextField(blank=True)
    stay = models.ForeignKey(
        "claims.Stay", null=True, blank=True, on_delete=models.PROTECT, related_name="claims",
        help_text="The stay this claim adjusts, when opened from the member's transactions.",
    )  # fmt: skip
    # Limited adjustment (record type LIMITED ADJUSTMENT): posted to the ledger once, on approval.
    adjustment_code = models.ForeignKey(
        "claims.AdjustmentCode", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    base_points = _points("base points")
    bonus_points = _points("bonus points")
    misc_points = _points("misc points")
    total_points = _points("total points")
    base_stays = _points("base stays")
    bonus_stays = _points("bonus stays")
    total_stays = _points("total stays")
    base_nights = _points("base nights")
    bonus_nights = _points("bonus nights")
    total_nights = _points("total nights")
    base_revenue = models.DecimalField("base revenue", max_digits=12, decimal_places=2, null=True, blank=True)
    bonus_revenue = models.DecimalField("bonus revenue", max_digits=12, decimal_places=2, null=True, blank=True)
    total_revenue = models.DecimalField("total revenue", max_digits=12, decimal_places=2, null=True, blank=True)
    activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="membership_claim"
    )

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("submit_primary_claim", "Can submit claims for a member's primary membership"),
            ("submit_nonprimary_claim", "Can submit claims for a member's other memberships"),
            ("approve_limited_adjustment", "Can approve limited adjustments (posts their points)"),
            ("enter_as_property", "Enters claims as a property-system user (OPEN, no approve/reject)"),
        ]
        # Each basic search criterion reads its own index, newest claim first (the grid's default order).
        indexes = [
            models.Index(fields=["program", "-id"], name="claim_by_program"),
            models.Index(fields=["membership", "-id"], name="claim_by_membership"),
            models.Index(fields=["claim_type", "-id"], name="claim_by_type"),
            models.Index(fields=["source", "-id"], name="claim_by_source"),
            models.Index(fields=["owner", "-id"], name="claim_by_owner"),
            models.Index(fields=["submitted_by", "-id"], name="claim_by_submitter"),
            models.Index(fields=["hotel", "-id"], name="claim_by_property"),
            models.Index(fields=["status", "-id"], name="claim_by_status"),
            models.Index(fields=["property_reservation_number"], name="claim_by_property_resv",
                         condition=~Q(property_reservation_number="")),
            models.Index(fields=["central_reservation_number"], name="claim_by_central_resv",
                         condition=~Q(central_reservation_number="")),
            models.Index(fields=["claim_date", "-id"], name="claim_by_date"),
            # The lamp and the CSR's "due today or overdue": open claims only.
            models.Index(fields=["membership"], condition=~Q(status="closed"), name="claim_open_by_membership"),
            models.Index(fields=["owner", "reply_by"], condition=~Q(status="closed") & Q(reply_by__isnull=False),
                         name="claim_open_due_by_owner"),
        ]  # fmt: skip
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", closed_on__isnull=False)
                | (~Q(status="closed") & Q(closed_on__isnull=True)),
                name="claim_closed_iff_close_date",
                violation_error_message="A closed claim has a close date, and only a closed claim has one.",
            ),
            models.CheckConstraint(
                condition=~Q(record_type="limited_adjustment") | Q(adjustment_code__isnull=False),
                name="limited_adjustment_has_code",
                violation_error_message="A limited adjustment needs its adjustment code.",
            ),
            models.CheckConstraint(
                condition=Q(activity__isnull=True) | Q(decision="approved", record_type="limited_adjustment"),
                name="claim_posts_only_approved_adjustments",
                violation_error_message="Only an approved limited adjustment posts points.",
            ),
            models.CheckConstraint(
                condition=Q(arrival_date__isnull=True)
                | Q(departure_date__isnull=True)
                | Q(departure_date__gte=models.F("arrival_date")),
                name="claim_departure_after_arrival",
                violation_error_message="The departure date cannot be before the arrival date.",
            ),
            *[
                models.CheckConstraint(
                    condition=~Q(record_type="limited_adjustment")
                    | Q(**{total: sum((models.F(part) for part in parts[1:]), models.F(parts[0]))}),
                    name=f"claim_{total}_is_its_parts",
                    violation_error_message=f"The {total.replace('_', ' ')} must equal its parts.",
                )
                for total, parts in ADJUSTMENT_PARTS.items()
            ],
        ]

    def __str__(self):
        return str(self.pk or "(new)")

    @property
    def number(self):
        return self.pk

    @property
    def is_open(self):
        return self.status != ClaimStatus.CLOSED

    @property
    def is_adjustment(self):
        return self.record_type == RecordType.LIMITED_ADJUSTMENT

    # Applied only by loyalty.lifecycle.transition(), which logs who, when and why.

    @transition(field=status, source=[s for s in OPEN_STATUSES if s != ClaimStatus.OPEN], target=ClaimStatus.OPEN)
    def mark_open(self):
        pass

    @transition(field=status, source=[s for s in OPEN_STATUSES if s != ClaimStatus.PENDING], target=ClaimStatus.PENDING)
    def mark_pending(self):
        pass

    @transition(field=status, source=[s for s in OPEN_STATUSES if s != ClaimStatus.REVIEW], target=ClaimStatus.REVIEW)
    def mark_review(self):
        pass

    @transition(
        field=status, source=[s for s in OPEN_STATUSES if s != ClaimStatus.WAIT_CALLER], target=ClaimStatus.WAIT_CALLER
    )
    def mark_wait_caller(self):
        pass

    @transition(field=status, source=OPEN_STATUSES, target=ClaimStatus.CLOSED)
    def close(self):
        pass

    @transition(field=status, source=ClaimStatus.CLOSED, target=ClaimStatus.OPEN)
    def reopen(self):
        pass

    @transition(field=decision, source=ClaimDecision.NONE, target=ClaimDecision.APPROVED)
    def approve(self):
        pass

    @transition(field=decision, source=ClaimDecision.NONE, target=ClaimDecision.REJECTED)
    def reject(self):
        pass


# The transition that moves a claim to each status from another open one.
STATUS_TRANSITIONS = {
    ClaimStatus.OPEN: "mark_open",
    ClaimStatus.PENDING: "mark_pending",
    ClaimStatus.REVIEW: "mark_review",
    ClaimStatus.WAIT_CALLER: "mark_wait_caller",
    ClaimStatus.CLOSED: "close",
}


class ClaimNote(models.Model):
    """One entry of a claim's chronology: numbered in sequence, never edited or deleted (the database refuses)."""

    class Event(models.TextChoices):
        NOTE = "", "Note"
        OPENED = "opened", "Claim opened"
        CLOSED = "closed", "Claim closed"
        REOPENED = "reopened", "Claim reopened"
        APPROVED = "approved", "Claim approved"
        REJECTED = "rejected", "Claim rejected"

    # (claim, sequence) is unique, and that index serves the claim's lookups.
    claim = models.ForeignKey(MembershipClaim, on_delete=models.PROTECT, related_name="notes", db_index=False)
    sequence = models.PositiveIntegerField()
    event = models.CharField(max_length=10, choices=Event.choices, default=Event.NOTE, blank=True)
    activity_type = models.ForeignKey(
        "claims.NoteActivityType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    text = models.TextField()

    class Meta:
        ordering = ["claim", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "sequence"], name="one_note_per_claim_sequence"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="note_sequence_from_1"),
        ]

    def __str__(self):
        return f"Claim {self.claim_id} note {self.sequence}"

    @property
    def activity_label(self):
        if self.activity_type_id:
            return self.activity_type.label
        return self.get_event_display()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Claim notes are never edited: add a new note.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Claim notes are never deleted.")
