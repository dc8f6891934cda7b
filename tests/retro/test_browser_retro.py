"""Browser: CSR submit from the member profile, supervisor filters the activity, a member uses the portal."""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from retro import services
from retro.models import RetroClaim, RetroSettings
from tests.factories import LocationFactory, MemberFactory, MembershipFactory
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
    expect(page.locator("#profile-balance")).to_have_text(re.compile(r"^420 "))
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
    expect(page.locator("#retro-claim-grid tbody tr")).to_have_count(1)
    assert matched.number in page.locator("#retro-claim-grid").inner_text()
    assert "status=matched" in page.url  # the filter is in the address, so it can be shared
    page.select_option("select[name=status]", "")
    expect(page.locator("#retro-claim-grid tbody tr")).to_have_count(5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-activity.png"), full_page=True)
    # Sort by claim number, then filter: the sort is kept.
    page.click("#retro-claim-grid a[data-sort=number]")
    page.wait_for_url("**sort=number**")
    page.select_option("select[name=status]", "outstanding")
    expect(page.locator("#retro-claim-grid tbody tr")).to_have_count(3)
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


# --- Issue 9 --------------------------------------------------------------------------------------


def pending_claim(program, membership=None, by=None):
    RetroSettings.objects.filter(program=program).update(approval_required=True, auto_approve_max_points=None)
    txn = RetroTransactionFactory(program=program, location_code="PAR01")
    return services.submit_retro_claim(
        membership=membership or member_in(program), channel=RetroClaim.Channel.CSR, submitted_by=by,
        key_values=key_values_of(txn),
    )  # fmt: skip


def test_supervisor_approves_and_rejects_on_the_claim_detail_page(supervisor, csr, login, live_server):
    program = retro_program()
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    approved, rejected = pending_claim(program, by=csr), pending_claim(program, by=csr)
    page = login(supervisor)
    page.goto(f"{live_server.url}/retro/approvals/")
    page.get_by_role("link", name=approved.number).click()
    page.wait_for_selector("#decision-card")
    # What is approved: the transaction and its estimated points.
    assert "Estimated 420 Points" in page.locator("#claim-estimate").inner_text()
    assert "PAR01 · Paris Opéra" in page.locator("#transaction-location").inner_text()
    assert page.get_by_role("link", name="Back to Retro approvals").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-pending.png"), full_page=True)
    page.get_by_role("button", name="Approve").click()  # no reason typed: approving needs none
    page.wait_for_selector(".alert-success")
    assert f"Claim {approved.number} approved" in page.locator(".alert-success").inner_text()
    assert RetroClaim.objects.get(pk=approved.pk).status == "matched"

    page.goto(f"{live_server.url}/retro/claims/{rejected.number}/")
    page.get_by_role("button", name="Reject").click()  # the browser asks for the reason first
    assert RetroClaim.objects.get(pk=rejected.pk).status == "pending_approval"
    page.fill("#reject_reason", "Receipt from a franchise store, not ours")
    page.fill("#reject_member_message", "This store is not part of the programme.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_selector("#claim-outcome")
    assert page.locator("h1 + .badge, .badge[data-status]").first.inner_text() == "Rejected"
    outcome = page.locator("#claim-outcome").inner_text()
    assert "Supervisor's reason (internal)" in outcome and "franchise store" in outcome
    assert "This store is not part of the programme." in outcome
    assert page.locator("#matched-transaction").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-rejected.png"), full_page=True)

    # The supervisor's own submission: why they may not decide it is said once, and the buttons are off.
    own = pending_claim(program, by=supervisor)
    page.goto(f"{live_server.url}/retro/claims/{own.number}/")
    refusal = f"You submitted claim {own.number}; another person must approve it."
    assert page.get_by_text(refusal).count() == 1 and page.locator(".alert-danger").count() == 0
    assert page.get_by_role("button", name="Approve").is_disabled()
    assert page.get_by_role("button", name="Reject").is_disabled()
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-own-submission.png"), full_page=True)


def test_a_reversal_shows_on_the_claim_and_the_member_reads_only_the_message(
    supervisor, member_user, login, live_server
):
    program = retro_program("shop")
    txn = RetroTransactionFactory(program=program)
    claim = services.submit_retro_claim(
        membership=member_user.member.memberships.get(), channel=RetroClaim.Channel.PORTAL, submitted_by=None,
        key_values=key_values_of(txn),
    )  # fmt: skip
    page = login(supervisor)
    page.goto(f"{live_server.url}/retro/claims/{claim.number}/")
    page.fill("#reverse_reason", "Refund found in the till report")
    page.fill("#reverse_member_message", "The purchase was refunded, so its points were taken back.")
    page.get_by_role("button", name="Reverse").click()
    page.wait_for_selector(".alert-success")
    points = page.locator("#claim-activity").inner_text()
    assert "420 0" in points and f"Reversed on {timezone.localdate():%Y-%m-%d} by Sam" in points
    assert page.locator("#claim-activity s").inner_text() == "420"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-reversed.png"), full_page=True)

    page.context.clear_cookies()
    page = login(member_user)
    page.goto(f"{live_server.url}/portal/")
    row = page.locator("#retro-claims-table tbody tr").first
    assert row.locator("s").inner_text() == "420"
    assert "The purchase was refunded" in row.inner_text() and "till report" not in row.inner_text()
    assert "Shop Rewards" in row.inner_text()  # the Program column
    page.screenshot(path=str(SCREENSHOTS / "portal-reversed-claim.png"), full_page=True)


def test_csr_withdraws_an_outstanding_claim(csr, login, live_server):
    program = retro_program()
    claim = RetroClaimFactory(membership=member_in(program), status="outstanding")
    page = login(csr)
    page.goto(f"{live_server.url}/retro/claims/{claim.number}/")
    page.get_by_role("button", name="Withdraw").click()  # without a reason: the browser asks for one
    assert RetroClaim.objects.get(pk=claim.pk).status == "outstanding"
    page.fill("#withdraw_reason", "Duplicate of a claim entered a minute earlier")
    page.get_by_role("button", name="Withdraw").click()
    page.wait_for_selector(".alert-success")
    assert page.locator(".badge[data-status]").first.inner_text() == "Withdrawn"
    assert "Duplicate of a claim" in page.locator("#claim-outcome").inner_text()
    assert RetroClaim.objects.get(pk=claim.pk).status == "withdrawn"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-claim-withdrawn.png"), full_page=True)


def test_csr_finds_a_transaction_in_the_pool_and_claims_it_for_the_member(csr, login, live_server):
    program = retro_program()
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    LocationFactory(program=program, code="LYO02", name="Lyon Part-Dieu")
    membership = member_in(program, first_name="Zoë", last_name="Lefèvre-Martin")
    for n in range(6):
        RetroTransactionFactory(program=program, location_code="LYO02", reference=f"L-{n:04d}")
    wanted = RetroTransactionFactory(program=program, location_code="PAR01", reference="R-2024-0042")

    page = login(csr)
    page.goto(f"{live_server.url}{membership.member.get_absolute_url()}")
    page.get_by_role("tab", name="Retro claims").click()
    page.get_by_role("link", name="Search the retro pool").click()
    page.wait_for_selector("#pool-table")
    assert page.locator("#pool-table tbody tr").count() == 7
    page.fill("input[name=reference]", "2024-0042")
    expect(page.locator("#pool-table tbody tr")).to_have_count(1)
    page.select_option("select[name=location]", "PAR01")
    page.wait_for_selector("#pool-count")
    assert "1 transaction" in page.locator("#pool-count").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-pool-search.png"), full_page=True)
    page.get_by_role("link", name="Claim for this member").click()
    page.wait_for_selector("#prefilled-from")
    # Back in the profile's tab, the form filled in from the transaction.
    assert page.url.startswith(f"{live_server.url}{membership.member.get_absolute_url()}")
    assert page.locator("select[name=location_code]").input_value() == "PAR01"
    assert page.locator("input[name=reference]").input_value() == "R-2024-0042"
    page.get_by_role("button", name="Submit retro claim").click()
    page.wait_for_selector("#retro-claim-outcome")
    assert "Matched: 420 Points earned" in page.locator("#retro-claim-outcome").inner_text()
    assert RetroClaim.objects.get().matched_transaction == wanted
    # Opened on its own (a new browser tab), the search is a page with its way back to the member.
    page.goto(f"{live_server.url}/retro/members/{membership.member.member_number}/pool/?show=all")
    assert page.get_by_role("link", name="Retro claims", exact=True).is_visible()  # the breadcrumb
    assert "Claimed" in page.locator(f"tr[data-source-id='{wanted.source_id}']").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "retro-pool-search-page.png"), full_page=True)


