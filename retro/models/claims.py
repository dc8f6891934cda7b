"""Retro claims and their lifecycle (seed 001's statuses, plus approval and reversal)."""

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition


class RetroClaimStatus(models.TextChoices):
    OUTSTANDING = "outstanding", "Outstanding"
    PENDING_APPROVAL = "pending_approval", "Pending Approval"
    MATCHED = "matched", "Matched"
    TRANSACTION_FAILED = "transaction_failed", "Transaction Failed"
    ALREADY_CLAIMED = "already_claimed", "Already Claimed"
    NOT_MATCHED = "not_matched", "Not Matched"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REVERSED = "reversed", "Reversed"


S = RetroClaimStatus


class RetroClaim(FSMModelMixin, models.Model):
    class Channel(models.TextChoices):
        CSR = "csr", "CSR"
        PORTAL = "portal", "Member portal"
        API = "api", "Web service"

    number = models.CharField(max_length=20, unique=True)
    program = models.ForeignKey("loyalty.Program", on_delete=models.PROTECT, related_name="retro_claims")
    membership = models.ForeignKey("loyalty.Membership", on_delete=models.PROTECT, related_name="retro_claims")
    transaction_type = models.CharField(max_length=12, default="purchase")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    submitted_at = models.DateTimeField(db_index=True)
    transaction_date = models.DateField(help_text="The date the member says the transaction happened.")
    key_values = models.JSONField(default=dict, help_text="The key fields as entered.")
    match_key = models.CharField(max_length=255)
    key_version = models.PositiveIntegerField(default=1)
    # No index of its own: (status, submitted_at, id) serves a status alone, and every index costs each claim write.
    status = FSMField(default=S.OUTSTANDING, choices=S.choices, protected=True)
    matched_transaction = models.ForeignKey(
        "retro.RetroTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    activity = models.OneToOneField(
        "loyalty.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="retro_claim"
    )
    failure_reason = models.TextField(blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    eligible_until = models.DateField(help_text="After this date an unmatched claim becomes Not Matched.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    estimated_points = models.IntegerField(
        null=True, blank=True, help_text="Points the matched transaction is expected to earn (approval queue)."
    )
    reprocess = models.BooleanField(
        default=True,
        help_text="Reprocessing was on when the claim was submitted (seed 001): the daily pass retries it.",
    )
    member_message = models.TextField(
        blank=True, help_text="What the member is told of a rejection or reversal; the reason stays internal."
    )
    # The member's search name (Member.search_name), kept by database triggers (migration 0010) through
    # inserts, COPY, renames and moved memberships: the grid sorts claims by member off their own
    # table, not through a join to a million memberships and members for every page.
    member_name = models.CharField(max_length=201, blank=True, default="", db_default="", editable=False)
    notifications_sent = models.JSONField(
        default=list, blank=True, editable=False, help_text="Outcomes already emailed, so a retried task sends once."
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        permissions = [
            ("submit_own_retro_claim", "Can submit and see own retro claims in the portal"),
            ("approve_retroclaim", "Can approve or reject pending retro claims"),
            ("reverse_retroclaim", "Can reverse a matched retro claim"),
            ("withdraw_retroclaim", "Can withdraw an outstanding retro claim"),
        ]
        indexes = [
            models.Index(fields=["program", "match_key"], name="retro_claim_key"),
            models.Index(fields=["membership", "-submitted_at"], name="retro_claim_member"),
            models.Index(
                fields=["program", "match_key", "id"],
                condition=models.Q(status="outstanding"),
                name="retro_claim_outstanding",
            ),
            # Retro Claim Activity: a status, program or channel filter reads its page off one of these
            # in the order of the grid's sort (retro.filters.LEADING_FILTERS), even when the rows it wants
            # are all old (Not Matched) or all recent (Outstanding, a new program or channel).
            models.Index(fields=["status", "submitted_at", "id"], name="retro_claim_status_time"),
            models.Index(fields=["program", "submitted_at", "id"], name="retro_claim_program_time"),
            models.Index(fields=["status", "number"], name="retro_claim_status_number"),
            models.Index(fields=["program", "number"], name="retro_claim_program_number"),
            models.Index(fields=["channel", "submitted_at", "id"], name="retro_claim_channel_time"),
            models.Index(fields=["channel", "number"], name="retro_claim_channel_number"),
            # Sorted by status within a channel (web-service claims are all recent: a walk of
            # (status, submitted_at) would pass every older claim first). Within a program there is no such
            # index: each index costs every claim write, and a program small enough to sit at one end of
            # the table is sorted on its own (CappedPaginator's narrow).
            models.Index(fields=["channel", "status", "submitted_at", "id"], name="retro_claim_channel_status"),
            models.Index(fields=["member_name", "id"], name="retro_claim_member_name"),
            # The "Needs key values" filter: claims a key change left unmatchable ("!c…" keys).
            models.Index(
                fields=["submitted_at", "id"],
                condition=models.Q(match_key__startswith="!"),
                name="retro_claim_needs_keys",
            ),
        ]

    def __str__(self):
        return self.number

    # Transitions: declared here, applied only by loyalty.lifecycle.transition(), which logs who and why.

    @transition(field=status, source=S.OUTSTANDING, target=S.MATCHED)
    def mark_matched(self):
        pass

    @transition(field=status, source=S.OUTSTANDING, target=S.PENDING_APPROVAL)
    def await_approval(self):
        pass

    @transition(field=status, source=S.PENDING_APPROVAL, target=S.MATCHED)
    def approve(self):
        pass

    @transition(field=status, source=S.PENDING_APPROVAL, target=S.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=S.OUTSTANDING, target=S.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=status, source=[S.OUTSTANDING, S.PENDING_APPROVAL], target=S.TRANSACTION_FAILED)
    def mark_transaction_failed(self):
        pass

    @transition(field=status, source=S.OUTSTANDING, target=S.ALREADY_CLAIMED)
    def mark_already_claimed(self):
        pass

    @transition(field=status, source=S.OUTSTANDING, target=S.NOT_MATCHED)
    def mark_not_matched(self):
        pass

    @transition(field=status, source=S.MATCHED, target=S.REVERSED)
    def reverse(self):
        pass
