"""Supervisor decisions: approve or reject a Pending Approval claim, reverse a Matched one."""

import pytest
from django.core.exceptions import ValidationError
from django_fsm_log.models import StateLog

from loyalty.models import Activity, EarningRuleSet, LedgerEntry
from retro.models import RetroClaimStatus, RetroSettings, RetroTransaction
from retro.services import approve_retro_claim, reject_retro_claim, reverse_retro_claim, submit_retro_claim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def balance(membership):
    return sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric="base"))


@pytest.fixture
def program():
    program = retro_program()
    RetroSettings.objects.filter(program=program).update(approval_required=True)
    return program


@pytest.fixture
def pending(program):
    txn = RetroTransactionFactory(program=program)
    claim = submit_retro_claim(
        membership=member_in(program), channel="csr", submitted_by=None, key_values=key_values_of(txn)
    )
    assert claim.status == S.PENDING_APPROVAL
    return claim


def test_approval_posts_the_activity_and_logs_the_supervisor(pending, supervisor):
    claim = approve_retro_claim(claim=pending, by=supervisor, reason="Receipt checked")
    assert claim.status == S.MATCHED
    assert claim.activity.external_reference == claim.number
    assert balance(claim.membership) == 420
    log = StateLog.objects.for_(claim).order_by("-id").first()
    assert (log.transition, log.by) == ("approve", supervisor)
    assert "Receipt checked" in log.description


def test_approving_twice_is_refused_with_a_readable_message(pending, supervisor):
    approve_retro_claim(claim=pending, by=supervisor)
    with pytest.raises(ValidationError, match="is Matched; only Pending Approval claims can be approved"):
        approve_retro_claim(claim=pending, by=supervisor)
    assert Activity.objects.filter(source="retro").count() == 1


def test_rejection_returns_the_transaction_to_the_pool(pending, supervisor, program):
    claim = reject_retro_claim(claim=pending, by=supervisor, reason="Not this member's receipt")
    assert claim.status == S.REJECTED
    assert claim.failure_reason == "Not this member's receipt"
    txn = RetroTransaction.objects.get(pk=claim.matched_transaction_id)
    assert txn.claimed_by is None
    RetroSettings.objects.filter(program=program).update(approval_required=False)
    other = submit_retro_claim(
        membership=member_in(program), channel="csr", submitted_by=None, key_values=key_values_of(txn)
    )
    assert other.status == S.MATCHED


def test_rejection_needs_a_reason(pending, supervisor):
    with pytest.raises(ValidationError) as caught:
        reject_retro_claim(claim=pending, by=supervisor, reason="  ")
    assert "reason" in caught.value.message_dict


def test_approval_when_the_date_has_no_rules_fails_the_claim(pending, supervisor, program):
    EarningRuleSet.objects.filter(program=program).update(valid_from=recent_day(1))
    claim = approve_retro_claim(claim=pending, by=supervisor)
    assert claim.status == S.TRANSACTION_FAILED
    assert "No earning rule set" in claim.failure_reason


def test_reversal_takes_the_points_back_and_frees_the_transaction(program, supervisor):
    RetroSettings.objects.filter(program=program).update(approval_required=False)
    txn = RetroTransactionFactory(program=program)
    membership = member_in(program)
    claim = submit_retro_claim(membership=membership, channel="csr", submitted_by=None, key_values=key_values_of(txn))
    assert balance(membership) == 420
    claim = reverse_retro_claim(claim=claim, by=supervisor, reason="Duplicate receipt")
    assert claim.status == S.REVERSED
    assert balance(membership) == 0
    assert Activity.objects.get(reverses=claim.activity).description == "Duplicate receipt"
    assert RetroTransaction.objects.get(pk=txn.pk).claimed_by is None
    with pytest.raises(ValidationError, match="only Matched claims can be reversed"):
        reverse_retro_claim(claim=claim, by=supervisor, reason="again")


def test_only_matched_claims_can_be_reversed(pending, supervisor):
    with pytest.raises(ValidationError, match="Pending Approval"):
        reverse_retro_claim(claim=pending, by=supervisor, reason="why not")
