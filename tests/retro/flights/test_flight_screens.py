"""The wizard's steps, manual entry, the Flights tab and the Flights Approval queue through the test client."""

import pytest
from django.urls import reverse

from retro.models import FlightClaim
from tests.factories import UserFactory
from tests.retro.flights.factories import FlightFactory, airline, days_ago, traveller

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def membership():
    return traveller(airline())


def wizard(membership):
    return reverse("member-flight-claim-wizard", args=[membership.member.member_number])


def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_wizard_opens_on_the_ticket_search(client, csr, membership):
    client.force_login(csr)
    page = html(client.get(wizard(membership), {"membership": membership.membership_number}, headers=HX))
    assert 'id="ticket-number"' in page and "Retro Claim Wizard" in page and "<html" not in page


def test_a_found_ticket_shows_a_green_check_and_its_coupons(client, csr, membership):
    flight = FlightFactory()
    client.force_login(csr)
    page = html(client.get(wizard(membership), {"ticket": flight.ticket_number}, headers=HX))
    assert 'id="search-found"' in page and "SMITH/JOHN MR" in page and "JFK–LHR" in page


def test_an_unknown_ticket_shows_a_red_x_that_says_what_to_do(client, csr, membership):
    client.force_login(csr)
    page = html(client.get(wizard(membership), {"ticket": "0571111111111"}, headers=HX))
    assert 'id="search-not-found"' in page and "No flight found for ticket 0571111111111" in page


@pytest.mark.parametrize("ticket, words", [("05711", "has 5"), ("057ABC1234567", "digits only")])
def test_a_malformed_ticket_is_a_field_error_before_any_search(client, csr, membership, ticket, words):
    client.force_login(csr)
    page = html(client.get(wizard(membership), {"ticket": ticket}, headers=HX))
    assert 'id="ticket-error"' in page and words in page and "search-not-found" not in page


def test_verify_then_submit_a_matching_name(client, csr, membership):
    flight = FlightFactory()
    client.force_login(csr)
    data = {"membership": membership.membership_number, "ticket": flight.ticket_number, "coupons": ["1"]}
    page = html(client.post(wizard(membership), {**data, "step": "verify"}, headers=HX))
    assert 'id="name-verified"' in page and 'id="submit-claim-button"' in page
    page = html(client.post(wizard(membership), {**data, "step": "submit"}, headers=HX))
    claim = FlightClaim.objects.get()
    assert 'id="claim-submitted"' in page and claim.number in page and claim.submitted_by == csr


def test_a_near_miss_warns_with_what_differs_and_can_still_be_submitted(client, csr, membership):
    flight = FlightFactory(passenger_name="SMITH/JON")
    client.force_login(csr)
    data = {"membership": membership.membership_number, "ticket": flight.ticket_number, "coupons": ["1"]}
    page = html(client.post(wizard(membership), {**data, "step": "verify"}, headers=HX))
    assert 'id="name-warning"' in page and "JON" in page and "95%" in page and 'id="previous-button"' in page
    html(client.post(wizard(membership), {**data, "step": "submit", "note": "Seen passport"}, headers=HX))
    assert FlightClaim.objects.get().name_match == "near_miss"


def test_a_refused_submission_says_why_in_the_wizard(client, csr, membership):
    flight = FlightFactory(flight_date=days_ago(2))
    client.force_login(csr)
    data = {"membership": membership.membership_number, "ticket": flight.ticket_number, "coupons": ["1"],
            "step": "submit"}  # fmt: skip
    page = html(client.post(wizard(membership), data, headers=HX))
    assert 'id="claim-refused"' in page and "too recent" in page and not FlightClaim.objects.exists()


def test_verify_without_a_coupon_asks_for_one(client, csr, membership):
    flight = FlightFactory()
    client.force_login(csr)
    data = {"membership": membership.membership_number, "ticket": flight.ticket_number, "step": "verify"}
    assert "Select the coupon(s) to claim." in html(client.post(wizard(membership), data, headers=HX))


def test_without_htmx_the_wizard_is_a_page(client, csr, membership):
    client.force_login(csr)
    assert "<html" in html(client.get(wizard(membership)))


def test_manual_entry_form_errors_and_submission(client, csr, membership):
    url = reverse("member-manual-flight", args=[membership.member.member_number])
    client.force_login(csr)
    bad = {"membership": membership.membership_number, "ticket_number": "123", "coupon_number": "1", "carrier": "SW",
           "flight_number": "12", "flight_date": days_ago(15).isoformat(), "origin": "JFK", "destination": "JFK",
           "distance": "100", "note": ""}  # fmt: skip
    page = html(client.post(url, bad, headers=HX))
    assert "A ticket number has 13 digits" in page and "The destination is the origin" in page
    good = {**bad, "ticket_number": "0574444444444", "destination": "BOS", "note": "Boarding pass"}
    page = html(client.post(url, good, headers=HX))
    assert 'id="manual-submitted"' in page and FlightClaim.objects.get().manual_entry


