"""Browser: CSR submit from the member profile, supervisor filters the activity, a member uses the portal."""

from pathlib import Path

import pytest

from retro import services
from retro.models import RetroClaim
from tests.factories import MemberFactory, MembershipFactory
from tests.retro.factories import RetroClaimFactory, RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def fill_claim_form(page, values):
    for name, value in values.items():
        page.fill(f"input[name={name}]", value)


def test_csr_submits_a_retro_claim_from_the_members_retro_claims_tab(csr, login, live_server):
    program = retro_program()
    member = MemberFactory(member_number="M00077777", first_name="Zoë", last_name="Lefèvre-Martin")
    MembershipFactory(member=member, program=program, membership_number="S0077777")
    txn = RetroTransactionFactory(program=program, reference="R-2024-0042")

    page = login(csr)
    page.goto(f"{live_server.url}{member.get_absolute_url()}")
    page.get_by_role("tab", name="Retro claims").click()
    page.wait_for_selector("#retro-claim-form")
    fill_claim_form(page, key_values_of(txn))
    page.get_by_role("button", name="Submit retro claim").click()
    page.wait_for_selector("#retro-claim-outcome")
    assert "Matched: 420 Points earned" in page.locator("#retro-claim-outcome").inner_text()
    assert page.locator("#retro-claims-table tbody tr").count() == 1
    assert "Matched" in page.locator("#retro-claims-table").inner_text()
    # Still on the profile: the tab was updated in place.
    assert page.url.startswith(f"{live_server.url}{member.get_absolute_url()}")
    assert RetroClaim.objects.get().status == "matched"
    # The header's balance follows the credit without a reload.
    page.wait_for_function("document.querySelector('#profile-balance').innerText.startsWith('420 ')")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "member-retro-claims.png"), full_page=True)


def test_csr_sees_a_field_error_inline(csr, login, live_server):
    program = retro_program()
    membership = member_in(program)
    txn = RetroTransactionFactory(program=program)
    page = login(csr)
    page.goto(f"{live_server.url}/retro/members/{membership.member.member_number}/claims/")
    fill_claim_form(page, {**key_values_of(txn), "amount": "12.345"})
    page.get_by_role("button", name="Submit retro claim").click()
    page.wait_for_selector(".field-error[data-field=amount]")
    assert not RetroClaim.objects.exists()


def test_supervisor_filters_the_retro_claim_activity(supervisor, login, live_server):
    program = retro_program()
    txn = RetroTransactionFactory(program=program)
    matched = services.submit_retro_claim(
        membership=member_in(program, first_name="Maëlle", last_name="Dupont"),
        channel=RetroClaim.Channel.PORTAL,
        submitted_by=None,
        key_values=key_values_of(txn),
    )
    RetroClaimFactory.create_batch(3, membership=member_in(program))
    RetroClaimFactory(membership=member_in(program), status="transaction_failed", failure_reason="No rule set")

    page = login(supervisor)
    page.get_by_role("link", name="Retro claim activity").first.click()
    page.wait_for_selector("#retro-claim-grid")
    assert page.locator("#retro-claim-grid tbody tr").count() == 5
    page.select_option("select[name=status]", "matched")
    page.wait_for_function("document.querySelectorAll('#retro-claim-grid tbody tr').length === 1")
    assert matched.number in page.locator("#retro-claim-grid").inner_text()
    assert "status=matched" in page.url  # the filter is in the address, so it can be shared
    page.select_option("select[name=status]", "")
    page.wait_for_function("document.querySelectorAll('#retro-claim-grid tbody tr').length === 5")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-activity.png"), full_page=True)
    # Sort by claim number, then filter: the sort is kept.
    page.click("#retro-claim-grid a[data-sort=number]")
    page.wait_for_url("**sort=number**")
    page.select_option("select[name=status]", "outstanding")
    page.wait_for_function("document.querySelectorAll('#retro-claim-grid tbody tr').length === 3")
    assert "sort=number" in page.url and "status=outstanding" in page.url
    numbers = page.locator("#retro-claim-grid tbody tr td:first-child").all_inner_texts()
    assert numbers == sorted(numbers)
    page.get_by_role("link", name=numbers[0]).click()
    page.wait_for_selector("#claim-history")
    assert "Retro claim " + numbers[0] in page.locator("h1").inner_text()


def test_member_submits_a_claim_in_the_portal(member_user, login, live_server):
    program = retro_program("shop")
    txn = RetroTransactionFactory(program=program)
    page = login(member_user)
    page.get_by_role("link", name="My retro claims").first.click()
    page.wait_for_selector("#portal-claim-form")
    fill_claim_form(page, key_values_of(txn))
    page.get_by_role("button", name="Submit claim").click()
    page.wait_for_selector(".alert-success")
    assert "Matched: 420 Points earned" in page.locator(".alert-success").inner_text()
    claim = RetroClaim.objects.get()
    assert claim.channel == RetroClaim.Channel.PORTAL
    page.get_by_role("link", name="My retro claims").first.click()
    assert claim.number in page.locator("#retro-claims-table").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "portal-retro-claims.png"), full_page=True)
