"""Retro claims REST API: submit, read, list a membership's claims, approve/reject; auth and errors."""

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from retro.models import RetroClaim, RetroSettings
from retro.services import reverse_retro_claim
from tests.factories import api_token
from tests.retro.factories import RetroClaimFactory, RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.django_db
SUBMIT = "/api/retro/claims/"


@pytest.fixture
def program():
    return retro_program()


@pytest.fixture
def membership(program):
    return member_in(program)


def api(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def payload(membership, txn, **overrides):
    return {"membership_number": membership.membership_number, "key_values": key_values_of(txn), **overrides}


def test_a_partner_submits_a_claim_and_gets_its_status(csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    response = api(csr).post(SUBMIT, payload(membership, txn), format="json")
    assert response.status_code == 201, response.data
    assert response.data["status"] == "matched"
    assert response.data["points"] == 420
    assert response.data["matched_transaction"] == txn.source_id
    claim = RetroClaim.objects.get(number=response.data["number"])
    assert claim.channel == RetroClaim.Channel.API and claim.submitted_by == csr


def test_an_unmatched_claim_is_created_outstanding(csr, program, membership):
    txn = RetroTransactionFactory.build(program=program)
    response = api(csr).post(SUBMIT, payload(membership, txn), format="json")
    assert response.status_code == 201
    assert response.data["status"] == "outstanding"


def test_an_unmatched_claim_has_no_transaction_as_the_schema_says(csr, program, membership):
    # Found by the stateful schemathesis run (tests/test_api_stateful.py): the schema promised a string.
    response = api(csr).post(SUBMIT, payload(membership, RetroTransactionFactory.build(program=program)), format="json")
    assert response.status_code == 201 and response.data["matched_transaction"] is None
    claim = SchemaGenerator().get_schema(public=True)["components"]["schemas"]["RetroClaim"]["properties"]
    assert claim["matched_transaction"]["nullable"] and claim["submitted_by"]["nullable"]


def test_an_unknown_membership_is_a_field_error(csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    response = api(csr).post(SUBMIT, payload(membership, txn, membership_number="NOPE"), format="json")
    assert response.status_code == 400
    assert "membership_number" in response.data


def test_bad_key_values_are_field_errors_under_key_values(csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    values = {**key_values_of(txn), "amount": "twelve"}
    del values["reference"]
    response = api(csr).post(SUBMIT, payload(membership, txn, key_values=values), format="json")
    assert response.status_code == 400
    assert set(response.data["key_values"]) == {"amount", "reference"}


@pytest.mark.parametrize("body", [{}, {"membership_number": "x", "key_values": "not a dict"}, []])
def test_malformed_bodies_are_400s(csr, body):
    assert api(csr).post(SUBMIT, body, format="json").status_code == 400


def test_a_settings_refusal_is_a_400_with_the_reason(csr, program, membership):
    RetroSettings.objects.filter(program=program).update(retro_enabled=False)
    txn = RetroTransactionFactory(program=program)
    response = api(csr).post(SUBMIT, payload(membership, txn), format="json")
    assert response.status_code == 400
    assert "not enabled" in response.data["non_field_errors"][0]


def test_a_too_old_transaction_is_a_transaction_date_error(csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    values = {**key_values_of(txn), "transaction_date": "2022-06-01"}
    response = api(csr).post(SUBMIT, payload(membership, txn, key_values=values), format="json")
    assert response.status_code == 400
    assert "transaction_date" in response.data["key_values"]


def test_read_a_claim(csr, membership):
    claim = RetroClaimFactory(membership=membership)
    response = api(csr).get(reverse("api-retro-claim-detail", args=[claim.number]))
    assert response.status_code == 200
    assert response.data["number"] == claim.number
    assert response.data["membership_number"] == membership.membership_number
    assert api(csr).get(reverse("api-retro-claim-detail", args=["NOPE"])).status_code == 404


def test_list_a_memberships_claims_paginated(csr, program, membership):
    RetroClaimFactory.create_batch(3, membership=membership)
    RetroClaimFactory(membership=member_in(program))
    url = reverse("api-retro-member-claims", args=[membership.membership_number])
    response = api(csr).get(url)
    assert response.status_code == 200
    assert response.data["count"] == 3 and len(response.data["results"]) == 3
    assert api(csr).get(reverse("api-retro-member-claims", args=["NOPE"])).status_code == 404


def pending_claim(program, membership, user):
    RetroSettings.objects.filter(program=program).update(approval_required=True, auto_approve_max_points=None)
    txn = RetroTransactionFactory(program=program)
    response = api(user).post(SUBMIT, payload(membership, txn), format="json")
    assert response.data["status"] == "pending_approval"
    return response.data["number"]


def test_seed_003_request_retro_approval_then_approve_it(csr, supervisor, program, membership):
    number = pending_claim(program, membership, csr)
    response = api(supervisor).post(reverse("api-retro-claim-approve", args=[number]), {"reason": "ok"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "matched" and response.data["points"] == 420
    again = api(supervisor).post(reverse("api-retro-claim-approve", args=[number]), {}, format="json")
    # No longer pending: a 409 problem-details body, and nothing posted twice.
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.data["code"] == "not_pending"
    assert "only Pending Approval claims can be approved" in again.data["detail"]


def test_reject_needs_a_reason(csr, supervisor, program, membership):
    number = pending_claim(program, membership, csr)
    url = reverse("api-retro-claim-reject", args=[number])
    response = api(supervisor).post(url, {}, format="json")
    assert response.status_code == 400 and "reason" in response.data
    response = api(supervisor).post(url, {"reason": "Duplicate"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "rejected"


def test_a_csr_may_not_approve_or_reject(csr, program, membership):
    number = pending_claim(program, membership, csr)
    for name in ["api-retro-claim-approve", "api-retro-claim-reject"]:
        assert api(csr).post(reverse(name, args=[number]), {"reason": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_users_without_the_permission_get_403(request, persona, membership):
    claim = RetroClaimFactory(membership=membership)
    client = api(request.getfixturevalue(persona))
    assert client.post(SUBMIT, {}, format="json").status_code == 403
    assert client.get(reverse("api-retro-claim-detail", args=[claim.number])).status_code == 403
    assert client.get(reverse("api-retro-member-claims", args=[membership.membership_number])).status_code == 403
    assert client.post(reverse("api-retro-claim-approve", args=[claim.number])).status_code == 403


def test_anonymous_callers_get_401(membership):
    claim = RetroClaimFactory(membership=membership)
    client = api()
    assert client.post(SUBMIT, {}, format="json").status_code == 401
    assert client.get(reverse("api-retro-claim-detail", args=[claim.number])).status_code == 401
    assert client.get(reverse("api-retro-member-claims", args=[membership.membership_number])).status_code == 401
    assert client.post(reverse("api-retro-claim-reject", args=[claim.number])).status_code == 401


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ["/api/retro/claims/", "/api/retro/claims/{number}/approve/", "/api/retro/members/"]:
        assert path in schema
    assert "Submit a retro claim" in schema


def test_a_reversed_claim_reports_no_points_held(csr, supervisor, program, membership):
    response = api(csr).post(SUBMIT, payload(membership, RetroTransactionFactory(program=program)), format="json")
    assert response.data["points"] == 420
    reverse_retro_claim(claim=RetroClaim.objects.get(number=response.data["number"]), by=supervisor, reason="Dup")
    again = api(csr).get(reverse("api-retro-claim-detail", args=[response.data["number"]]))
    assert again.data["status"] == "reversed" and again.data["points"] == 0
