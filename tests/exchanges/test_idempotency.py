"""Every exchanges write takes an Idempotency-Key: a retry replays the first answer and changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from exchanges.models import PointsOperation, Redemption
from loyalty import idempotency, selectors
from loyalty.models import Activity, IdempotencyKey
from tests.concurrency import key_in_flight
from tests.exchanges.conftest import booking

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db


def test_a_write_without_a_key_is_a_400_problem_and_does_nothing(api, payer):
    response = api.post(f"{BASE}/redemptions/", booking(payer), format="json")
    assert response.status_code == 400 and response.data["code"] == "key_missing"
    assert response["Content-Type"] == "application/problem+json"
    assert not Redemption.objects.exists()


def test_the_same_key_and_body_replay_the_first_response_and_change_nothing(calls, payer):
    first = calls.post(f"{BASE}/redemptions/", booking(payer), key="hold-1")
    again = calls.post(f"{BASE}/redemptions/", booking(payer), key="hold-1")
    # A repeated success is its kept JSON, sent as it is: the same data and content type.
    assert again.status_code == first.status_code == 201 and again.json() == first.json()
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    pk = first.data["id"]
    captures = [
        calls.post(f"{BASE}/redemptions/{pk}/capture/", key="cap-1"),
        calls.post(f"{BASE}/redemptions/{pk}/capture/", key="cap-1"),
    ]
    assert [r.status_code for r in captures] == [200, 200]
    body = {"membership_number": payer.membership_number, "points": 1000}
    replies = [calls.post(f"{BASE}/redemptions/{pk}/refunds/", body, key="refund-1") for _ in range(3)]
    assert {r.status_code for r in replies} == {201} and replies[2].json() == replies[0].json()
    assert Redemption.objects.count() == 1 and Activity.objects.filter(kind="refund").count() == 1
    assert PointsOperation.objects.filter(kind="refund").count() == 1
    assert selectors.award_balance(payer) == 50_000 - 16_000 + 1000


def test_a_replayed_refusal_is_the_same_problem(calls, payer):
    body = booking(payer, tickets=(("0571234567890", 90_000),))
    first = calls.post(f"{BASE}/redemptions/", body, key="too-much")
    again = calls.post(f"{BASE}/redemptions/", body, key="too-much")
    assert first.status_code == again.status_code == 422 and again.data == first.data
    assert again["Content-Type"] == "application/problem+json"


def test_the_same_key_with_another_body_is_422(calls, payer):
    calls.post(f"{BASE}/redemptions/", booking(payer, pnr="AAA111"), key="k")
    response = calls.post(f"{BASE}/redemptions/", booking(payer, pnr="BBB222"), key="k")
    assert response.status_code == 422 and response.data["code"] == "key_reused"
    assert Redemption.objects.count() == 1


def test_a_key_whose_first_request_is_still_running_is_409(calls, payer, partner):
    body = booking(payer)
    with key_in_flight(user=partner.user, scope="exchanges.authorize", key="busy"):
        response = calls.post(f"{BASE}/redemptions/", body, key="busy")
    assert response.status_code == 409 and response.data["code"] == "key_in_flight"
    assert not Redemption.objects.exists() and not IdempotencyKey.objects.exists()
    # The first request's process died with its connection: nothing of it is left, and a retry runs.
    assert calls.post(f"{BASE}/redemptions/", body, key="busy").status_code == 201


def test_a_key_longer_than_255_characters_is_400(calls, payer):
    response = calls.post(f"{BASE}/redemptions/", booking(payer), key="k" * 256)
    assert response.status_code == 400 and response.data["code"] == "bad_key"


def test_keys_past_their_retention_are_purged_and_a_late_retry_still_has_no_second_effect(calls, payer, settings):
    first = calls.post(f"{BASE}/redemptions/", booking(payer), key="hold-old")
    pk = first.data["id"]
    calls.post(f"{BASE}/redemptions/{pk}/capture/", key="cap-old")
    body = {"membership_number": payer.membership_number, "points": 1000}
    assert calls.post(f"{BASE}/redemptions/{pk}/refunds/", body, key="refund-old").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=49))
    calls.post(f"{BASE}/redemptions/", booking(payer, pnr="NEW123"), key="hold-new")
    assert settings.IDEMPOTENCY_KEY_RETENTION_HOURS == 48
    assert idempotency.purge_expired() == 3
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["hold-new"]
    late = calls.post(f"{BASE}/redemptions/{pk}/refunds/", body, key="refund-old")
    assert late.status_code == 422 and late.data["code"] == "key_reused"
    assert PointsOperation.objects.filter(kind="refund").count() == 1
    assert Activity.objects.filter(kind="refund").count() == 1


def test_the_api_docs_publish_how_long_keys_are_kept(client):
    schema = client.get("/api/schema/").content.decode()
    assert "Keys are kept 48 hours (never less than 24)" in schema


def test_a_body_that_is_not_json_is_a_documented_problem(api):
    headers = {"Idempotency-Key": "form-1"}
    response = api.post(f"{BASE}/redemptions/", "a=1", content_type="text/plain", headers=headers)
    assert response.status_code == 415 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"
    broken = api.post(f"{BASE}/redemptions/", "{not json", content_type="application/json", headers=headers)
    assert broken.status_code == 400 and broken.json()["code"] == "bad_request"


def test_a_form_body_is_refused_because_the_booking_engine_speaks_json(api, payer):
    # A form cannot carry a booking's ticket list; the schema offers JSON only, and the API takes nothing else.
    response = api.post(f"{BASE}/redemptions/", {"program": "x"}, headers={"Idempotency-Key": "form-2"})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert not Redemption.objects.exists()
