"""The retro app's invariants for the daily reconciliation: a transaction credits one claim, a coupon one
flight claim, and a claim's status always matches its ledger effect."""

from django.db.models import Count, Q

from loyalty.plugins import ReconciliationCheck
from retro.models import FlightClaim, FlightClaimStatus, RetroClaim, RetroClaimStatus

S = RetroClaimStatus
CREDITED = [S.MATCHED, S.PENDING_APPROVAL]


def _transactions_claimed_twice():
    twice = (
        RetroClaim.objects.filter(status__in=CREDITED, matched_transaction__isnull=False)
        .values("matched_transaction").annotate(claims=Count("id")).filter(claims__gt=1).order_by()
    )  # fmt: skip
    for row in twice.iterator():
        yield f"Retro transaction {row['matched_transaction']}", f"matched by {row['claims']} claims"


def _retro_claims_against_the_ledger():
    unpaid = RetroClaim.objects.filter(status=S.MATCHED, activity__isnull=True).only("number")
    for claim in unpaid.iterator():
        yield f"Retro claim {claim.number}", "Matched without its activity"
    paid = RetroClaim.objects.filter(activity__isnull=False).exclude(status__in=[S.MATCHED, S.REVERSED])
    for claim in paid.only("number", "status").iterator():
        yield f"Retro claim {claim.number}", f"{claim.get_status_display()} yet its activity is posted"


def _coupons_credited_twice():
    approved = FlightClaim.objects.filter(status=FlightClaimStatus.APPROVED)
    twice = approved.values("ticket_number", "coupon_number").annotate(claims=Count("id")).filter(claims__gt=1)
    for row in twice.order_by().iterator():
        yield f"Coupon {row['ticket_number']}/{row['coupon_number']}", f"credited by {row['claims']} claims"
    mismatched = FlightClaim.objects.filter(
        Q(status=FlightClaimStatus.APPROVED, activity__isnull=True)
        | (Q(activity__isnull=False) & ~Q(status=FlightClaimStatus.APPROVED))
    )
    for claim in mismatched.only("pk", "status", "activity_id").iterator():
        state = "Approved without its activity" if claim.activity_id is None else f"{claim.status} with an activity"
        yield f"Flight claim {claim.pk}", state


CHECKS = [
    ReconciliationCheck("Retro transactions claimed once",
                        "No retro transaction credits more than one claim.", _transactions_claimed_twice),
    ReconciliationCheck("Retro claims match the ledger",
                        "A Matched claim has its activity; no other claim has one (but Reversed).",
                        _retro_claims_against_the_ledger),
    ReconciliationCheck("Coupons credited once",
                        "No flight coupon is credited twice; an approved flight claim has its activity, no other "
                        "one does.", _coupons_credited_twice),
]  # fmt: skip
