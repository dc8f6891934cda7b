"""Eligibility answers each seed 004 limitation with its code; a soft failure opens a manual-handling case."""

import pytest

from exchanges.eligibility import REASONS
from exchanges.models import ManualHandlingCase
from tests.exchanges.conftest import booking

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db

# Each limitation, as the booking engine would describe the booking.
LIMITATIONS = {
    "ticket_not_unflown": {"all_coupons_unflown": False},
    "round_trip_to_one_way": {"round_trip_to_one_way": True},
    "upgraded_segment": {"upgraded_segment": True},
    "involuntary_exchange": {"involuntary": True},
    "unconfirmed_schedule_change": {"unconfirmed_schedule_change": True},
    "split_pnr": {"passengers_in_pnr": 3, "passengers_exchanging": 2},
    "revalidation_only": {"revalidation_only": True},
    "ancillaries_paid_in_points": {"ancillaries_paid_in_points": True},
    "zero_value_ticket": {"ticket_value_zero": True},
}


def test_every_reason_has_a_case_here():
    assert set(LIMITATIONS) == set(REASONS)


def test_a_plain_booking_may_proceed(api):
    response = api.post(f"{BASE}/eligibility/", {}, format="json")
    assert response.status_code == 200
    assert response.data == {"eligible": True, "action": "proceed", "reasons": []}


@pytest.mark.parametrize("code", list(LIMITATIONS))
def test_each_limitation_sends_the_passenger_to_the_call_centre_with_its_code(api, code):
    response = api.post(f"{BASE}/eligibility/", LIMITATIONS[code], format="json")
    assert response.status_code == 200
    assert response.data["eligible"] is False and response.data["action"] == "contact_call_centre"
    assert [reason["code"] for reason in response.data["reasons"]] == [code]


def test_several_limitations_give_several_reasons(api):
    body = {**LIMITATIONS["upgraded_segment"], **LIMITATIONS["zero_value_ticket"]}
    codes = [r["code"] for r in api.post(f"{BASE}/eligibility/", body, format="json").data["reasons"]]
    assert codes == ["upgraded_segment", "zero_value_ticket"]


def test_more_passengers_exchanging_than_in_the_pnr_is_a_field_error(api):
    response = api.post(f"{BASE}/eligibility/", {"passengers_in_pnr": 1, "passengers_exchanging": 2}, format="json")
    assert response.status_code == 400 and "passengers_exchanging" in response.data


def test_a_soft_failure_opens_a_manual_handling_case_with_the_failed_step(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    response = calls.post(
        f"{BASE}/redemptions/{redemption['id']}/failures/", {"step": "ticketing", "detail": "VCR not issued"}
    )
    assert response.status_code == 201 and response.data["status"] == "open"
    case = ManualHandlingCase.objects.get()
    assert case.failed_step == "ticketing" and case.redemption_id == redemption["id"]


def test_a_hard_failure_is_not_a_step_of_the_manual_queue(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    response = calls.post(f"{BASE}/redemptions/{redemption['id']}/failures/", {"step": "invalid_card"})
    assert response.status_code == 400 and "step" in response.data
    assert not ManualHandlingCase.objects.exists()
