"""What a retro claim may carry (issue 9): positive, capped amounts; sane dates; the key's own fields;
a member who can earn; and a review above a program's points threshold even when approval is off."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.lifecycle.decisions import DecisionRefused
from loyalty.models import Activity, Member
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings
from retro.reprocessing import run_daily_pass
from retro.services import RetroClaimRefused, approve_retro_claim, submit_retro_claim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


@pytest.fixture
def program():
    return retro_program()


def submit(program, values, membership=None):
    return submit_retro_claim(
        membership=membership or member_in(program), channel="csr", submitted_by=None, key_values=values
    )


def claim_values(amount="42.00", day=None, reference="R-1"):
    day = day or recent_day()
    return {"location_code": "PAR01", "transaction_date": day.isoformat(), "reference": reference, "amount": amount}


@pytest.mark.parametrize("amount", ["-269.76", "0", "0.00"])
def test_an_amount_that_is_not_positive_is_refused(program, amount):
    with pytest.raises(RetroClaimRefused) as refused:
        submit(program, claim_values(amount=amount))
    assert refused.value.message_dict["amount"] == ["The amount must be more than zero (returns are not retro claims)."]
    assert not RetroClaim.objects.exists()


def test_an_amount_above_the_programs_maximum_is_refused(program):
    with pytest.raises(RetroClaimRefused, match="above this program's maximum of 100,000.00"):
        submit(program, claim_values(amount="100000.01"))
    RetroSettings.objects.filter(program=program).update(max_transaction_amount=Decimal("50.00"))
    with pytest.raises(RetroClaimRefused, match="maximum of 50.00"):
        submit(program, claim_values(amount="50.01"))
    assert submit(program, claim_values(amount="50.00")).status == S.OUTSTANDING


def test_an_absurd_amount_is_a_field_error_not_a_crash(program, csr):
    membership = member_in(program)
    api = APIClient()
    api.force_authenticate(csr)
    body = {"membership_number": membership.membership_number, "key_values": claim_values(amount="1e27")}
    response = api.post(reverse("api-retro-claim-submit"), body, format="json")
    assert response.status_code == 400
    assert "amount" in response.data["key_values"]


def test_a_field_outside_the_key_is_refused(program):
    with pytest.raises(RetroClaimRefused) as refused:
        submit(program, {**claim_values(), "till": "3"})
    assert "till" in refused.value.message_dict


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(1989, 12, 31)])
def test_a_date_before_1990_is_refused(program, day):
    RetroSettings.objects.filter(program=program).update(max_transaction_age_days=100_000)
    membership = member_in(program)
    membership.joined_on = dt.date(1, 1, 1)
    with pytest.raises(RetroClaimRefused, match="before 1990"):
        submit(program, claim_values(day=day), membership=membership)


@pytest.mark.parametrize("status", [Member.Status.CLOSED, Member.Status.SUSPENDED])
def test_a_member_who_cannot_earn_cannot_claim(program, status):
    membership = member_in(program)
    Member.objects.filter(pk=membership.member_id).update(status=status)
    membership.member.refresh_from_db()
    txn = RetroTransactionFactory(program=program)
    with pytest.raises(RetroClaimRefused, match=f"account is {status.label}: it cannot earn points"):
        submit(program, key_values_of(txn), membership=membership)
    assert not Activity.objects.exists()


def test_the_daily_pass_closes_the_waiting_claims_of_a_member_who_can_no_longer_earn(program):
    membership = member_in(program)
    claim = submit(program, claim_values(reference="LATER"), membership=membership)
    Member.objects.filter(pk=membership.member_id).update(status=Member.Status.CLOSED)
    RetroTransactionFactory(program=program, reference="LATER")
    run_daily_pass()
    claim.refresh_from_db()
    assert claim.status == S.NOT_MATCHED
    assert claim.failure_reason == "The member's account is Closed: it cannot earn points."
    assert not Activity.objects.exists()


def test_a_pending_claim_of_a_member_closed_since_cannot_be_approved(program, supervisor):
    RetroSettings.objects.filter(program=program).update(approval_required=True)
    membership = member_in(program)
    claim = submit(program, key_values_of(RetroTransactionFactory(program=program)), membership=membership)
    Member.objects.filter(pk=membership.member_id).update(status=Member.Status.SUSPENDED)
    with pytest.raises(DecisionRefused, match="Suspended: it cannot earn points.* Reject the claim instead"):
        approve_retro_claim(claim=claim, by=supervisor)
    assert RetroClaim.objects.get(pk=claim.pk).status == S.PENDING_APPROVAL


def test_a_claim_above_the_review_threshold_waits_even_with_approval_off(program):
    RetroSettings.objects.filter(program=program).update(approval_required=False, review_above_points=400)
    large = submit(program, key_values_of(RetroTransactionFactory(program=program)))  # 42.00 -> 420 points
    small = submit(program, key_values_of(RetroTransactionFactory(program=program, amount=Decimal("40.00"))))
    assert (large.status, large.estimated_points) == (S.PENDING_APPROVAL, 420)
    assert small.status == S.MATCHED


def test_reprocessing_is_kept_on_the_claim_as_it_was_at_submission(program):
    on = submit(program, claim_values(reference="ON"))
    RetroSettings.objects.filter(program=program).update(reprocessing_enabled=False)
    off = submit(program, claim_values(reference="OFF"))
    assert (on.reprocess, on.status) == (True, S.OUTSTANDING)
    assert (off.reprocess, off.status) == (False, S.NOT_MATCHED)
