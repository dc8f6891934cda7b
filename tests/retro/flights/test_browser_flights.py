"""Browser: a CSR walks the Retro Claim wizard (a matching name, then a near miss); a supervisor approves."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from loyalty.models import LedgerEntry
from retro.models import FlightClaim
from tests.factories import MemberFactory, MembershipFactory
from tests.retro.flights.factories import FlightFactory, airline

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def open_wizard(page, live_server, member):
    page.goto(f"{live_server.url}{member.get_absolute_url()}")
    page.click("#more-menu")
    page.click("#more-retro-claim-airline")
    expect(page.locator("#app-modal")).to_be_visible()
    page.wait_for_selector("#ticket-number")


def search(page, ticket):
    page.fill("#ticket-number", ticket)
    page.click("#ticket-search-button")


def test_csr_claims_flights_through_the_wizard_and_a_supervisor_approves(csr, supervisor, login, live_server):
    program = airline()
    member = MemberFactory(member_number="M00057057", first_name="José-María", last_name="de la Cruz")
    membership = MembershipFactory(member=member, program=program, membership_number="SW0000057057")
    matching = FlightFactory(ticket_number="0571234567890", passenger_name="DELACRUZ/JOSEMARIA MR", distance=3451,
                             booking_class="J", cabin="Business")  # fmt: skip
    FlightFactory(ticket_number="0571234567890", coupon_number=2, origin="LHR", destination="JFK",
                  passenger_name="DELACRUZ/JOSEMARIA MR")  # fmt: skip
    near = FlightFactory(ticket_number="0579876543210", passenger_name="DELACRUZ/JOSE MR", flight_number="455")

    page = login(csr)
    open_wizard(page, live_server, member)
    # A wrong ticket number is a field error; an unknown one a red X.
    search(page, "05712")
    expect(page.locator("#ticket-error")).to_contain_text("13 digits")
    search(page, "0570000000000")
    expect(page.locator("#search-not-found")).to_contain_text("No flight found for ticket 0570000000000")
    # Found: a green check and the ticket's two coupons; the outbound is claimed.
    search(page, matching.ticket_number)
    expect(page.locator("#search-found")).to_contain_text("2 coupons")
    shot(page, "flight-wizard-search.png")
    page.check("#coupon-1")
    page.click("#verify-button")
    expect(page.locator("#name-verified")).to_be_visible()
    shot(page, "flight-wizard-verify-match.png")
    page.click("#submit-claim-button")
    expect(page.locator("#claim-submitted")).to_contain_text("awaits a supervisor's approval")

    # Another ticket whose name is a near miss: the warning says what differs; Previous, then submit anyway.
    page.click("#claim-another")
    search(page, near.ticket_number)
    page.check("#coupon-1")
    page.click("#verify-button")
    expect(page.locator("#name-warning")).to_be_visible()
    expect(page.locator("#verify-table")).to_contain_text("Near miss")
    shot(page, "flight-wizard-verify-near-miss.png")
    page.click("#previous-button")
    expect(page.locator("#search-found")).to_be_visible()
    page.check("#coupon-1")
    page.click("#verify-button")
    page.fill("#claim-note", "Member showed the boarding pass: José on the ticket.")
    page.click("#submit-claim-button")
    expect(page.locator("#claim-submitted")).to_be_visible()
    assert FlightClaim.objects.filter(status="pending").count() == 2

    # The supervisor approves both from the Flights Approval queue.
    page.context.clear_cookies()
    page = login(supervisor)
    page.locator("#main-nav").get_by_role("link", name="Flights approval").click()
    page.wait_for_selector("#flights-dashboard")
    expect(page.locator("#queue-table tbody tr")).to_have_count(2)
    expect(page.locator("#queue-table")).to_contain_text("Near miss")
    shot(page, "flights-approval-queue.png")
    page.check("#select-all")
    page.click("#approve-selected")
    expect(page.locator(".alert-success")).to_contain_text("2 flight claims approved")
    assert FlightClaim.objects.filter(status="approved").count() == 2
    assert sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric="base")) == 6902 + 3451

    # The member's Flights tab shows both, approved.
    page.goto(f"{live_server.url}{member.get_absolute_url()}?tab=flights")
    expect(page.locator("#flight-claims-table tbody tr")).to_have_count(2)
    expect(page.locator("#flight-claims-table")).to_contain_text("Approved")
    shot(page, "member-flights-tab.png")
