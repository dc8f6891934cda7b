"""Supervisors' decisions on flight claims (seed 000's Flights Approval), on the shared decision service.

Approval posts the Flight Activity through loyalty.services, valued on the flight date with that
date's rules and the member's tier then (seed 003). Its external reference is the coupon, so a
coupon posts once whatever happens; the database also refuses a second approved claim of a coupon.
"""

from django.utils import timezone

from loyalty import services as loyalty_services
from loyalty.eligibility import earning_refusal
from loyalty.lifecycle import transition
from loyalty.lifecycle.decisions import ApprovalPolicy, Decision, DecisionRefused, decide
from loyalty.models import Activity
from retro.flights.notifications import queue_outcome_email
from retro.flights.services import flight_attributes
from retro.models import FlightClaim, FlightClaimStatus

P = FlightClaimStatus
DECIDED_FIELDS = ("decided_at", "reason", "member_message", "activity")
ACTIVITY_SOURCE = "flight_claim"


class FlightClaimApprovals(ApprovalPolicy):
    lifecycle = "flight_claim"
    label = "Flight claims"
    noun = "flight claim"
    model = FlightClaim
    waiting_since = "submitted_at"
    value_label = "miles"
    decisions = {
        "approve": Decision(
            "approve", "Approve", "approved", (P.PENDING,), "retro.approve_flightclaim", checks_limit=True
        ),
        "reject": Decision(
            "reject", "Reject", "rejected", (P.PENDING,), "retro.approve_flightclaim", reason_required=True
        ),
    }

    def locking_queryset(self):
        return FlightClaim.objects.select_for_update(of=("self",)).select_related("membership__member")

    def maker_id(self, claim):
        return claim.submitted_by_id

    def value(self, claim):
        return claim.estimated_miles

    def apply(self, claim, decision, *, by, reason, message):
        claim.member_message = message
        claim.reason = reason
        claim.decided_at = timezone.now()
        if decision.name == "approve":
            refusal = earning_refusal(claim.membership.member)
            if refusal:
                raise DecisionRefused(f"{refusal} Reject the claim instead.", code="cannot_earn")
            claim.activity = loyalty_services.post_activity(
                membership=claim.membership,
                kind=Activity.Kind.FLIGHT,
                source=ACTIVITY_SOURCE,
                occurred_on=claim.flight_date,
                external_reference=f"coupon:{claim.coupon}",
                attributes=flight_attributes(claim),
                caused_by=by,
                description=f"Retro flight claim {claim.number}: {claim.carrier} {claim.flight_number} {claim.route}",
            )
        transition(claim, decision.name, by=by, reason=reason, fields=DECIDED_FIELDS)
        queue_outcome_email(claim)


FLIGHT_CLAIM_APPROVALS = FlightClaimApprovals()


def approve_flight_claim(*, claim, by, reason="") -> FlightClaim:
    """Approve a Pending flight claim: post its Flight Activity, valued on the flight date."""
    return decide(FLIGHT_CLAIM_APPROVALS, claim, "approve", by=by, reason=reason)


def reject_flight_claim(*, claim, by, reason, member_message="") -> FlightClaim:
    """Reject a Pending flight claim, with the reason (kept) and what the member is told (optional)."""
    return decide(FLIGHT_CLAIM_APPROVALS, claim, "reject", by=by, reason=reason, message=member_message)
