"""Submission's hand-written statements (PostgreSQL) write and read exactly what the ORM path does."""

from decimal import Decimal

import pytest

from loyalty.models import EarningRule, EarningRuleSet, LedgerEntry
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings, RetroTransaction
from retro.services import submit_retro_claim
from tests.factories import LocationFactory
from tests.retro.factories import EarningRuleFactory, RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def submit(membership, values):
    return submit_retro_claim(membership=membership, channel="api", submitted_by=None, key_values=values)


def points_of(membership):
    return sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership))


def test_the_returned_claim_is_the_stored_claim():
    program = retro_program()
    txn = RetroTransactionFactory(program=program)
    claim = submit(member_in(program), key_values_of(txn))
    stored = RetroClaim.objects.get(pk=claim.pk)
    names = [f.attname for f in RetroClaim._meta.concrete_fields]
    assert {n: getattr(stored, n) for n in names} == {n: getattr(claim, n) for n in names}
    assert stored.number == f"RC{stored.pk:08d}" and stored.status == S.MATCHED and stored.attempt_count == 1
    assert RetroTransaction.objects.get(pk=txn.pk).claimed_by_id == claim.pk


def test_a_rule_for_the_transaction_location_applies():
    program = retro_program()
    store = LocationFactory(program=program, code="PAR01")
    rule_set = EarningRuleSet.objects.get(program=program)
    EarningRuleFactory(rule_set=rule_set, name="At Paris", calculation=EarningRule.Calculation.FIXED, points=7,
                       rate=None, location=store)  # fmt: skip
    membership = member_in(program)
    claim = submit(membership, key_values_of(RetroTransactionFactory(program=program, location_code="PAR01")))
    assert claim.status == S.MATCHED and claim.activity.location == store
    assert points_of(membership) == 420 + 7
    elsewhere = member_in(program)
    claim = submit(elsewhere, key_values_of(RetroTransactionFactory(program=program, location_code="LYS02")))
    assert claim.status == S.MATCHED and claim.activity.location is None
    assert points_of(elsewhere) == 420


def test_of_two_twins_only_the_oldest_is_taken_and_the_next_claim_gets_the_other():
    program = retro_program()
    first = RetroTransactionFactory(program=program)
    second = RetroTransactionFactory(
        program=program, reference=first.reference, occurred_at=first.occurred_at, amount=Decimal("42.00")
    )
    assert submit(member_in(program), key_values_of(first)).matched_transaction == first
    assert RetroTransaction.objects.get(pk=second.pk).claimed_by_id is None
    assert submit(member_in(program), key_values_of(first)).matched_transaction == second


def test_without_a_settings_row_submission_creates_the_defaults():
    program = retro_program()
    RetroSettings.objects.filter(program=program).delete()
    txn = RetroTransactionFactory(program=program)
    assert submit(member_in(program), key_values_of(txn)).status == S.MATCHED
    assert RetroSettings.objects.filter(program=program).exists()
