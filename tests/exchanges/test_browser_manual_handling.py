"""Browser: a supervisor works the manual-handling queue (seed 004): takes the oldest case, notes it, resolves it."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exchanges import services
from exchanges.models import ManualHandlingCase
from tests.exchanges.conftest import booking

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BASE = "/api/exchanges"


@pytest.mark.browser
def test_a_supervisor_takes_notes_and_resolves_the_oldest_case(supervisor, login, live_server, calls, payer, partner):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    oldest = services.report_failure(
        partner=partner,
        redemption_id=redemption["id"],
        step="emd_reassociation",
        detail="EMD 0571234567890 not reassociated",
    )
    newer = services.report_failure(partner=partner, redemption_id=redemption["id"], step="ticketing")
    services.report_failure(partner=partner, redemption_id=redemption["id"], step="seats_4g")
    ManualHandlingCase.objects.filter(pk=oldest.pk).update(opened_at=timezone.now() - dt.timedelta(days=1, hours=5))
    ManualHandlingCase.objects.filter(pk=newer.pk).update(opened_at=timezone.now() - dt.timedelta(minutes=25))

    page = login(supervisor)
    page.goto(f"{live_server.url}/exchanges/manual-handling/")
    expect(page.locator("#oldest-open")).to_contain_text(f"Case {oldest.pk}")
    expect(page.locator("#oldest-open")).to_contain_text("1 d 5 h")
    expect(page.locator("#case-table tbody tr").first).to_have_id(f"case-{oldest.pk}")
    page.click(f"#take-{oldest.pk}")
    expect(page.locator("#case-status")).to_have_text("In progress")
    expect(page.locator("#case-owner")).to_contain_text("Sam")
    page.fill("#note-text", "Called the airline desk: EMD reassociated by hand.")
    page.click("#add-note")
    expect(page.locator("#case-notes")).to_contain_text("EMD reassociated by hand.")
    # The queue: the taken case in progress under its owner; the oldest case still open above the grid.
    page.goto(f"{live_server.url}/exchanges/manual-handling/")
    expect(page.locator(f"#case-{oldest.pk}")).to_contain_text("In progress")
    expect(page.locator("#oldest-open")).to_contain_text(f"Case {newer.pk}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "exchanges-manual-handling.png"), full_page=True)
    page.click(f"#case-{oldest.pk} a")
    page.fill("#close-reason", "Confirmed in the PNR history.")
    page.click("#resolve-case")
    expect(page.locator("#case-status")).to_have_text("Resolved")
    expect(page.locator("#case-actions")).to_have_count(0)
    page.goto(f"{live_server.url}/exchanges/manual-handling/")
    expect(page.locator(f"#case-{oldest.pk}")).to_have_count(0)
    oldest.refresh_from_db()
    assert oldest.status == "resolved" and oldest.notes.count() == 2


@pytest.mark.browser
def test_a_recredit_above_the_agents_limit_is_approved_by_a_checker(
    supervisor, admin_user, login, live_server, calls, payer, partner, program
):
    from django.contrib.auth.models import Group

    from exchanges.corrections import LIFECYCLE
    from loyalty import selectors
    from loyalty.models import ApprovalLimit

    ApprovalLimit.objects.create(program=program, lifecycle=LIFECYCLE, role=Group.objects.get(name="Supervisor"),
                                 max_value=5_000)  # fmt: skip
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    case = services.report_failure(partner=partner, redemption_id=redemption["id"], step="refund_points",
                                   detail="RefundPoints timed out after the old ticket was voided")  # fmt: skip
    services.take_case(case=case, by=supervisor)

    page = login(supervisor)
    page.goto(f"{live_server.url}/exchanges/manual-handling/{case.pk}/")
    page.select_option("#correction-direction", "recredit")
    page.fill("#correction-points", "10000")
    page.fill("#correction-reason", "The voided ticket's points never came back.")
    page.click("#resolve-with-points")
    expect(page.locator("#case-done")).to_contain_text("sent to a checker")
    expect(page.locator("#case-corrections")).to_contain_text("Waiting for a checker")
    expect(page.locator("#case-status")).to_have_text("In progress")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "exchanges-case-correction.png"), full_page=True)

    page.context.clear_cookies()
    page = login(admin_user)
    page.goto(f"{live_server.url}/exchanges/corrections/")
    expect(page.locator("#queue-table")).to_contain_text(f"Case {case.pk}")
    page.screenshot(path=str(SCREENSHOTS / "exchanges-corrections-queue.png"), full_page=True)
    page.click(f"#queue-table a[href='/exchanges/manual-handling/{case.pk}/']")
    page.click("#approve-correction")
    expect(page.locator("#case-status")).to_have_text("Resolved")
    expect(page.locator("#case-notes")).to_contain_text("Re-credited 10,000 points (approved by admin)")
    assert selectors.award_balance(payer) == 50_000 - 16_000 + 10_000
