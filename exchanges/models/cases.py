"""Manual-handling cases: failures after the point of no return, their notes, and the points corrections that
resolve them (maker/checker above the approval limit)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from exchanges.models.redemptions import PartnerClient, Redemption


class FailedStep(models.TextChoices):
    """Seed 004's soft failures: after the point of no return, nothing is undone by itself."""

    AER = "aer", "AER call failed"
    COLLECT_MISC_FEE = "collect_misc_fee", "CollectMiscFee call failed"
    REFUND_POINTS = "refund_points", "Refund points failed"
    AUTHORIZE_POINTS = "authorize_points", "Points authorization failed"
    SEATS_NO_AE = "seats_no_ae", "Seats error (4G did not add AE)"
    SEATS_4G = "seats_4g", "Seats error (4G failed)"
    TICKETING = "ticketing", "VCR ticketing failed"
    UPDATE_RESERVATION = "update_reservation", "UpdateReservation failed (change fee AE)"
    REMOVE_AWARD_PAYFIELDS = "remove_award_payfields", "Removing obsolete award payment PayFields failed"
    ADD_REFUND_PAYFIELDS = "add_refund_payfields", "Adding refund PayFields failed"
    ADD_AWARD_PAYFIELDS = "add_award_payfields", "Adding award payment PayFields failed"
    EMD_REASSOCIATION = "emd_reassociation", "EMD reassociation failed"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    CANCELLED = "cancelled", "Cancelled"


class ManualHandlingCase(FSMModelMixin, models.Model):
    """A failure after the point of no return, for an agent to put right."""

    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="cases")
    partner = models.ForeignKey(PartnerClient, on_delete=models.PROTECT, related_name="+", db_index=False)
    failed_step = models.CharField(max_length=30, choices=FailedStep.choices)
    detail = models.TextField(blank=True, help_text="What the booking engine reported.")
    status = FSMField(default=CaseStatus.OPEN, choices=CaseStatus.choices, protected=True)
    opened_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(fields=["opened_at"], condition=Q(status__in=["open", "in_progress"]), name="case_open_by_age")
        ]
        permissions = [("handle_manualhandlingcase", "Can take, note, resolve and cancel manual-handling cases")]

    def __str__(self):
        return f"Case {self.pk}"

    @transition(field=status, source=CaseStatus.OPEN, target=CaseStatus.IN_PROGRESS)
    def take(self):
        pass

    @transition(field=status, source=CaseStatus.IN_PROGRESS, target=CaseStatus.RESOLVED)
    def resolve(self):
        pass

    @transition(field=status, source=[CaseStatus.OPEN, CaseStatus.IN_PROGRESS], target=CaseStatus.CANCELLED)
    def cancel(self):
        pass


class CaseNote(models.Model):
    """One entry of a case's notes: numbered in sequence, never edited."""

    case = models.ForeignKey(ManualHandlingCase, on_delete=models.PROTECT, related_name="notes", db_index=False)
    sequence = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    text = models.TextField()

    class Meta:
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="one_note_per_case_sequence"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="case_note_sequence_from_1"),
        ]

    def __str__(self):
        return f"Case {self.case_id} note {self.sequence}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a checker"
    APPROVED = "approved", "Posted"
    REJECTED = "rejected", "Rejected"


class CaseCorrection(FSMModelMixin, models.Model):
    """The points an agent re-credits to, or reverses from, the paying member to resolve a case.

    Within the agent's approval limit it posts at once; above it, it waits for another person (a checker)
    whose limit covers it, and the case stays in progress until then.
    """

    class Direction(models.TextChoices):
        RECREDIT = "recredit", "Re-credit points to the member"
        REVERSE = "reverse", "Reverse points from the member"

    case = models.ForeignKey(ManualHandlingCase, on_delete=models.PROTECT, related_name="corrections")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    points = models.PositiveIntegerField()
    reason = models.TextField()
    status = FSMField(default=CorrectionStatus.PENDING, choices=CorrectionStatus.choices, protected=True)
    needs_checker = models.BooleanField(
        default=True, help_text="Above its maker's approval limit: another person must approve it."
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    operation = models.OneToOneField(
        "exchanges.PointsOperation", null=True, blank=True, on_delete=models.PROTECT, related_name="correction"
    )

    class Meta:
        ordering = ["proposed_at", "id"]
        indexes = [models.Index(fields=["proposed_at"], condition=Q(status="pending"), name="correction_pending")]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"), name="one_pending_correction"),
            models.CheckConstraint(condition=Q(points__gt=0), name="correction_moves_points"),
            models.CheckConstraint(
                condition=Q(status="approved", operation__isnull=False) | ~Q(status="approved"),
                name="posted_correction_has_operation",
            ),
        ]
        permissions = [("approve_casecorrection", "Can approve points corrections of manual-handling cases")]

    def __str__(self):
        return f"{self.get_direction_display().split(' points')[0]} of {self.points:,} points · case {self.case_id}"

    @property
    def program_id(self):
        return self.case.program_id

    @transition(field=status, source=CorrectionStatus.PENDING, target=CorrectionStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=CorrectionStatus.PENDING, target=CorrectionStatus.REJECTED)
    def reject(self):
        pass
