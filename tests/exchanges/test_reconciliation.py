"""The exchanges' invariants in the daily reconciliation: refunds within captures, operations on the ledger."""

import pytest

from exchanges import services
from exchanges.models import PointsOperation, Redemption
from loyalty.reconciliation import run_reconciliation
from tests.exchanges.conftest import TICKET_A, TICKET_B

pytestmark = pytest.mark.django_db


def findings():
    return {f.check_name: f for f in run_reconciliation(trigger="command", mail=False).findings.all()}


def test_refunds_and_operations_pass_until_a_refund_is_recorded_without_its_points(partner, payer, program):
    held = services.authorize(partner=partner, program=program, membership=payer, pnr="ABC123", currency="EUR",
                              cash_amount=0, tickets=[(TICKET_A, 10_000), (TICKET_B, 6_000)])  # fmt: skip
    services.capture(partner=partner, redemption_id=held.pk)
    services.refund(partner=partner, redemption_id=held.pk, membership_number=payer.membership_number, points=4_000)
    found = findings()
    assert found["Refunds within captures"].violations == 0
    assert found["Points operations on the ledger"].violations == 0
    # A refund counted on the booking that no operation made, and an operation whose points never posted.
    Redemption.objects.filter(pk=held.pk).update(points_refunded=5_000)
    PointsOperation.objects.filter(kind="refund").update(points=4_500)
    found = findings()
    assert "5000 points refunded of 16000 captured" in found["Refunds within captures"].examples[0][1]
    assert found["Points operations on the ledger"].examples[0][1] == "4000 points on the ledger, 4500 expected"
