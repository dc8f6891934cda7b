"""The matching service: oldest wins, already claimed, expiry, point-in-time posting, approval, reversal."""

import datetime as dt
from decimal import Decimal

import pytest

from loyalty.models import EarningRuleSet, LedgerEntry
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings
from retro.services import RetroClaimRefused, reverse_retro_claim, submit_retro_claim
from tests.factories import TierPeriodFactory
from tests.loyalty._builders import fixed, rule_set, tiers
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def submit(membership, values, **kwargs):
    return submit_retro_claim(membership=membership, channel="csr", submitted_by=None, key_values=values, **kwargs)


def balance(membership):
    return sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric__in=["base", "bonus"]))


@pytest.fixture
def program():
    return retro_program()


def twin(program, txn, **changes):
    """Another pool transaction with the same key values as `txn`."""
    fields = {
        "program": program,
        "location_code": txn.location_code,
        "reference": txn.reference,
        "amount": txn.amount,
        "occurred_at": txn.occurred_at,
    }
    return RetroTransactionFactory(**{**fields, **changes})


def test_the_oldest_matching_transaction_wins(program):
    newer = RetroTransactionFactory(program=program)
    older = twin(program, newer, occurred_at=newer.occurred_at - dt.timedelta(hours=3))
    claim = submit(member_in(program), key_values_of(newer))
    assert claim.matched_transaction == older
    second = submit(member_in(program), key_values_of(newer))
    assert second.status == S.MATCHED and second.matched_transaction == newer


def test_same_time_breaks_the_tie_by_arrival(program):
    first = RetroTransactionFactory(program=program)
    twin(program, first)
    assert submit(member_in(program), key_values_of(first)).matched_transaction == first


def test_every_candidate_claimed_means_already_claimed(program):
    txn = RetroTransactionFactory(program=program)
    winner = submit(member_in(program), key_values_of(txn))
    loser_member = member_in(program)
    loser = submit(loser_member, key_values_of(txn))
    assert winner.status == S.MATCHED
    assert loser.status == S.ALREADY_CLAIMED
    assert "already been claimed" in loser.failure_reason
    assert balance(loser_member) == 0


def test_an_expired_transaction_is_not_a_candidate(program):
    txn = RetroTransactionFactory(program=program, expires_on=dt.date.today() - dt.timedelta(days=1))
    claim = submit(member_in(program), key_values_of(txn))
    assert claim.status == S.OUTSTANDING
    txn.refresh_from_db()
    assert txn.claimed_by is None


def test_other_program_or_type_never_matches(program):
    other = retro_program("other")
    txn = RetroTransactionFactory(program=other)
    claim = submit(member_in(program), key_values_of(txn))
    assert claim.status == S.OUTSTANDING


def test_points_follow_the_rules_and_tier_on_the_transaction_date(monkeypatch):
    """Seed 003: a 2023-05-20 purchase claimed later earns set A's 98 (not B's 89) and Silver's 15 %."""
    program = retro_program("pit", rate="0")
    EarningRuleSet.objects.filter(program=program).delete()
    RetroSettings.objects.filter(program=program).update(max_transaction_age_days=100_000)
    ladder = tiers(program)
    rule_set(
        program,
        "Set 2",
        dt.date(2023, 1, 1),
        dt.date(2023, 6, 30),
        [fixed(98), {"calculation": "percent", "rate": 15, "tier": ladder["silver"], "metric": "bonus"}],
    )
    rule_set(
        program,
        "Set 3",
        dt.date(2023, 7, 1),
        None,
        [fixed(89), {"calculation": "percent", "rate": 20, "tier": ladder["gold"], "metric": "bonus"}],
    )
    membership = member_in(program)
    TierPeriodFactory(
        membership=membership, tier=ladder["silver"], valid_from=dt.date(2022, 1, 1), valid_to=dt.date(2023, 8, 9)
    )
    TierPeriodFactory(membership=membership, tier=ladder["gold"], valid_from=dt.date(2023, 8, 10))
    txn = RetroTransactionFactory(
        program=program,
        occurred_at=dt.datetime(2023, 5, 20, 10, 0, tzinfo=dt.UTC),
        amount=Decimal("100.00"),
        expires_on=dt.date.today() + dt.timedelta(days=30),
    )
    claim = submit(membership, key_values_of(txn))
    assert claim.status == S.MATCHED
    assert claim.activity.occurred_on == dt.date(2023, 5, 20)
    assert claim.activity.rule_set.name == "Set 2"
    assert balance(membership) == 98 + 15


def test_late_evening_local_time_counts_on_the_local_date(program):
    # 23:30 in Paris on the 1st is 21:30 UTC: the key's date (and the valuation date) is the local one.
    moment = dt.datetime.combine(dt.date.today() - dt.timedelta(days=3), dt.time(21, 30), tzinfo=dt.UTC)
    txn = RetroTransactionFactory(program=program, occurred_at=moment)
    assert txn.occurred_on == program.local_date(moment)
    claim = submit(member_in(program), key_values_of(txn))
    assert claim.activity.occurred_on == program.local_date(moment)


def test_approval_required_reserves_the_transaction_until_a_decision(program):
    RetroSettings.objects.filter(program=program).update(approval_required=True, auto_approve_max_points=100)
    txn = RetroTransactionFactory(program=program)  # earns 420 > 100
    membership = member_in(program)
    claim = submit(membership, key_values_of(txn))
    assert claim.status == S.PENDING_APPROVAL
    assert claim.estimated_points == 420
    assert balance(membership) == 0
    txn.refresh_from_db()
    assert txn.claimed_by == claim
    assert submit(member_in(program), key_values_of(txn)).status == S.ALREADY_CLAIMED


def test_small_claims_are_approved_automatically(program):
    RetroSettings.objects.filter(program=program).update(approval_required=True, auto_approve_max_points=500)
    txn = RetroTransactionFactory(program=program)
    claim = submit(member_in(program), key_values_of(txn))
    assert claim.status == S.MATCHED and claim.estimated_points == 420


def test_after_a_reversal_the_same_member_never_matches_that_transaction_again(program, supervisor):
    txn = RetroTransactionFactory(program=program)
    membership = member_in(program)
    claim = submit(membership, key_values_of(txn))
    reverse_retro_claim(claim=claim, by=supervisor, reason="Receipt belonged to a colleague")
    # Issue 9: the member's re-claim is refused at once, saying why, instead of waiting a year.
    with pytest.raises(RetroClaimRefused, match=f"credited to this member by claim {claim.number} and reversed"):
        submit(membership, key_values_of(txn))
    assert not RetroClaim.objects.filter(membership=membership).exclude(pk=claim.pk).exists()
    someone_else = submit(member_in(program), key_values_of(txn))
    assert someone_else.status == S.MATCHED and someone_else.matched_transaction == txn
    assert RetroClaim.objects.get(pk=claim.pk).status == S.REVERSED
