"""Supervisors' decisions on retro claims (approve, reject, reverse), on the shared decision service."""

from django.utils import timezone

from loyalty import services as loyalty_services
from loyalty.eligibility import earning_refusal
from loyalty.lifecycle import transition
from loyalty.lifecycle.decisions import ApprovalPolicy, Decision, DecisionRefused, decide
from retro.matching import OUTCOME_FIELDS, credit_claim, release_transaction
from retro.models import RetroClaim, RetroClaimStatus
from retro.notifications import queue_outcome_email
from retro.program_settings import ensure_settings

S = RetroClaimStatus
# A decision also keeps what the member is told, apart from the internal reason.
DECIDED_FIELDS = (*OUTCOME_FIELDS, "member_message")


class RetroClaimApprovals(ApprovalPolicy):
    lifecycle = "retro_claim"
    label = "Retro claims"
    noun = "claim"
    model = RetroClaim
    waiting_since = "submitted_at"
    value_label = "points"
    decisions = {
        "approve": Decision(
            "approve", "Approve", "approved", (S.PENDING_APPROVAL,), "retro.approve_retroclaim", checks_limit=True
        ),
        "reject": Decision(
            "reject", "Reject", "rejected", (S.PENDING_APPROVAL,), "retro.approve_retroclaim", reason_required=True
        ),
        # A claim entered by mistake (a typo, a duplicate) is withdrawn by the CSR, with the reason.
        "withdraw": Decision(
            "withdraw", "Withdraw", "withdrawn", (S.OUTSTANDING,), "retro.withdraw_retroclaim",
            reason_required=True, checks_maker=False,
        ),  # fmt: skip
        # Taking points back is a correction, not a grant: no limit, and the maker may ask for it.
        "reverse": Decision(
            "reverse", "Reverse", "reversed", (S.MATCHED,), "retro.reverse_retroclaim",
            reason_required=True, checks_maker=False,
        ),  # fmt: skip
    }

    def locking_queryset(self):
        return RetroClaim.objects.select_for_update(of=("self",)).select_related(
            "program", "membership__program", "membership__member", "matched_transaction"
        )

    def maker_id(self, claim):
        return claim.submitted_by_id

    def value(self, claim):
        return claim.estimated_points

    def apply(self, claim, decision, *, by, reason, message):
        claim.member_message = message
        getattr(self, f"_{decision.name}")(claim, by=by, reason=reason)

    def _approve(self, claim, *, by, reason):
        """Post the claim's activity (or Transaction Failed, with the reason)."""
        refusal = earning_refusal(claim.membership.member)
        if refusal:
            raise DecisionRefused(f"{refusal} Reject the claim instead.", code="cannot_earn")
        credit_claim(claim=claim, txn=claim.matched_transaction, by=by, name="approve", note=reason)
        queue_outcome_email(claim, ensure_settings(claim.program))

    def _reject(self, claim, *, by, reason):
        """Rejected, and its transaction returns to the pool."""
        self._close(claim, "reject", by=by, reason=reason, email=True)

    def _withdraw(self, claim, *, by, reason):
        """Withdrawn: the daily pass no longer tries it; it held no transaction."""
        self._close(claim, "withdraw", by=by, reason=reason, email=False)

    def _reverse(self, claim, *, by, reason):
        """Reverse its activity and return the transaction; this member cannot match it again."""
        if claim.activity_id:
            loyalty_services.reverse_activity(activity=claim.activity, reason=reason, caused_by=by)
        self._close(claim, "reverse", by=by, reason=reason, email=True)

    def _close(self, claim, name, *, by, reason, email):
        """End the claim by transition `name` with the reason; whatever transaction it held goes back."""
        if claim.matched_transaction_id:
            release_transaction(claim, claim.matched_transaction)
        claim.failure_reason = reason
        claim.resolved_at = timezone.now()
        transition(claim, name, by=by, reason=reason, fields=DECIDED_FIELDS)
        if email:
            queue_outcome_email(claim, ensure_settings(claim.program))


RETRO_CLAIM_APPROVALS = RetroClaimApprovals()


def approve_retro_claim(*, claim, by, reason="") -> RetroClaim:
    """Approve a Pending Approval claim: post its activity (or Transaction Failed, with the reason)."""
    return decide(RETRO_CLAIM_APPROVALS, claim, "approve", by=by, reason=reason)


def reject_retro_claim(*, claim, by, reason, member_message="") -> RetroClaim:
    """Reject a Pending Approval claim: it becomes Rejected and its transaction returns to the pool."""
    return decide(RETRO_CLAIM_APPROVALS, claim, "reject", by=by, reason=reason, message=member_message)


def reverse_retro_claim(*, claim, by, reason, member_message="") -> RetroClaim:
    """Reverse a Matched claim: reverse its activity, return the transaction; this member can't match it again."""
    return decide(RETRO_CLAIM_APPROVALS, claim, "reverse", by=by, reason=reason, message=member_message)


def withdraw_retro_claim(*, claim, by, reason) -> RetroClaim:
    """Withdraw an Outstanding claim entered by mistake (a typo, a duplicate), with the reason."""
    return decide(RETRO_CLAIM_APPROVALS, claim, "withdraw", by=by, reason=reason)
