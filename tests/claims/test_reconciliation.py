"""Membership claims in the daily reconciliation: an approved limited adjustment always carries its activity."""

import pytest

from claims import services
from claims.models import MembershipClaim
from loyalty.reconciliation import run_reconciliation
from tests.claims.factories import adjustment_values, code

pytestmark = pytest.mark.django_db
CHECK = "Membership claims match the ledger"


def finding():
    return run_reconciliation(trigger="command", mail=False).findings.get(check_name=CHECK)


def test_an_adjustment_marked_approved_without_posting_is_found(membership, csr, program):
    values = adjustment_values(code(program), base_points=100)
    claim = services.open_claim(membership=membership, by=csr, values=values)
    assert finding().violations == 0
    # What the decision service never writes (it posts and approves together); a manual fix-up could.
    MembershipClaim.objects.filter(pk=claim.pk).update(decision="approved")
    assert finding().examples == [[f"Membership claim {claim.pk}", "approved limited adjustment without its activity"]]
