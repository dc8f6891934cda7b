"""Browser: a CSR finds a member by part of an accented name and walks the profile's tabs."""

from pathlib import Path

import pytest

from tests.factories import MemberFactory, MembershipFactory, ProgramFactory, TierFactory, TierPeriodFactory

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_csr_searches_by_accented_name_and_switches_every_tab(csr, login, live_server):
    program = ProgramFactory()
    member = MemberFactory(member_number="M00012345", first_name="Zoë", last_name="Lefèvre-Martin")
    membership = MembershipFactory(member=member, program=program, membership_number="S0012345")
    TierPeriodFactory(membership=membership, tier=TierFactory(program=program, code="gold", name="Gold", rank=3))
    MemberFactory(first_name="John", last_name="Smith")

    page = login(csr)
    page.get_by_role("link", name="Members").first.click()
    page.fill("input[name=name]", "lefev")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#member-grid")
    assert page.locator("#member-grid tbody tr").count() == 1
    page.get_by_role("link", name="Zoë").click()

    page.wait_for_selector("#tab-summary")
    assert page.locator("#profile-tier").inner_text() == "Gold"
    for label, marker in [("Activities", "#tab-activities"), ("Flights", "#tab-flights"), ("Claims", "#tab-claims")]:
        page.get_by_role("tab", name=label, exact=True).click()
        page.wait_for_selector(marker)
    page.get_by_role("tab", name="Retro claims", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("tab", name="Summary", exact=True).click()
    page.wait_for_selector("#tab-summary")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "member-profile.png"), full_page=True)
