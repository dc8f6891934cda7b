"""Browser: membership claims (seed 002) as a CSR and a supervisor work them; who may not open the screens."""

import datetime as dt
import importlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from claims import services
from claims.models import (
    AdjustmentCode,
    ClaimOrigin,
    ClaimSettings,
    ClaimStatus,
    ClaimType,
    MembershipClaim,
    NoteActivityType,
    RecordType,
    Stay,
    StayException,
    StayStatus,
)
from loyalty.models import Activity, EarningRule, EarningRuleSet, LedgerEntry, Location, Program
from tests.factories import LocationFactory, MemberFactory, MembershipFactory, ProgramFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LISTS = importlib.import_module("claims.migrations.0002_lists_of_values_and_schedule")
LONG_NOTE = (
    "Called the Paris Opéra front office about reservation PAR123456: the night manager confirms the member "
    "stayed two nights and that the folio shows no membership card at check-in. They will send the corrected "
    "stay with tonight's feed; check again on Monday."
)


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def dialog_open(page):
    """The shared dialog is shown and its opening animation has ended (no half-faded screenshots)."""
    expect(page.locator("#app-modal")).to_be_visible()
    page.wait_for_function(
        "() => { const d = document.querySelector('#app-modal.show .modal-dialog');"
        " return d && getComputedStyle(d).transform === 'none'"
        " && getComputedStyle(document.querySelector('.modal-backdrop')).opacity === '0.5'; }"
    )


# Data: the ORM and the services directly (the lists of values are re-made: browser tests flush the database).


def lists_of_values():
    for model, values in ((ClaimType, LISTS.CLAIM_TYPES), (ClaimOrigin, LISTS.ORIGINS),
                          (NoteActivityType, LISTS.ACTIVITY_TYPES)):  # fmt: skip
        for code, label in values:
            model.objects.get_or_create(code=code, defaults={"label": label})


def hotel_program():
    lists_of_values()
    program = ProgramFactory(code="maison", name="Maison Rewards", kind=Program.Kind.HOTEL, time_zone="UTC")
    ClaimSettings.objects.get_or_create(program=program)
    hotel = LocationFactory(program=program, code="PAR-OPERA", name="Maison Paris Opéra", kind=Location.Kind.HOTEL)
    return program, hotel


def membership_of(program, first_name, last_name, number):
    member = MemberFactory(first_name=first_name, last_name=last_name)
    return MembershipFactory(member=member, program=program, membership_number=number)


def stay_claim(membership, by, hotel, *, reservation, days_ago=20, **values):
    departure = timezone.localdate() - dt.timedelta(days=days_ago)
    return services.open_claim(
        membership=membership, by=by,
        values={
            "caller_name": membership.member.full_name, "claim_type": ClaimType.objects.get(code="STAY"),
            "origin": ClaimOrigin.objects.get(code="PHONE"), "record_type": RecordType.STAY, "hotel": hotel,
            "property_reservation_number": reservation, "central_reservation_number": f"MR{reservation[-6:]}",
            "arrival_date": departure - dt.timedelta(days=2), "departure_date": departure,
            "caller_information": "Member says the stay is missing from the statement.", **values,
        },
    )  # fmt: skip


def goodwill_code(program):
    return AdjustmentCode.objects.create(
        program=program, code="GOODWILL", description="Goodwill gesture", lower_points=-1000, upper_points=5000,
        upper_stays=2, upper_nights=10, upper_revenue=Decimal(2000),
    )  # fmt: skip


def stays_earn_100(program):
    rules = EarningRuleSet.objects.create(program=program, name="Stays", valid_from=dt.date(2020, 1, 1))
    EarningRule.objects.create(rule_set=rules, name="Stay 100", calculation=EarningRule.Calculation.FIXED, points=100)


# 1. Search


