"""The member portal: a member submits retro claims and sees only their own; everyone else is kept out."""

import pytest
from django.urls import reverse
from django.utils import timezone

from retro.models import RetroClaim, RetroSettings
from retro.services import reject_retro_claim, reverse_retro_claim, submit_retro_claim, withdraw_retro_claim
from tests.factories import MembershipFactory, ProgramFactory
from tests.retro.factories import (
    RetroClaimFactory,
    RetroClaimKeyFactory,
    RetroTransactionFactory,
    key_values_of,
    member_in,
    retro_program,
)

pytestmark = pytest.mark.django_db
PORTAL = "/portal/"


@pytest.fixture
def program():
    # The member_user persona's membership is in the factories' default "shop" program.
    return retro_program("shop")


@pytest.fixture
def own_membership(member_user, program):
    return member_user.member.memberships.get()


def test_a_member_sees_the_form_and_only_their_own_claims(client, member_user, own_membership, program):
    mine = RetroClaimFactory(membership=own_membership)
    theirs = RetroClaimFactory(membership=member_in(program))
    client.force_login(member_user)
    response = client.get(PORTAL)
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("portal-home") == PORTAL
    assert 'id="portal-claim-form"' in html
    assert mine.number in html and theirs.number not in html


def test_a_member_submits_a_claim_through_the_portal(client, member_user, own_membership, program):
    txn = RetroTransactionFactory(program=program)
    client.force_login(member_user)
    data = {"membership": own_membership.membership_number, **key_values_of(txn)}
    response = client.post(PORTAL, data, follow=True)
    claim = RetroClaim.objects.get(membership=own_membership)
    assert claim.channel == RetroClaim.Channel.PORTAL
    assert claim.status == "matched"
    assert "Matched: 420 Points earned" in response.content.decode()
    assert response.request["PATH_INFO"] == reverse("portal-claim-detail", args=[claim.number])


def test_portal_form_errors_are_shown(client, member_user, own_membership):
    client.force_login(member_user)
    response = client.post(PORTAL, {"membership": own_membership.membership_number, "amount": "lots"})
    assert response.status_code == 200
    assert 'data-field="amount"' in response.content.decode()
    assert not RetroClaim.objects.exists()


def test_a_member_opens_their_own_claim(client, member_user, own_membership):
    claim = RetroClaimFactory(membership=own_membership, status="transaction_failed", failure_reason="No rules")
    client.force_login(member_user)
    response = client.get(reverse("portal-claim-detail", args=[claim.number]))
    assert response.status_code == 200
    assert "No rules" in response.content.decode()


def test_another_members_claim_is_not_found(client, member_user, own_membership, program):
    theirs = RetroClaimFactory(membership=member_in(program))
    client.force_login(member_user)
    assert client.get(reverse("portal-claim-detail", args=[theirs.number])).status_code == 404


def test_without_a_key_the_portal_says_claims_cannot_be_submitted(client, member_user):
    ProgramFactory(code="shop")  # no retro key at all
    client.force_login(member_user)
    assert 'id="no-retro-key"' in client.get(PORTAL).content.decode()


def test_it_requires_login(client):
    response = client.get(PORTAL)
    assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("persona", ["csr", "supervisor", "outsider"])
def test_staff_and_outsiders_are_refused(client, request, persona, program):
    claim = RetroClaimFactory(membership=member_in(program))
    client.force_login(request.getfixturevalue(persona))
    assert client.get(PORTAL).status_code == 403
    assert client.get(reverse("portal-claim-detail", args=[claim.number])).status_code == 403


def test_an_admin_without_a_membership_gets_an_explanation(client, admin_user):
    client.force_login(admin_user)
    response = client.get(PORTAL)
    assert response.status_code == 403
    assert 'id="no-member-explanation"' in response.content.decode()


def test_the_staff_activity_screen_is_refused_to_members(client, member_user, own_membership):
    RetroClaimKeyFactory(program=own_membership.program)
    client.force_login(member_user)
    assert client.get(reverse("retro-claim-activity")).status_code == 403


# --- Issue 9 --------------------------------------------------------------------------------------


def decided(own_membership, program, supervisor, decision, **kwargs):
    """A claim of the member's, matched (or pending approval) and then decided by the supervisor."""
    if decision == "reject":
        RetroSettings.objects.filter(program=program).update(approval_required=True)
    txn = RetroTransactionFactory(program=program)
    values = key_values_of(txn)
    claim = submit_retro_claim(membership=own_membership, channel="portal", submitted_by=None, key_values=values)
    decide = reject_retro_claim if decision == "reject" else reverse_retro_claim
    return decide(claim=claim, by=supervisor, **kwargs)


def test_the_claim_list_names_each_claims_program(client, member_user, own_membership, program):
    travel = retro_program("travel")
    other = MembershipFactory(member=own_membership.member, program=travel)
    RetroClaimFactory(membership=own_membership)
    RetroClaimFactory(membership=other)
    client.force_login(member_user)
    html = client.get(PORTAL).content.decode()
    assert "<th>Program</th>" in html
    assert '<td class="claim-program text-wrap">Shop Rewards</td>' in html
    assert '<td class="claim-program text-wrap">Travel Rewards</td>' in html


def test_a_reversal_shows_the_points_taken_back_and_only_the_message_for_the_member(
    client, member_user, own_membership, program, supervisor
):
    claim = decided(
        own_membership, program, supervisor, "reverse", reason="Fraud check: same receipt twice",
        member_message="The purchase was refunded, so its points were taken back.",
    )  # fmt: skip
    client.force_login(member_user)
    for url in [PORTAL, reverse("portal-claim-detail", args=[claim.number])]:
        html = client.get(url).content.decode()
        assert '<s class="text-muted" title="Earned, then taken back">420</s> 0' in html, url
        assert f'Reversed on <span class="text-nowrap">{timezone.localdate():%Y-%m-%d}</span></span>' in html
        assert "The purchase was refunded, so its points were taken back." in html
        assert "Fraud check" not in html and f"by {supervisor.first_name}" not in html  # internal


def test_a_rejection_shows_the_message_for_the_member_never_the_reason(
    client, member_user, own_membership, program, supervisor
):
    silent = decided(own_membership, program, supervisor, "reject", reason="Looks like staff abuse")
    told = decided(
        own_membership, program, supervisor, "reject", reason="Store closed that day",
        member_message="We could not find this purchase. Please check the receipt.",
    )  # fmt: skip
    client.force_login(member_user)
    home = client.get(PORTAL).content.decode()
    assert "We could not find this purchase." in home
    assert "staff abuse" not in home and "Store closed" not in home
    html = client.get(reverse("portal-claim-detail", args=[told.number])).content.decode()
    assert 'data-status="rejected">Rejected<' in html and "We could not find this purchase." in html
    assert "Store closed" not in html
    assert "staff abuse" not in client.get(reverse("portal-claim-detail", args=[silent.number])).content.decode()


def test_a_withdrawal_reason_stays_internal(client, member_user, own_membership, program, csr):
    claim = RetroClaimFactory(membership=own_membership, status="outstanding")
    withdraw_retro_claim(claim=claim, by=csr, reason="CSR typo, duplicate of another claim")
    client.force_login(member_user)
    assert "CSR typo" not in client.get(PORTAL).content.decode()
    html = client.get(reverse("portal-claim-detail", args=[claim.number])).content.decode()
    assert 'data-status="withdrawn">Withdrawn<' in html and "CSR typo" not in html
