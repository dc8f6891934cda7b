"""Races on PostgreSQL: duplicate refunds give one refund, and holds never overdraw the balance."""

import pytest
from django.db import IntegrityError, transaction

from exchanges.models import Redemption
from loyalty import selectors
from loyalty.models import Activity
from tests.concurrency import race
from tests.exchanges.conftest import TICKET_A, TICKET_B, Calls, booking, client_of

BASE = "/api/exchanges"


@pytest.fixture
def captured(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    return redemption["id"]


def refund_call(partner, pk, payer, key, **body):
    calls = Calls(client_of(partner))  # its token made here, not in the race
    return lambda: calls.post(
        f"{BASE}/redemptions/{pk}/refunds/", {"membership_number": payer.membership_number, **body}, key=key
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_refunds_with_one_key_give_one_refund(partner, payer, captured):
    results = race([refund_call(partner, captured, payer, "same-refund") for _ in range(6)])
    assert {r.status_code for r in results} <= {201, 409}
    assert any(r.status_code == 201 for r in results)
    assert Activity.objects.filter(kind="refund").count() == 1
    assert selectors.award_balance(payer) == 50_000


@pytest.mark.django_db(transaction=True)
def test_concurrent_full_refunds_with_different_keys_refund_once(partner, payer, captured):
    results = race([refund_call(partner, captured, payer, f"refund-{i}") for i in range(6)])
    assert sorted(r.status_code for r in results) == [201] + [422] * 5
    assert {r.data["code"] for r in results if r.status_code == 422} == {"over_refund"}
    assert Redemption.objects.get().points_refunded == 16_000
    assert selectors.award_balance(payer) == 50_000


@pytest.mark.django_db(transaction=True)
def test_concurrent_partial_refunds_each_see_the_tickets_as_the_one_before_left_them(partner, payer, captured):
    # 10,000 + 6,000 points over two tickets; two refunds of 8,000 at once. The second waits for the first's
    # lock and must read ticket A's 2,000 left (not the 10,000 it had): A then B, never A twice.
    results = race([refund_call(partner, captured, payer, f"part-{i}", points=8_000) for i in range(2)])
    assert [r.status_code for r in results] == [201, 201]
    redemption = Redemption.objects.get()
    assert redemption.points_refunded == 16_000 and redemption.status == "refunded"
    tickets = dict(redemption.tickets.values_list("ticket_number", "points_refunded"))
    assert tickets == {TICKET_A: 10_000, TICKET_B: 6_000}
    assert sorted(sum(r.data["tickets"].values()) for r in results) == [8_000, 8_000]
    assert selectors.award_balance(payer) == 50_000


@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_never_hold_more_than_the_balance(partner, payer):
    def hold(i):
        body = booking(payer, tickets=((TICKET_A, 20_000),), pnr=f"PNR{i:03d}")
        calls = Calls(client_of(partner))
        return lambda: calls.post(f"{BASE}/redemptions/", body, key=f"hold-{i}")

    results = race([hold(i) for i in range(5)])
    assert sorted(r.status_code for r in results) == [201, 201, 422, 422, 422]


@pytest.mark.django_db
def test_the_database_refuses_refunding_more_than_was_captured(calls, payer, captured):
    with pytest.raises(IntegrityError), transaction.atomic():
        Redemption.objects.filter(pk=captured).update(points_refunded=16_001)
