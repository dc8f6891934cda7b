"""The booking engine quotes, holds, captures and releases points; a partner sees only its own bookings."""

import datetime as dt

import pytest
from django.utils import timezone

from exchanges.models import PointsOperation, Redemption
from exchanges.services import available_points
from loyalty import selectors
from loyalty.models import Activity
from tests.exchanges.conftest import TICKET_A, Calls, booking, client_of, partner_named
from tests.factories import ProgramFactory, UserFactory

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db


def authorized(calls, payer, **kwargs):
    response = calls.post(f"{BASE}/redemptions/", booking(payer, **kwargs))
    assert response.status_code == 201, response.content
    return response.data


def test_a_quote_offers_points_plus_cash_from_the_minimum_and_the_whole_fare_in_points(api, program):
    response = api.post(f"{BASE}/quote/", {"program": "fly", "market": "FR", "cash_fare": "200.00"}, format="json")
    assert response.status_code == 200
    options = response.data["options"]
    assert options[0]["points"] == 2000 and options[0]["cash"] == "175.00"  # 2000 points at 80 a euro
    assert all(o["points"] >= 2000 for o in options)
    assert options[-1] == {"points": 20000, "cash": "0.00", "redemption_only": True}  # 100 a euro


def test_a_quote_without_a_ratio_for_the_market_is_refused(api, program):
    response = api.post(f"{BASE}/quote/", {"program": "fly", "market": "US", "cash_fare": "200"}, format="json")
    assert response.status_code == 422 and response.data["code"] == "no_conversion_ratio"
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("fare", ["0", "-5", "abc", "1e400"])
def test_a_quote_of_a_bad_fare_is_a_field_error(api, program, fare):
    response = api.post(f"{BASE}/quote/", {"program": "fly", "market": "FR", "cash_fare": fare}, format="json")
    assert response.status_code == 400 and "cash_fare" in response.data


def test_a_hold_reduces_the_available_balance_and_capture_posts_the_redemption_once(calls, payer):
    data = authorized(calls, payer)
    assert data["status"] == "authorized" and data["points_held"] == 16_000
    assert available_points(payer) == 34_000 and selectors.award_balance(payer) == 50_000
    response = calls.post(f"{BASE}/redemptions/{data['id']}/capture/")
    assert response.status_code == 200 and response.data["status"] == "captured"
    assert response.data["points_refundable"] == 16_000
    assert selectors.award_balance(payer) == 34_000 and available_points(payer) == 34_000
    again = calls.post(f"{BASE}/redemptions/{data['id']}/capture/")
    assert again.status_code == 409 and again.data["code"] == "wrong_state"
    assert Activity.objects.filter(kind="redemption").count() == 1


def test_a_release_gives_the_held_points_back_and_posts_nothing(calls, payer):
    data = authorized(calls, payer)
    response = calls.post(f"{BASE}/redemptions/{data['id']}/release/")
    assert response.status_code == 200 and response.data["status"] == "released"
    assert available_points(payer) == 50_000
    assert not Activity.objects.filter(kind="redemption").exists()
    assert calls.post(f"{BASE}/redemptions/{data['id']}/capture/").data["code"] == "wrong_state"


def test_a_hold_beyond_the_available_balance_is_refused(calls, payer):
    authorized(calls, payer, tickets=((TICKET_A, 40_000),), pnr="FIRST1")
    response = calls.post(f"{BASE}/redemptions/", booking(payer, tickets=((TICKET_A, 20_000),), pnr="SECOND"))
    assert response.status_code == 422 and response.data["code"] == "insufficient_points"
    assert Redemption.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"tickets": []},
        {"tickets": [{"ticket_number": TICKET_A, "points": 0}]},
        {"tickets": [{"ticket_number": TICKET_A, "points": -10}]},
        {"tickets": [{"ticket_number": "12", "points": 10}]},
        {"cash_amount": "-1"},
        {"membership_number": "NOPE"},
        {"pnr": ""},
    ],
)
def test_bad_amounts_and_fields_are_400_with_field_errors(calls, payer, change):
    response = calls.post(f"{BASE}/redemptions/", {**booking(payer), **change})
    assert response.status_code == 400
    assert Redemption.objects.count() == 0


