"""Claims racing for one transaction on PostgreSQL: the database lets exactly one win."""

import pytest

from loyalty.models import Activity, LedgerEntry
from retro import reprocessing
from retro.models import RetroClaim, RetroClaimStatus, RetroTransaction
from retro.services import submit_retro_claim
from tests.concurrency import race
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

S = RetroClaimStatus
RACERS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_claims_for_one_transaction_credit_exactly_one():
    program = retro_program("race")
    txn = RetroTransactionFactory(program=program)
    members = [member_in(program) for _ in range(RACERS)]
    values = key_values_of(txn)

    def submitter(membership):
        return lambda: submit_retro_claim(membership=membership, channel="api", submitted_by=None, key_values=values)

    results = race([submitter(m) for m in members])
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    statuses = sorted(c.status for c in RetroClaim.objects.all())
    assert statuses.count(S.MATCHED) == 1
    assert statuses.count(S.ALREADY_CLAIMED) == RACERS - 1
    winner = RetroClaim.objects.get(status=S.MATCHED)
    assert RetroTransaction.objects.get(pk=txn.pk).claimed_by_id == winner.pk
    assert Activity.objects.filter(source="retro").count() == 1
    assert LedgerEntry.objects.filter(metric="base").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_submission_racing_the_daily_pass_never_takes_a_transaction_twice():
    program = retro_program("race2")
    day = RetroTransactionFactory.build(program=program).occurred_on.isoformat()
    outstanding = [
        submit_retro_claim(
            membership=member_in(program),
            channel="csr",
            submitted_by=None,
            key_values={"location_code": "P", "transaction_date": day, "reference": f"LATE{i}", "amount": "42.00"},
        )
        for i in range(10)
    ]
    assert all(claim.status == S.OUTSTANDING for claim in outstanding)
    # The transactions arrive; the daily pass and ten new claims for them then run at once.
    txns = [RetroTransactionFactory(program=program, location_code="P", reference=f"LATE{i}") for i in range(10)]
    late_members = [member_in(program) for _ in range(10)]

    def late_submit(membership, txn):
        return lambda: submit_retro_claim(
            membership=membership, channel="csr", submitted_by=None, key_values=key_values_of(txn)
        )

    workers = [lambda: reprocessing.run_daily_pass(batch_size=3)]
    workers += [late_submit(m, t) for m, t in zip(late_members, txns, strict=True)]
    results = race(workers)
    assert not [r for r in results if isinstance(r, Exception)]
    reprocessing.run_daily_pass()
    for txn in txns:
        winners = RetroClaim.objects.filter(matched_transaction=txn, status=S.MATCHED)
        assert winners.count() == 1
        assert RetroTransaction.objects.get(pk=txn.pk).claimed_by_id == winners.get().pk
    assert Activity.objects.filter(source="retro").count() == len(txns)
