"""The retro app's invariants in the daily reconciliation: found when broken, quiet when whole."""

import pytest

from loyalty.reconciliation import run_reconciliation
from retro.models import RetroClaim, RetroClaimStatus
from retro.services import submit_retro_claim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def findings():
    return {f.check_name: f for f in run_reconciliation(trigger="command", mail=False).findings.all()}


def submit(membership, values):
    return submit_retro_claim(membership=membership, channel="csr", submitted_by=None, key_values=values)


def test_matched_claims_pass_and_a_transaction_matched_twice_or_a_claim_without_its_activity_is_found():
    program = retro_program()
    txn = RetroTransactionFactory(program=program)
    winner = submit(member_in(program), key_values_of(txn))
    loser = submit(member_in(program), key_values_of(txn))
    assert (winner.status, loser.status) == (S.MATCHED, S.ALREADY_CLAIMED)
    assert findings()["Retro transactions claimed once"].violations == 0
    # What the services never write (the status is protected; a bad manual fix-up could).
    RetroClaim.objects.filter(pk=loser.pk).update(status=S.MATCHED, matched_transaction=txn)
    found = findings()
    assert found["Retro transactions claimed once"].violations == 1
    assert found["Retro claims match the ledger"].examples == [[f"Retro claim {loser.number}",
                                                                "Matched without its activity"]]  # fmt: skip
