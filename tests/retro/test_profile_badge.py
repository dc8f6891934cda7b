"""What retro plugs into the member profile: its tab, its More action and the waiting-claims badge."""

import pytest
from django.urls import reverse

from retro.services import submit_retro_claim
from tests.retro.factories import member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db


def profile(client, membership):
    return client.get(reverse("member-profile", args=[membership.member.member_number])).text


def test_the_badge_counts_the_members_waiting_retro_claims_and_links_to_them(client, csr):
    program = retro_program()
    membership = member_in(program)
    client.force_login(csr)
    assert 'id="open-retro-claims-badge"' not in profile(client, membership)
    day = recent_day().isoformat()
    values = {"location_code": "PAR01", "transaction_date": day, "reference": "NONE", "amount": "9.00"}
    for _ in range(2):
        submit_retro_claim(membership=membership, channel="csr", submitted_by=csr, key_values=values)
    html = profile(client, membership)
    assert 'id="open-retro-claims-badge"' in html and ">2 retro waiting<" in html
    # It opens this membership's Retro claims tab on the profile.
    profile_url = reverse("member-profile", args=[membership.member.member_number])
    assert f'href="{profile_url}?membership={membership.membership_number}&amp;tab=retro-claims"' in html


def test_the_profile_shows_retros_tab_and_more_action_to_a_csr(client, csr):
    membership = member_in(retro_program())
    client.force_login(csr)
    html = profile(client, membership)
    assert ">Retro claims</button>" in html and "Retro Claim</h6>" in html and ">Purchase or stay</a>" in html