def test_the_flights_tab_lists_pending_and_rejected_claims_with_the_reason(client, csr, supervisor, membership):
    from retro.flights.decisions import reject_flight_claim
    from retro.flights.services import submit_flight_claim

    first, second = FlightFactory(), FlightFactory(flight_number="202")
    for flight in (first, second):
        submit_flight_claim(membership=membership, ticket_number=flight.ticket_number, coupon_numbers=[1],
                            submitted_by=csr)  # fmt: skip
    reject_flight_claim(claim=FlightClaim.objects.get(flight=second), by=supervisor, reason="Name on ticket differs")
    client.force_login(csr)
    url = reverse("member-profile-tab", args=[membership.member.member_number, "flights"])
    page = html(client.get(url, {"membership": membership.membership_number}, headers=HX))
    assert 'data-status="pending"' in page and 'data-status="rejected"' in page and "Name on ticket differs" in page
    assert first.ticket_number in page


def test_the_more_menu_offers_retro_claim_airline_and_manual_entry(client, csr, membership):
    client.force_login(csr)
    page = html(client.get(membership.member.get_absolute_url()))
    assert (
        "Retro Claim</h6>" in page
        and 'id="more-retro-claim-airline"' in page
        and 'id="more-add-flight-activity"' in page
    )


def test_the_queue_shows_pending_claims_oldest_first_with_the_dashboard(client, csr, supervisor, membership):
    from retro.flights.services import submit_flight_claim

    for number in ("101", "202"):
        flight = FlightFactory(flight_number=number)
        submit_flight_claim(membership=membership, ticket_number=flight.ticket_number, coupon_numbers=[1],
                            submitted_by=csr)  # fmt: skip
    client.force_login(supervisor)
    page = html(client.get(reverse("flight-approval-queue")))
    assert 'id="flights-dashboard"' in page and 'id="dash-pending">2<' in page and 'id="dash-chart"' in page
    assert page.index("SW 101") < page.index("SW 202")


def test_the_queue_approves_a_selection(client, csr, supervisor, membership):
    from retro.flights.services import submit_flight_claim

    flight = FlightFactory()
    [claim] = submit_flight_claim(membership=membership, ticket_number=flight.ticket_number, coupon_numbers=[1],
                                  submitted_by=csr)  # fmt: skip
    client.force_login(supervisor)
    client.post(reverse("flight-approval-queue"), {"decision": "approve", "selected": [claim.pk]})
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.activity_id


def test_the_queue_filters_by_name_check_and_manual_entry(client, csr, supervisor, membership):
    from retro.flights.services import submit_flight_claim

    flight = FlightFactory(passenger_name="JONES/MARY")
    submit_flight_claim(membership=membership, ticket_number=flight.ticket_number, coupon_numbers=[1], submitted_by=csr)
    client.force_login(supervisor)
    url = reverse("flight-approval-queue")
    assert "JONES/MARY" in html(client.get(url, {"name_match": "mismatch"}, headers=HX))
    assert "JONES/MARY" not in html(client.get(url, {"name_match": "match"}, headers=HX))
    assert "JONES/MARY" not in html(client.get(url, {"manual_entry": "true"}, headers=HX))


@pytest.mark.parametrize("name", ["member-flight-claim-wizard", "member-manual-flight"])
def test_people_without_the_role_may_not_use_the_member_screens(client, membership, member_user, name):
    url = reverse(name, args=[membership.member.member_number])
    client.force_login(member_user)
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_a_csr_may_not_open_the_approval_queue(client, csr):
    client.force_login(csr)
    assert client.get(reverse("flight-approval-queue")).status_code == 403


def test_a_claim_past_the_service_level_is_highlighted(client, csr, supervisor, membership):
    import datetime as dt

    from django.utils import timezone

    from retro.flights.services import submit_flight_claim

    old, new = FlightFactory(flight_number="303"), FlightFactory(flight_number="404")
    for flight in (old, new):
        submit_flight_claim(membership=membership, ticket_number=flight.ticket_number, coupon_numbers=[1],
                            submitted_by=csr)  # fmt: skip
    FlightClaim.objects.filter(flight=old).update(submitted_at=timezone.now() - dt.timedelta(days=10))
    client.force_login(supervisor)
    page = html(client.get(reverse("flight-approval-queue"), {"age": "overdue"}, headers=HX))
    assert "SW 303" in page and "SW 404" not in page and 'class="table-warning queue-highlight"' in page
