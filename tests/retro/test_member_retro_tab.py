"""The member profile's Retro claims tab: key-driven submit form, outcomes, the member's claims, access."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from retro.models import RetroClaim, RetroSettings
from retro.services import reverse_retro_claim
from tests.factories import LocationFactory, MembershipFactory, ProgramFactory, UserFactory
from tests.retro.factories import (
    RetroClaimFactory,
    RetroClaimKeyFactory,
    RetroTransactionFactory,
    key_values_of,
    member_in,
    retro_program,
)

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def program():
    return retro_program()


@pytest.fixture
def membership(program):
    return member_in(program, first_name="Zoë", last_name="Lefèvre")


def tab_url(membership):
    return reverse("member-retro-claims", args=[membership.member.member_number])


def submit(client, membership, values, **extra):
    data = {"membership": membership.membership_number, "transaction_type": "purchase", **values}
    return client.post(tab_url(membership), data, headers=HX, **extra)


def test_the_form_asks_for_the_key_fields_in_the_key_order(client, csr, membership):
    client.force_login(csr)
    response = client.get(tab_url(membership))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'name="{name}"') for name in ("location_code", "transaction_date", "reference", "amount")]
    assert positions == sorted(positions)
    assert 'type="date"' in html
    assert "<html" in html  # opened directly: the full page


def test_an_htmx_request_gets_only_the_tab(client, csr, membership):
    client.force_login(csr)
    response = client.get(tab_url(membership), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="retro-claims-tab"' in html


def test_a_matching_claim_shows_the_points_earned(client, csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    client.force_login(csr)
    response = submit(client, membership, key_values_of(txn))
    html = response.content.decode()
    assert "Matched: 420 Points earned" in html
    claim = RetroClaim.objects.get(membership=membership)
    assert claim.status == "matched"
    assert claim.channel == RetroClaim.Channel.CSR
    assert claim.submitted_by == csr
    assert claim.number in html  # and it is in the list below


def test_no_matching_transaction_leaves_the_claim_outstanding(client, csr, program, membership):
    txn = RetroTransactionFactory.build(program=program)  # never imported
    client.force_login(csr)
    html = submit(client, membership, key_values_of(txn)).content.decode()
    assert "Outstanding" in html
    assert RetroClaim.objects.get(membership=membership).status == "outstanding"


def test_a_transaction_claimed_before_is_already_claimed(client, csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    other = member_in(program)
    client.force_login(csr)
    submit(client, other, key_values_of(txn))
    html = submit(client, membership, key_values_of(txn)).content.decode()
    assert "Already Claimed" in html


def test_a_posting_failure_shows_its_reason(client, csr, membership):
    program = ProgramFactory(code="norules", name="No Rules")
    RetroClaimKeyFactory(program=program)
    RetroSettings.objects.create(program=program)
    txn = RetroTransactionFactory(program=program)
    failing = MembershipFactory(program=program, member=membership.member)
    client.force_login(csr)
    html = submit(client, failing, key_values_of(txn)).content.decode()
    assert "Transaction Failed:" in html
    claim = RetroClaim.objects.get(membership=failing)
    assert claim.failure_reason and claim.failure_reason in html


def test_bad_input_is_shown_on_the_field(client, csr, membership):
    client.force_login(csr)
    response = submit(
        client,
        membership,
        {"location_code": "PAR01", "transaction_date": "2024-01-01", "reference": "R1", "amount": "twelve"},
    )
    assert response.status_code == 200
    assert 'data-field="amount"' in response.content.decode()
    assert not RetroClaim.objects.exists()


def test_a_settings_refusal_is_explained(client, csr, program, membership):
    RetroSettings.objects.filter(program=program).update(retro_enabled=False)
    txn = RetroTransactionFactory(program=program)
    client.force_login(csr)
    html = submit(client, membership, key_values_of(txn)).content.decode()
    assert "not enabled" in html
    assert not RetroClaim.objects.exists()


def test_without_a_key_definition_the_tab_says_so(client, csr):
    program = ProgramFactory(code="nokey", name="No Key")
    membership = MembershipFactory(program=program)
    client.force_login(csr)
    html = client.get(tab_url(membership)).content.decode()
    assert 'id="no-retro-key"' in html
    assert 'id="retro-claim-form"' not in html


def test_without_htmx_a_submission_redirects_with_the_outcome(client, csr, program, membership):
    txn = RetroTransactionFactory(program=program)
    client.force_login(csr)
    data = {"membership": membership.membership_number, **key_values_of(txn)}
    response = client.post(tab_url(membership), data, follow=True)
    assert response.redirect_chain
    assert "Matched: 420 Points earned" in response.content.decode()


def test_the_list_shows_status_reason_and_pages(client, csr, membership):
    RetroClaimFactory(membership=membership, status="transaction_failed", failure_reason="No rule set in force")
    RetroClaimFactory.create_batch(24, membership=membership)
    client.force_login(csr)
    html = client.get(tab_url(membership), headers=HX).content.decode()
    assert "Page 1 of 2" in html
    second = client.get(tab_url(membership) + f"?membership={membership.membership_number}&page=2", headers=HX)
    assert "No rule set in force" in second.content.decode()
    assert 'data-status="transaction_failed"' in second.content.decode()


def test_a_member_with_two_programs_chooses_one(client, csr, membership):
    other_program = retro_program("travel")
    second = MembershipFactory(program=other_program, member=membership.member)
    RetroClaimFactory(membership=second, number="RC-TRAVEL-1")
    RetroClaimFactory(membership=membership, number="RC-SHOP-1")
    client.force_login(csr)
    html = client.get(tab_url(membership) + f"?membership={second.membership_number}", headers=HX).content.decode()
    assert "Travel Rewards" in html
    assert "RC-TRAVEL-1" in html and "RC-SHOP-1" not in html


def test_an_unknown_member_is_a_404(client, csr):
    client.force_login(csr)
    assert client.get(reverse("member-retro-claims", args=["NOPE"])).status_code == 404


def test_it_requires_login(client, membership):
    response = client.get(tab_url(membership))
    assert response.status_code == 302
    assert response.url.startswith("/login/")


@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_it_is_refused_to_users_without_the_permission(client, request, persona, membership):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(tab_url(membership)).status_code == 403
    assert submit(client, membership, {}).status_code == 403


def test_viewing_without_the_add_permission_shows_no_form_and_refuses_posts(client, program, membership):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_retroclaim"))
    txn = RetroTransactionFactory(program=program)
    client.force_login(viewer)
    assert 'id="retro-claim-form"' not in client.get(tab_url(membership)).content.decode()
    assert submit(client, membership, key_values_of(txn)).status_code == 403
    assert not RetroClaim.objects.exists()


def test_a_key_without_a_date_still_asks_for_the_date_and_names_attributes(client, csr):
    program = retro_program("till", parts=("location_code", "reference", "attr_till_number"))
    membership = member_in(program)
    txn = RetroTransactionFactory(program=program, attributes={"till_number": "7"})
    client.force_login(csr)
    html = client.get(tab_url(membership)).content.decode()
    assert 'name="attr_till_number"' in html and "Till number" in html
    assert 'name="transaction_date"' in html
    values = {
        "location_code": txn.location_code,
        "reference": txn.reference,
        "attr_till_number": "7",
        "transaction_date": txn.occurred_on.isoformat(),
    }
    assert "Matched: 420" in submit(client, membership, values).content.decode()


def test_reprocessing_off_and_no_match_is_not_matched_at_once(client, csr, program, membership):
    RetroSettings.objects.filter(program=program).update(reprocessing_enabled=False)
    txn = RetroTransactionFactory.build(program=program)
    client.force_login(csr)
    html = submit(client, membership, key_values_of(txn)).content.decode()
    assert "Not Matched:" in html


# --- Issue 9 --------------------------------------------------------------------------------------


def test_a_reversed_claim_shows_its_points_struck_through(client, csr, supervisor, program, membership):
    txn = RetroTransactionFactory(program=program)
    client.force_login(csr)
    submit(client, membership, key_values_of(txn))
    claim = RetroClaim.objects.get(membership=membership)
    reverse_retro_claim(claim=claim, by=supervisor, reason="Refunded at the till")
    html = client.get(tab_url(membership), headers=HX).content.decode()
    row = html[html.index(claim.number) :]
    assert '<s class="text-muted" title="Earned, then taken back">420</s> 0' in row
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert f'Reversed on <span class="text-nowrap">{today}</span> by {supervisor.first_name}' in row


def test_a_reason_is_shown_whole_with_room_to_read_it(client, csr, membership):
    reason = "“n/a” is not a number. " + "The feed sent no distance for this flight, so it cannot be valued. " * 2
    RetroClaimFactory(membership=membership, status="transaction_failed", failure_reason=reason.strip())
    client.force_login(csr)
    html = client.get(tab_url(membership), headers=HX).content.decode()
    assert f'<td class="text-wrap claim-reason"><div style="min-width: 16rem">{reason.strip()}</div></td>' in html


def test_the_tab_offers_the_pool_search_and_a_form_it_fills_in(client, csr, program, membership):
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    client.force_login(csr)
    html = client.get(tab_url(membership), headers=HX).content.decode()
    pool = reverse("member-retro-pool", args=[membership.member.member_number])
    assert f'href="{pool}?membership={membership.membership_number}"' in html
    # The location is chosen from the program's locations, not typed.
    assert '<select name="location_code"' in html and '<option value="PAR01">PAR01 · Paris Opéra</option>' in html
    values = {"location_code": "PAR01", "transaction_date": "2025-05-20", "reference": "R-77", "amount": "12.50"}
    query = {"membership": membership.membership_number, "from_transaction": "POS-000042", **values}
    html = client.get(tab_url(membership), query, headers=HX).content.decode()
    assert 'id="prefilled-from"' in html and "POS-000042" in html
    assert '<option value="PAR01" selected>' in html
    assert 'value="2025-05-20"' in html and 'value="R-77"' in html and 'value="12.50"' in html


def test_a_prefilled_location_the_program_does_not_list_stays_selectable(client, csr, program, membership):
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    client.force_login(csr)
    query = {"membership": membership.membership_number, "location_code": "OLD9"}
    html = client.get(tab_url(membership), query, headers=HX).content.decode()
    assert '<option value="OLD9" selected>OLD9 (not in the program&#x27;s locations)</option>' in html


def test_a_submission_refreshes_the_profile_headers_badges(client, csr, program, membership):
    client.force_login(csr)
    profile = client.get(reverse("member-profile", args=[membership.member.member_number])).content.decode()
    # The badges (the waiting retro claims) listen for the event the tab sends after a submission.
    start = profile.index('id="profile-indicators"')
    wrapper = profile[start : profile.index(">", start)]
    assert 'hx-trigger="loyalty:balance-changed from:body"' in wrapper and 'hx-select="#profile-indicators"' in wrapper
    txn = RetroTransactionFactory.build(program=program)  # no match: the claim waits
    response = submit(client, membership, key_values_of(txn))
    assert response["HX-Trigger"] == "loyalty:balance-changed"
    profile = client.get(reverse("member-profile", args=[membership.member.member_number])).content.decode()
    indicators = profile[profile.index('id="profile-indicators"') :]
    assert ">1 retro waiting<" in indicators[: indicators.index("</span>") + 200]
