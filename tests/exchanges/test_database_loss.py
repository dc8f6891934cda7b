"""A refund whose database connection is lost half-way answers 503, saves nothing, and may be sent again."""

import pytest

from exchanges import services as exchange_services
from exchanges.models import PointsOperation, Redemption
from loyalty import selectors
from loyalty.models import Activity, IdempotencyKey
from tests.exchanges.conftest import booking
from tests.test_database_loss import cut_once

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/api/exchanges"


def test_a_refund_whose_connection_is_lost_answers_503_saves_nothing_and_its_retry_succeeds(
    monkeypatch, calls, payer
):
    held = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{held['id']}/capture/")
    balance = selectors.award_balance(payer)
    # After the refund activity is posted: the booking's state, with its tickets and the operation, is the last
    # write of the effect.
    cut_once(monkeypatch, exchange_services, "transition")
    body = {"membership_number": payer.membership_number, "points": 1_000}
    lost = calls.post(f"{BASE}/redemptions/{held['id']}/refunds/", body, key="refund-1")
    assert lost.status_code == 503 and lost["Content-Type"] == "application/problem+json"
    assert lost.json()["code"] == "database_unavailable" and "nothing was saved" in lost.json()["detail"]
    assert not PointsOperation.objects.filter(kind="refund").exists()
    assert not Activity.objects.filter(kind="refund").exists()
    assert Redemption.objects.get().points_refunded == 0 and selectors.award_balance(payer) == balance
    assert not IdempotencyKey.objects.filter(key="refund-1").exists()
    again = calls.post(f"{BASE}/redemptions/{held['id']}/refunds/", body, key="refund-1")
    assert again.status_code == 201 and selectors.award_balance(payer) == balance + 1_000