@pytest.mark.browser
def test_csr_searches_claims_by_name_then_by_status_and_clears(csr, login, live_server):
    program, hotel = hotel_program()
    maelle = membership_of(program, "Maëlle", "Dupont-Durand", "MR0000001")
    other = membership_of(program, "Zoë", "Lefèvre-Martin", "MR0000002")
    stay_claim(maelle, csr, hotel, reservation="PAR100001")
    closed = stay_claim(maelle, csr, hotel, reservation="PAR100002", days_ago=40)
    services.update_claim(claim=closed, by=csr, values={}, status=ClaimStatus.CLOSED, note="Credited by the feed.")
    stay_claim(other, csr, hotel, reservation="PAR100003")

    page = login(csr)
    page.goto(f"{live_server.url}/claims/")
    expect(page.locator("#no-search")).to_be_visible()
    expect(page.locator("#advanced-criteria")).not_to_be_visible()
    page.fill("#id_name", "maelle dupont")
    page.click("#search-button")
    rows = page.locator("#claims-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#claims-table")).to_contain_text("Maëlle Dupont-Durand")
    expect(page.locator("#claims-table")).not_to_contain_text("Lefèvre-Martin")

    page.click("#advanced-toggle")
    expect(page.locator("#advanced-criteria")).to_be_visible()
    page.select_option("#id_status", label="CLOSED")
    page.click("#search-button")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PAR100002")
    expect(rows.first).to_contain_text("CLOSED")
    assert "status=closed" in page.url  # the search is in the address: it can be shared and reloaded
    shot(page, "claims-search.png")

    page.click("#clear-button")
    expect(page.locator("#no-search")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("")
    expect(page.locator("#id_status")).to_have_value("")


# 2. The claim screen and its notes


@pytest.mark.browser
def test_csr_adds_a_note_views_it_closes_and_reopens_the_claim(csr, login, live_server):
    program, hotel = hotel_program()
    membership = membership_of(program, "Maëlle", "Dupont-Durand", "MR0000001")
    claim = stay_claim(membership, csr, hotel, reservation="PAR123456")

    page = login(csr)
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    expect(page.locator("#claim-heading")).to_have_text(f"Membership claim {claim.pk}")
    expect(page.locator("#note-1")).to_contain_text("Claim opened")

    # New note (htmx): the chronology is redrawn in place, the note numbered 2.
    page.select_option("#note-form select[name=activity_type]", label="Call Property for Verification")
    page.fill("#note-form textarea[name=text]", LONG_NOTE)
    page.click("#add-note")
    expect(page.locator("#note-2")).to_contain_text("Call Property for Verification")
    expect(page.locator("#note-2")).to_contain_text("Casey")
    expect(page.locator("#notes-table tbody tr")).to_have_count(2)
    expect(page.locator("#note-form textarea[name=text]")).to_have_value("")  # ready for the next note
    assert page.url.endswith(f"/claims/{claim.pk}/")

    # View: the whole note in the dialog.
    page.locator("#note-2").get_by_role("link", name="View").click()
    dialog_open(page)
    expect(page.locator("#note-title")).to_have_text(f"Claim {claim.pk} · note 2")
    expect(page.locator("#note-body")).to_contain_text(LONG_NOTE)
    expect(page.locator("#note-body")).to_contain_text("Call Property for Verification")
    shot(page, "claims-note-view.png")
    page.locator("#app-modal .btn-close").click()
    expect(page.locator("#app-modal")).not_to_be_visible()

    # Close the claim: dated today, and the chronology says so.
    page.select_option("#id_status", label="CLOSED")
    page.click("#save-button")
    expect(page.locator("#claim-status")).to_have_text("CLOSED")
    today = timezone.localdate().isoformat()
    expect(page.locator("#claim-facts")).to_contain_text(f"Close date{today}")
    expect(page.locator("#note-3")).to_contain_text("Claim closed")
    shot(page, "claims-claim-screen.png")

    # Reopening needs a note: without one it is refused, with one it is done.
    page.select_option("#id_status", label="OPEN")
    page.click("#save-button")
    expect(page.locator("#error-note")).to_contain_text("Say why the claim is reopened")
    page.select_option("#id_status", label="OPEN")
    page.fill("#id_note", "Member sent the folio: the second night is missing.")
    page.click("#save-button")
    expect(page.locator("#claim-status")).to_have_text("OPEN")
    expect(page.locator("#note-4")).to_contain_text("Claim reopened")
    expect(page.locator("#note-4")).to_contain_text("the second night is missing")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.OPEN and claim.closed_on is None
    assert list(claim.notes.values_list("sequence", flat=True)) == [1, 2, 3, 4]


# 3. A limited adjustment from entry to approval


@pytest.mark.browser
def test_limited_adjustment_entered_by_a_csr_and_approved_by_a_supervisor(csr, supervisor, login, live_server):
    program, hotel = hotel_program()
    goodwill_code(program)
    membership = membership_of(program, "Maëlle", "Dupont-Durand", "MR0000001")

    page = login(csr)
    page.goto(f"{live_server.url}/claims/new/?membership={membership.membership_number}")
    expect(page.locator("#claim-heading")).to_have_text("New membership claim")
    expect(page.locator("#limited-adjustment")).to_be_hidden()
    page.fill("#id_caller_name", "Maëlle Dupont-Durand")
    page.select_option("#id_claim_type", label="Service recovery")
    page.select_option("#id_origin", label="Phone call")
    page.select_option("#id_record_type", label="LIMITED ADJUSTMENT")
    expect(page.locator("#limited-adjustment")).to_be_visible()
    page.select_option("#id_adjustment_code", label="GOODWILL · Goodwill gesture")
    expect(page.locator("#code-thresholds")).to_contain_text("Award points -1,000 to 5,000")
    page.fill("#id_bonus_points", "9000")
    page.fill("#id_caller_information", "Room not ready at check-in; the manager promised 1,500 points.")
    page.click("#save-button")
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#error-bonus_points")).to_contain_text("between -1,000 and 5,000")
    expect(page.locator("#limited-adjustment")).to_be_visible()  # still open, with what was typed
    expect(page.locator("#id_bonus_points")).to_have_value("9000")
    expect(page.locator("#code-thresholds")).to_contain_text("Thresholds of GOODWILL")  # the range, still in view
    assert not MembershipClaim.objects.exists()
    shot(page, "claims-adjustment-error.png")

    page.fill("#id_bonus_points", "1500")
    page.click("#save-button")
    expect(page.locator("#claim-heading")).to_have_text(re.compile(r"^Membership claim \d+$"))
    claim = MembershipClaim.objects.get()
    assert (claim.record_type, claim.total_points, claim.submitted_by) == (RecordType.LIMITED_ADJUSTMENT, 1500, csr)
    assert claim.activity is None  # nothing posts before approval

    # The supervisor approves: the points post once, and the claim says where.
    page.context.clear_cookies()
    page = login(supervisor)
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    expect(page.locator("#posted-activity")).to_have_count(0)
    page.select_option("#id_decision", label="Approve")
    page.click("#save-button")
    expect(page.locator("#claim-decision")).to_have_text("Approved")
    expect(page.locator("#posted-activity")).to_contain_text("1500 points on")
    expect(page.locator("#posted-activity")).to_contain_text("supervisor")
    expect(page.locator("#id_decision")).to_be_disabled()
    shot(page, "claims-adjustment-approved.png")

    adjustments = Activity.objects.filter(membership=membership, kind=Activity.Kind.ADJUSTMENT)
    assert adjustments.count() == 1
    assert adjustments.get().external_reference == f"claim:{claim.pk}"
    assert sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership)) == 1500
    # Saving again posts nothing more.
    page.click("#save-button")
    expect(page.locator("#claim-decision")).to_have_text("Approved")
    assert adjustments.count() == 1


