"""The Member Profile: header, tabs as htmx partials, the More menu, 404s."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from loyalty.models import Activity
from loyalty.services import post_adjustment
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory, TierFactory, TierPeriodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership():
    program = ProgramFactory()
    member = MemberFactory(member_number="M77", first_name="Zoë", last_name="Lefèvre-Martin")
    membership = MembershipFactory(member=member, program=program, membership_number="S77")
    TierPeriodFactory(membership=membership, tier=TierFactory(program=program, code="silver", name="Silver", rank=2))
    return membership


def test_profile_header_shows_numbers_program_tier_and_balance(client, csr, membership):
    client.force_login(csr)
    response = client.get(reverse("member-profile", args=["M77"]))
    assert response.status_code == 200
    text = response.text
    assert "Lefèvre-Martin" in text and "S77" in text and "Shop Rewards" in text
    assert 'id="profile-tier">Silver<' in text
    assert re.search(r'id="profile-balance"[^>]*>0 Points<', text)
    assert 'id="claims-lamp"' in text


def test_profile_lists_every_tab_and_the_more_menu(client, csr, membership):
    client.force_login(csr)
    text = client.get(reverse("member-profile", args=["M77"])).text
    for label in ["Summary", "Activities", "Flights", "Claims", "Retro claims"]:
        assert f">{label}</button>" in text
    assert 'id="more-menu"' in text


@pytest.mark.parametrize("tab", ["summary", "activities", "flights", "claims"])
def test_each_tab_loads_as_an_htmx_partial(client, csr, membership, tab):
    client.force_login(csr)
    url = reverse("member-profile-tab", args=["M77", tab])
    response = client.get(url, {"membership": "S77"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'id="tab-{tab}"' in response.text


def test_tab_opened_directly_redirects_to_the_profile_with_that_tab(client, csr, membership):
    client.force_login(csr)
    response = client.get(reverse("member-profile-tab", args=["M77", "activities"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("member-profile", args=["M77"]))
    assert "tab=activities" in response.url


def test_unknown_member_is_a_404_inside_the_layout(client, csr):
    client.force_login(csr)
    response = client.get(reverse("member-profile", args=["NOPE"]))
    assert response.status_code == 404
    assert "No member has the number “NOPE”." in response.text
    assert 'id="main-nav"' in response.text


def test_unknown_tab_is_a_404(client, csr, membership):
    client.force_login(csr)
    response = client.get(reverse("member-profile-tab", args=["M77", "bogus"]))
    assert response.status_code == 404


def test_member_with_two_memberships_can_switch(client, csr, membership):
    hotel = ProgramFactory(code="hotel", name="Stay Club", kind="hotel")
    MembershipFactory(member=membership.member, program=hotel, membership_number="H77")
    client.force_login(csr)
    response = client.get(reverse("member-profile", args=["M77"]), {"membership": "H77"})
    assert 'id="profile-program">Stay Club<' in response.text


def test_profile_requires_login(client, membership):
    response = client.get(reverse("member-profile", args=["M77"]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_profile_and_tabs_are_denied_to_roles_without_member_access(client, request, persona, membership):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("member-profile", args=["M77"])).status_code == 403
    tab = reverse("member-profile-tab", args=["M77", "activities"])
    assert client.get(tab, headers={"HX-Request": "true"}).status_code == 403


def test_a_tab_click_keeps_the_tab_in_the_address_and_the_membership_switch_keeps_the_tab(client, csr, membership):
    hotel = ProgramFactory(code="stay", name="Stay Club")
    MembershipFactory(member=membership.member, program=hotel, membership_number="H77")
    client.force_login(csr)
    text = client.get(reverse("member-profile", args=["M77"]), {"membership": "S77", "tab": "activities"}).text
    assert 'hx-replace-url="/members/M77/?membership=S77&amp;tab=flights"' in text
    assert 'name="tab" value="activities" data-current-tab' in text
    assert re.search(r'class="nav-link active"[^>]*data-tab="activities"', text)


def test_times_are_shown_in_the_programs_zone_and_metrics_in_words(client, csr, membership):
    post_adjustment(
        membership=membership, points=5, reason="Goodwill", source="csr", extra_entries={"tier_points": 2}
    )
    Activity.objects.filter(membership=membership).update(posted_at=dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC))
    client.force_login(csr)
    url = reverse("member-profile-tab", args=["M77", "activities"])
    text = client.get(url, {"membership": "S77"}, headers={"HX-Request": "true"}).text
    assert "2026-01-16 00:30 CET" in text  # Europe/Paris, the program's zone, labelled
