"""The retro transactions API: batch import (good and bad rows, re-posting, 400s) and search; who may use it."""

import json

import pytest
from rest_framework.test import APIClient

from retro.models import RetroImportBatch, RetroTransaction
from tests.factories import api_token
from tests.retro.import_helpers import good_row, program_with_purchase_key

pytestmark = pytest.mark.django_db

BATCH_URL = "/api/retro/transactions/batch/"
SEARCH_URL = "/api/retro/transactions/"


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.fixture
def program():
    return program_with_purchase_key()


def _batch(rows, program_code="shop"):
    return {"program": program_code, "transactions": rows}


def test_a_batch_imports_good_rows_and_returns_bad_ones_with_position_and_reason(supervisor, program):
    rows = [good_row(1), good_row(2, amount="12,3,4"), good_row(3), {"transaction_date": "2023-05-20"}]
    response = client_for(supervisor).post(BATCH_URL, _batch(rows), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["imported"] == 2 and body["duplicates"] == 0
    assert [r["row"] for r in body["rejected"]] == [2, 4]
    assert body["rejected"][1]["reason"] == "source_id is required"
    assert set(RetroTransaction.objects.values_list("source_id", flat=True)) == {"POS-1", "POS-3"}
    batch = RetroImportBatch.objects.get()
    assert (batch.channel, batch.started_by, batch.state) == ("api", supervisor, "done")


def test_posting_the_same_batch_again_adds_nothing(supervisor, program):
    client = client_for(supervisor)
    rows = [good_row(n) for n in range(1, 4)]
    client.post(BATCH_URL, _batch(rows), format="json")
    again = client.post(BATCH_URL, _batch(rows), format="json").json()
    assert again == {"imported": 0, "posted": 0, "duplicates": 3, "rejected": [], "claims_matched": 0}
    assert RetroTransaction.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transactions": [{"source_id": "1"}]}, "program"),
        ({"program": "nope", "transactions": [{"source_id": "1"}]}, "program"),
        ({"program": "shop", "transactions": []}, "transactions"),
        ({"program": "shop", "transactions": "all of them"}, "transactions"),
        ({"program": "shop", "transactions": [1, 2]}, "transactions"),
    ],
)
def test_a_malformed_body_is_a_400_with_field_errors(supervisor, program, body, field):
    response = client_for(supervisor).post(BATCH_URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not RetroTransaction.objects.exists()


def test_more_than_ten_thousand_rows_is_a_400(supervisor, program):
    response = client_for(supervisor).post(BATCH_URL, _batch([{}] * 10_001), format="json")
    assert response.status_code == 400 and "transactions" in response.json()


def test_invalid_json_is_a_400(supervisor, program):
    response = client_for(supervisor).post(BATCH_URL, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_a_csr_may_not_import(csr, program):
    response = client_for(csr).post(BATCH_URL, _batch([good_row(1)]), format="json")
    assert response.status_code == 403
    assert not RetroTransaction.objects.exists()


def test_import_requires_a_token(program):
    assert APIClient().post(BATCH_URL, _batch([good_row(1)]), format="json").status_code == 401


# Search ("search an older transaction", seed 003)


@pytest.fixture
def pool(supervisor, program):
    rows = [
        good_row(1, transaction_date="2023-05-20", reference="A-100", amount="12.50"),
        good_row(2, transaction_date="2023-05-21", reference="A-200", amount="40.00"),
        good_row(3, transaction_date="2023-06-02", reference="A-300", amount="12.50", location_code="LYS02"),
    ]
    client_for(supervisor).post(BATCH_URL, _batch(rows), format="json")
    return program


def _search(user, **params):
    return client_for(user).get(SEARCH_URL, {"program": "shop", **params})


def test_search_by_key_fields_finds_the_older_transaction(csr, pool):
    response = _search(csr, location_code="par01", transaction_date="2023-05-20", reference="a-100", amount="12.5")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    found = body["results"][0]
    assert (found["source_id"], found["amount"], found["occurred_on"], found["claimed"]) == (
        "POS-1",
        "12.50",
        "2023-05-20",
        False,
    )


def test_search_by_date_range_is_paginated(csr, pool):
    body = _search(csr, date_from="2023-05-21", date_to="2023-06-30").json()
    assert body["count"] == 2 and "next" in body
    assert [r["source_id"] for r in body["results"]] == ["POS-3", "POS-2"]


def test_search_by_one_key_field(csr, pool):
    assert _search(csr, amount="12.50").json()["count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [({"program": ""}, "program"), ({"date_from": "yesterday"}, "date_from"), ({"amount": "lots"}, "amount")],
)
def test_a_bad_search_is_a_400_with_field_errors(csr, pool, params, field):
    response = _search(csr, **params)
    assert response.status_code == 400 and field in response.json()


def test_search_needs_the_view_permission(outsider, member_user, pool):
    assert _search(outsider).status_code == 403
    assert _search(member_user).status_code == 403


def test_search_requires_a_token(pool):
    assert APIClient().get(SEARCH_URL, {"program": "shop"}).status_code == 401


def test_both_endpoints_are_in_the_api_docs(admin_user):
    schema = client_for(admin_user).get("/api/schema/", {"format": "json"}).json()
    assert "post" in schema["paths"][BATCH_URL]
    params = {p["name"] for p in schema["paths"][SEARCH_URL]["get"]["parameters"]}
    assert {"program", "location_code", "transaction_date", "reference", "amount", "date_from", "date_to"} <= params


def test_numbers_are_accepted_and_nested_values_rejected(supervisor, program):
    rows = [good_row(1, amount=12.5, reference=1001), good_row(2, reference={"no": "objects"})]
    body = client_for(supervisor).post(BATCH_URL, _batch(rows), format="json").json()
    assert body["imported"] == 1
    assert [(r["row"], r["field"], r["reason"]) for r in body["rejected"]] == [
        (2, "reference", '{"no": "objects"} is not a text or number value')
    ]
    assert RetroTransaction.objects.get().reference == "1001"


# Values that once cost a 500: each is a 400 with its row error when it is all the batch has


def _raw_post(user, body):
    """The body as JSON text, escapes and all: a lone surrogate cannot go through the test client's encoder."""
    return client_for(user).post(BATCH_URL, json.dumps(body), content_type="application/json")


def _row_without_date(n, **values):
    row = good_row(n, **values)
    row.pop("transaction_date")
    return row


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (good_row(1, amount=1e30), "amount", "amount: The amount is far too large to be a transaction's amount."),
        (good_row(1, amount="1e30"), "amount", "amount: The amount is far too large to be a transaction's amount."),
        (_row_without_date(1, occurred_at="9999-12-31T23:59:59"), "occurred_at", "is in the future"),
        (good_row(1, reference="R\u00001"), "reference", "reference contains a NUL character"),
        (good_row(1, source_id="POS-\ud800"), "source_id", "source_id contains a broken character"),
        (good_row(1, attr_note="\udfff"), "attr_note", "attr_note contains a broken character"),
    ],
)
def test_values_that_cannot_be_stored_are_a_400_with_the_row_error(supervisor, program, row, field, reason):
    response = _raw_post(supervisor, _batch([row]))
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["imported"], body["duplicates"], body["posted"]) == (0, 0, 0)
    (rejected,) = body["rejected"]
    assert (rejected["row"], rejected["field"]) == (1, field) and reason in rejected["reason"]
    assert "\u0000" not in response.content.decode() and "\\u0000" not in response.content.decode()
    assert not RetroTransaction.objects.exists()
    assert RetroImportBatch.objects.get().state == "done"


def test_the_same_values_beside_a_good_row_are_rejected_and_the_good_row_goes_in(supervisor, program):
    rows = [good_row(1), good_row(2, amount=1e30), _row_without_date(3, occurred_at="9999-12-31T23:59:59")]
    rows += [good_row(4, reference="R\u00004"), good_row(5, source_id="POS-\ud800")]
    response = _raw_post(supervisor, _batch(rows))
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == 1 and [r["row"] for r in body["rejected"]] == [2, 3, 4, 5]
    assert body["rejected"][3]["original"]["source_id"] == "POS-\ufffd"
    assert list(RetroTransaction.objects.values_list("source_id", flat=True)) == ["POS-1"]


@pytest.mark.parametrize("code", ["sh\u0000op", "sh\ud800op"])
def test_a_program_code_that_cannot_be_stored_is_a_400(supervisor, program, code):
    response = _raw_post(supervisor, _batch([good_row(1)], program_code=code))
    assert response.status_code == 400 and "program" in response.json()
