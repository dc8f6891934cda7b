"""Refunds go back to the original payer only, in full, by ticket or by amount, never beyond what was captured."""

import pytest

from exchanges.models import Redemption
from loyalty import selectors
from loyalty.models import Activity
from tests.exchanges.conftest import TICKET_A, TICKET_B, booking
from tests.factories import MembershipFactory

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(calls, payer):
    """A booking of 16,000 points (10,000 + 6,000) and 120 EUR, captured: the payer has 34,000 left."""
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    return redemption["id"]


def refund(calls, pk, payer, **body):
    return calls.post(f"{BASE}/redemptions/{pk}/refunds/", {"membership_number": payer.membership_number, **body})


def test_a_full_refund_restores_the_balance_and_leaves_the_cash_to_the_caller(calls, payer, captured):
    response = refund(calls, captured, payer)
    assert response.status_code == 201
    assert response.data["points_refunded"] == 16_000
    assert response.data["cash_amount"] == "120.00" and response.data["currency"] == "EUR"
    assert response.data["redemption"]["status"] == "refunded"
    assert response.data["redemption"]["points_refundable"] == 0
    assert selectors.award_balance(payer) == 50_000
    assert Activity.objects.get(kind="refund").explanation["points"] == 16_000


def test_a_refund_by_ticket_refunds_that_tickets_points(calls, payer, captured):
    response = refund(calls, captured, payer, ticket_numbers=[TICKET_B])
    assert response.status_code == 201 and response.data["tickets"] == {TICKET_B: 6_000}
    body = response.data["redemption"]
    assert body["status"] == "partly_refunded" and body["points_refundable"] == 10_000
    assert {t["ticket_number"]: t["points_refundable"] for t in body["tickets"]} == {TICKET_A: 10_000, TICKET_B: 0}
    again = refund(calls, captured, payer, ticket_numbers=[TICKET_B])
    assert again.status_code == 422 and again.data["code"] == "over_refund"


def test_partial_refunds_by_amount_may_come_until_everything_is_returned(calls, payer, captured):
    assert refund(calls, captured, payer, points=12_000).data["tickets"] == {TICKET_A: 10_000, TICKET_B: 2_000}
    last = refund(calls, captured, payer, points=4_000)
    assert last.status_code == 201 and last.data["redemption"]["status"] == "refunded"
    assert selectors.award_balance(payer) == 50_000
    after = refund(calls, captured, payer, points=1)
    assert after.status_code == 422 and after.data["code"] == "over_refund"


def test_a_refund_beyond_what_remains_is_refused_and_changes_nothing(calls, payer, captured):
    refund(calls, captured, payer, points=10_000)
    response = refund(calls, captured, payer, points=6_001)
    assert response.status_code == 422 and response.data["code"] == "over_refund"
    assert response["Content-Type"] == "application/problem+json"
    assert Redemption.objects.get().points_refunded == 10_000
    assert selectors.award_balance(payer) == 44_000


def test_a_refund_for_another_member_than_the_payer_is_refused_with_its_own_code(calls, payer, captured):
    other = MembershipFactory(program=payer.program)
    response = calls.post(f"{BASE}/redemptions/{captured}/refunds/", {"membership_number": other.membership_number})
    assert response.status_code == 403 and response.data["code"] == "not_original_payer"
    assert response.data["type"] == "urn:loyalty:problem:not-original-payer"
    assert not Activity.objects.filter(kind="refund").exists()


@pytest.mark.parametrize(
    "body",
    [{"points": 0}, {"points": -5}, {"points": "many"}, {"ticket_numbers": []}, {"ticket_numbers": ["1"]},
     {"points": 10, "ticket_numbers": [TICKET_A]}, {}],
)  # fmt: skip
def test_bad_refund_requests_are_400(calls, captured, body):
    response = calls.post(f"{BASE}/redemptions/{captured}/refunds/", body)
    assert response.status_code == 400
    assert Redemption.objects.get().points_refunded == 0


def test_an_unknown_ticket_is_a_400_with_its_code(calls, payer, captured):
    response = refund(calls, captured, payer, ticket_numbers=["0579999999999"])
    assert response.status_code == 400 and response.data["code"] == "unknown_ticket"


def test_a_booking_not_captured_cannot_be_refunded(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    response = refund(calls, redemption["id"], payer)
    assert response.status_code == 409 and response.data["code"] == "wrong_state"