def test_a_ticket_named_twice_is_a_bad_amount(calls, payer):
    response = calls.post(f"{BASE}/redemptions/", booking(payer, tickets=((TICKET_A, 10), (TICKET_A, 10))))
    assert response.status_code == 400 and response.data["code"] == "bad_amount"


def test_a_program_the_partner_may_not_use_is_refused(calls, payer):
    other = ProgramFactory(code="other", name="Other")
    response = calls.post(f"{BASE}/redemptions/", {**booking(payer), "program": other.code})
    assert response.status_code == 403 and response.data["code"] == "program_not_allowed"


def test_another_partners_booking_and_an_unknown_one_are_404(calls, payer, program):
    data = authorized(calls, payer)
    rival = Calls(client_of(partner_named("rival-engine", program)))
    assert rival.client.get(f"{BASE}/redemptions/{data['id']}/").status_code == 404
    for step in ["capture", "release", "refunds", "failures"]:
        response = rival.post(f"{BASE}/redemptions/{data['id']}/{step}/", {"membership_number": "x", "step": "aer"})
        assert response.status_code == 404 and response.data["code"] == "unknown_redemption", step
    assert calls.client.get(f"{BASE}/redemptions/999999/").status_code == 404
    assert calls.client.get(f"{BASE}/redemptions/abc/").status_code == 404
    assert calls.client.get(f"{BASE}/redemptions/²/").status_code == 404  # a digit to str.isdigit, not to int()
    assert Redemption.objects.get().status == "authorized"


def test_a_booking_in_a_program_the_partner_may_no_longer_use_is_404(calls, partner, payer):
    """A partner touches only its programs' bookings: taken off the program, its bookings there are not found."""
    data = authorized(calls, payer)
    partner.programs.clear()
    assert calls.client.get(f"{BASE}/redemptions/{data['id']}/").status_code == 404
    for step in ["capture", "release", "refunds", "failures"]:
        response = calls.post(f"{BASE}/redemptions/{data['id']}/{step}/", {"membership_number": "x", "step": "aer"})
        assert response.status_code == 404 and response.data["code"] == "unknown_redemption", step
    assert Redemption.objects.get().status == "authorized"


def test_a_user_who_is_not_a_partner_client_is_refused(db, payer):
    client = client_of(type("P", (), {"user": UserFactory(username="someone")})())
    response = client.post(f"{BASE}/quote/", {}, format="json")
    assert response.status_code == 403 and response.data["code"] == "not_a_partner"


def test_without_a_token_the_api_answers_401(client, program):
    assert client.post(f"{BASE}/quote/", {}).status_code == 401


def test_reading_a_redemption_shows_what_remains_refundable_per_ticket(calls, payer):
    data = authorized(calls, payer)
    calls.post(f"{BASE}/redemptions/{data['id']}/capture/")
    body = calls.client.get(f"{BASE}/redemptions/{data['id']}/").data
    assert body["points_refundable"] == 16_000
    assert [(t["ticket_number"], t["points_refundable"]) for t in body["tickets"]] == [
        ("0571234567890", 10_000), ("0571234567891", 6_000),
    ]  # fmt: skip
    assert PointsOperation.objects.filter(redemption_id=data["id"]).count() == 2


def test_an_expired_hold_no_longer_counts_and_cannot_be_captured(calls, payer):
    data = authorized(calls, payer, tickets=((TICKET_A, 40_000),))
    assert available_points(payer) == 10_000
    Redemption.objects.filter(pk=data["id"]).update(hold_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert available_points(payer) == 50_000
    response = calls.post(f"{BASE}/redemptions/{data['id']}/capture/")
    assert response.status_code == 409 and response.data["code"] == "hold_expired"
    assert selectors.award_balance(payer) == 50_000