def test_the_header_badge_counts_a_claim_submitted_in_the_tab(csr, login, live_server):
    program = retro_program()
    membership = member_in(program)
    reason = "“n/a” is not a number."  # the distance of a garbled airline feed row, as valuation words it
    RetroClaimFactory(membership=membership, status="transaction_failed", failure_reason=reason)
    page = login(csr)
    page.goto(f"{live_server.url}{membership.member.get_absolute_url()}")
    assert page.locator("#open-retro-claims-badge").count() == 0
    page.get_by_role("tab", name="Retro claims").click()
    page.wait_for_selector("#retro-claim-form")
    never_imported = RetroTransactionFactory.build(program=program)
    fill_claim_form(page, key_values_of(never_imported))
    page.get_by_role("button", name="Submit retro claim").click()
    page.wait_for_selector("#retro-claim-outcome")
    # Without a reload: the badge follows the submission.
    page.wait_for_selector("#open-retro-claims-badge")
    assert page.locator("#open-retro-claims-badge").inner_text() == "1 retro waiting"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "member-retro-claims-badge.png"), full_page=True)
    # A reason is read whole, not squeezed into a sliver of a column (16rem at least).
    cell = page.locator(".claim-reason", has_text="is not a number")
    assert cell.inner_text() == reason and cell.bounding_box()["width"] >= 250
    # ...and the table fits the tab: nothing to scroll sideways for.
    assert page.evaluate(
        "(() => { const t = document.querySelector('#retro-claims-table');"
        " return t.scrollWidth <= t.parentElement.clientWidth; })()"
    )
