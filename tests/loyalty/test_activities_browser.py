"""Browser: a CSR opens a member's Activities tab and reads why an activity earned what it did."""

import pytest

from loyalty import services
from tests.factories import MemberFactory, MembershipFactory
from tests.loyalty._builders import PROCESSED, D, seed_003_sets, shop, tiers

pytestmark = pytest.mark.browser


def test_csr_reads_the_explanation_of_a_retro_posting(csr, login, live_server, monkeypatch):
    program = shop()
    seed_003_sets(program)
    member = MemberFactory(member_number="M00054321", first_name="Zoë", last_name="Lefèvre-Martin")
    membership = MembershipFactory(member=member, program=program, membership_number="S0054321")
    services.change_tier(membership=membership, tier=tiers(program)["silver"], effective_on=D(2023, 1, 1))
    monkeypatch.setattr("django.utils.timezone.now", lambda: PROCESSED)
    services.post_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), source="retro", external_reference="T-1"
    )
    monkeypatch.undo()  # the live server and the login run in real time

    page = login(csr)
    page.goto(f"{live_server.url}/members/M00054321/")
    page.get_by_role("tab", name="Activities", exact=True).click()
    row = page.locator("#activities-table tbody tr").first
    row.wait_for()
    assert "2023-05-20" in row.inner_text() and "2023-08-17" in row.inner_text()

    row.locator("summary", has_text="Explanation").click()
    explanation = row.locator("details.explanation")
    assert "Set 2 (H1 2023)" in explanation.inner_text()
    assert "Silver on 2023-05-20" in explanation.inner_text()
    assert "Allocate 98: fixed 98 points → 98 base" in explanation.inner_text()
