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
QUOTE = {"program": "fly", "market": "FR", "cash_fare": "200.00"}


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


def test_a_request_on_a_kept_connection_the_server_dropped_is_served_on_a_new_one(monkeypatch, api, program):
    """CONN_HEALTH_CHECKS (settings_production): the token's read, a request's first statement, is checked too."""
    from django.db import connection

    from tests.test_database_loss import cut_own_connection

    # As settings_production sets them (read again when the connection is made anew): health checks, and each
    # connection kept for the next requests.
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    connection.health_check_enabled, connection.close_at = True, None
    try:
        assert api.post(f"{BASE}/quote/", QUOTE, format="json").status_code == 200
        cut_own_connection()  # between two requests, as a database restart would
        connection.close_if_unusable_or_obsolete()  # what the next request's start does (the test client skips it)
        assert api.post(f"{BASE}/quote/", QUOTE, format="json").status_code == 200
    finally:
        connection.close()  # the next connection is made with the tests' settings again