# 4. All Trx


@pytest.mark.browser
def test_csr_attaches_a_card_to_a_stay_and_estimates_its_points(csr, login, live_server):
    program, hotel = hotel_program()
    stays_earn_100(program)
    membership = membership_of(program, "Maëlle", "Dupont-Durand", "MR0000001")
    claim = stay_claim(membership, csr, hotel, reservation="PAR123456")
    departure = timezone.localdate() - dt.timedelta(days=2)
    stay = Stay.objects.create(
        program=program, hotel=hotel, property_reservation_number="PAR123456", central_reservation_number="MR123456",
        guest_name="Maëlle Dupont-Durand", guest=membership.member, arrival_date=departure - dt.timedelta(days=2),
        departure_date=departure, status=StayStatus.CHECKED_OUT, room_revenue=Decimal("420.00"), currency="EUR",
        exception=StayException.NO_CARD, imported_at=timezone.now(),
    )  # fmt: skip

    page = login(csr)
    page.goto(f"{live_server.url}/claims/{claim.pk}/")
    page.click("#all-trx")
    row = page.locator(f"#stay-{stay.pk}")
    expect(row).to_have_class(re.compile(r"\btrx-pending\b"))  # green: not calculated
    expect(row).to_contain_text("Stay without a membership card")
    expect(row.get_by_role("link", name="Est. Points")).to_have_count(0)  # no card, nothing to estimate

    row.get_by_role("link", name="Options").click()
    dialog_open(page)
    page.fill("#attach-card-form input[name=membership_number]", membership.membership_number)
    page.click("#attach-card")
    expect(page.locator(".alert-success")).to_contain_text(f"Card {membership.membership_number} attached")
    row = page.locator(f"#stay-{stay.pk}")
    expect(row).to_contain_text(membership.membership_number)
    expect(row).to_have_class(re.compile(r"\btrx-pending\b"))  # calculated on schedule, not now
    expect(row).not_to_contain_text("Stay without a membership card")
    stay.refresh_from_db()
    assert (stay.membership, stay.card_attached_by, stay.exception) == (membership, csr, "")

    row.get_by_role("link", name="Est. Points").click()
    dialog_open(page)
    expect(page.locator("#estimate-today")).to_contain_text("100")
    expect(page.locator("#estimate-posting")).to_contain_text("100")
    expect(page.locator("#estimate-posting")).to_contain_text(departure.isoformat())
    # The actions column stays at the grid's right edge: reaching it scrolled nothing sideways.
    assert page.locator("#trx-table").evaluate("t => t.parentElement.scrollLeft") == 0
    shot(page, "claims-transactions.png")


# 5. Who may not open the claims screens


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_users_without_a_claims_permission_are_refused(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    for url in ("/claims/", "/claims/new/", "/claims/adjustment-files/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/claims/?name=dupont")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/claims/")
