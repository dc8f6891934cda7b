"""The claim API's Idempotency-Key: a retried submission has its effect once, whatever the timing."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.models import Activity
from retro.models import RetroClaim, RetroSettings
from tests.concurrency import key_in_flight, race
from tests.factories import UserFactory
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

SUBMIT = reverse("api-retro-claim-submit")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def payload(membership, txn):
    return {"membership_number": membership.membership_number, "key_values": key_values_of(txn)}


@pytest.fixture
def program(db):
    program = retro_program()
    RetroSettings.objects.filter(program=program).update(submission_limit_count=5, submission_limit_days=30)
    return program


@pytest.mark.django_db
def test_thirty_retries_with_one_key_give_the_first_response_and_one_claim(csr, program):
    membership, txn = member_in(program), RetroTransactionFactory(program=program)
    responses = [
        api(csr).post(SUBMIT, payload(membership, txn), format="json", headers={"Idempotency-Key": "order-42"})
        for _ in range(30)
    ]
    assert {r.status_code for r in responses} == {201}
    assert {r.data["number"] for r in responses} == {responses[0].data["number"]}
    assert [r.data for r in responses[1:]] == [responses[0].data] * 29
    assert RetroClaim.objects.count() == 1 and Activity.objects.filter(source="retro").count() == 1
    # The member's quota counted one claim, not thirty.
    assert RetroClaim.objects.filter(membership=membership).count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_with_422(csr, program):
    membership = member_in(program)
    first, second = RetroTransactionFactory(program=program), RetroTransactionFactory(program=program)
    api(csr).post(SUBMIT, payload(membership, first), format="json", headers={"Idempotency-Key": "k1"})
    response = api(csr).post(SUBMIT, payload(membership, second), format="json", headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert response.data["code"] == "key_reused"
    assert RetroClaim.objects.count() == 1


@pytest.mark.django_db
def test_a_key_whose_first_request_still_runs_answers_409(csr, program):
    membership, txn = member_in(program), RetroTransactionFactory(program=program)
    with key_in_flight(user=csr, scope="retro.submit_claim", key="k2"):
        response = api(csr).post(SUBMIT, payload(membership, txn), format="json", headers={"Idempotency-Key": "k2"})
    assert response.status_code == 409 and response.data["code"] == "key_in_flight"
    assert not RetroClaim.objects.exists()


@pytest.mark.django_db
def test_a_refused_submission_is_replayed_as_refused_and_another_user_may_reuse_the_key(csr, supervisor, program):
    membership = member_in(program)
    bad = {"membership_number": membership.membership_number, "key_values": {"amount": "12.345"}}
    first = api(csr).post(SUBMIT, bad, format="json", headers={"Idempotency-Key": "k3"})
    again = api(csr).post(SUBMIT, bad, format="json", headers={"Idempotency-Key": "k3"})
    assert first.status_code == again.status_code == 400 and first.data == again.data
    good = payload(membership, RetroTransactionFactory(program=program))
    assert api(supervisor).post(SUBMIT, good, format="json", headers={"Idempotency-Key": "k3"}).status_code == 201


@pytest.mark.django_db
def test_without_a_key_each_request_is_its_own(csr, program):
    membership, txn = member_in(program), RetroTransactionFactory(program=program)
    statuses = [api(csr).post(SUBMIT, payload(membership, txn), format="json").data["status"] for _ in range(2)]
    assert statuses == ["matched", "already_claimed"]


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_requests_with_one_key_make_one_claim(roles, program):
    user = UserFactory(username="partner", role="CSR")
    membership, txn = member_in(program), RetroTransactionFactory(program=program)

    def post():
        headers = {"Idempotency-Key": "race"}
        return api(user).post(SUBMIT, payload(membership, txn), format="json", headers=headers).status_code

    results = race([post] * 10)
    assert set(results) <= {201, 409} and 201 in results
    assert RetroClaim.objects.count() == 1
