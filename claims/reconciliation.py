"""The membership claims' invariant for the daily reconciliation: an approved limited adjustment is posted
once, and nothing else posts."""

from django.db.models import Q

from claims.models import ClaimDecision, MembershipClaim, RecordType
from loyalty.plugins import ReconciliationCheck


def _claims_against_the_ledger():
    approved_adjustment = Q(decision=ClaimDecision.APPROVED, record_type=RecordType.LIMITED_ADJUSTMENT)
    unposted = MembershipClaim.objects.filter(approved_adjustment, activity__isnull=True)
    for claim in unposted.only("pk").iterator():
        yield f"Membership claim {claim.pk}", "approved limited adjustment without its activity"
    stray = MembershipClaim.objects.filter(activity__isnull=False).exclude(approved_adjustment)
    for claim in stray.only("pk", "decision", "record_type").iterator():
        yield f"Membership claim {claim.pk}", f"{claim.record_type} {claim.decision} yet an activity is posted"


CHECKS = [
    ReconciliationCheck("Membership claims match the ledger",
                        "An approved limited adjustment has its activity; no other membership claim has one.",
                        _claims_against_the_ledger),
]  # fmt: skip
