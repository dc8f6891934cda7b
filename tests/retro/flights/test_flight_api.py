"""The partners' flight claims API: search, submit (idempotent), read, approve and reject, with their errors."""

import threading

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from retro.flights.decisions import approve_flight_claim
from retro.flights.services import submit_flight_claim
from retro.models import FlightClaim
from tests.factories import api_token
from tests.retro.flights.factories import FlightFactory, airline, traveller

pytestmark = pytest.mark.django_db


def api(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def test_search_lists_a_tickets_coupons(csr):
    flight = FlightFactory()
    response = api(csr).get(reverse("api-flight-search"), {"ticket": flight.ticket_number})
    assert response.status_code == 200 and response.json()[0]["passenger_name"] == "SMITH/JOHN MR"


def test_search_with_a_malformed_ticket_is_a_field_error(csr):
    response = api(csr).get(reverse("api-flight-search"), {"ticket": "12AB"})
    assert response.status_code == 400 and "ticket" in response.json()


def test_submit_is_idempotent_with_a_key(csr):
    membership, flight = traveller(airline()), FlightFactory()
    body = {"membership_number": membership.membership_number, "ticket_number": flight.ticket_number,
            "coupon_numbers": [1]}  # fmt: skip
    first = api(csr).post(reverse("api-flight-claim-submit"), body, format="json", headers={"Idempotency-Key": "k1"})
    again = api(csr).post(reverse("api-flight-claim-submit"), body, format="json", headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert FlightClaim.objects.count() == 1 and first.json()[0]["name_match"] == "match"


def test_submit_refusals_are_400_with_the_reason(csr):
    membership = traveller(airline())
    flight = FlightFactory(flown=False)
    body = {"membership_number": membership.membership_number, "ticket_number": flight.ticket_number,
            "coupon_numbers": [1]}  # fmt: skip
    response = api(csr).post(reverse("api-flight-claim-submit"), body, format="json")
    assert response.status_code == 400 and "was not flown" in response.json()["non_field_errors"][0]
    bad = api(csr).post(reverse("api-flight-claim-submit"), {**body, "coupon_numbers": [5], "ticket_number": "1"},
                        format="json")  # fmt: skip
    assert bad.status_code == 400 and {"coupon_numbers", "ticket_number"} <= set(bad.json())


def test_read_approve_and_a_second_approval_is_409(csr, supervisor):
    [claim] = submit_flight_claim(membership=traveller(airline()), ticket_number=FlightFactory().ticket_number,
                                  coupon_numbers=[1], submitted_by=csr)  # fmt: skip
    assert api(csr).get(reverse("api-flight-claim-detail", args=[claim.number])).json()["status"] == "pending"
    url = reverse("api-flight-claim-approve", args=[claim.number])
    assert api(csr).post(url, {}, format="json").status_code == 403
    approved = api(supervisor).post(url, {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = api(supervisor).post(url, {}, format="json")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"


def test_reject_needs_a_reason(csr, supervisor):
    [claim] = submit_flight_claim(membership=traveller(airline()), ticket_number=FlightFactory().ticket_number,
                                  coupon_numbers=[1], submitted_by=csr)  # fmt: skip
    url = reverse("api-flight-claim-reject", args=[claim.number])
    assert api(supervisor).post(url, {}, format="json").status_code == 400
    assert api(supervisor).post(url, {"reason": "Other passenger"}, format="json").json()["status"] == "rejected"


def test_anonymous_callers_are_refused():
    assert api().get(reverse("api-flight-search"), {"ticket": "0570000000001"}).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_at_once_credit_the_coupon_once(roles):
    from tests.factories import UserFactory

    csr = UserFactory(username="csr2", role="CSR")
    first, second = UserFactory(username="sup1", role="Supervisor"), UserFactory(username="sup2", role="Supervisor")
    membership = traveller(airline())
    [claim] = submit_flight_claim(membership=membership, ticket_number=FlightFactory().ticket_number,
                                  coupon_numbers=[1], submitted_by=csr)  # fmt: skip
    barrier, outcomes = threading.Barrier(2), []

    def decide(user):
        try:
            barrier.wait()
            approve_flight_claim(claim=claim.pk, by=user)
            outcomes.append("approved")
        except Exception as error:  # noqa: BLE001 - the loser's refusal is the point
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["NoLongerPending", "approved"]
    assert FlightClaim.objects.get().status == "approved"
    assert membership.activities.count() == 1
