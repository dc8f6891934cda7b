"""The Members screen: search by number, membership number, name and email."""

import pytest
from django.urls import reverse

from tests.factories import MemberFactory, MembershipFactory, ProgramFactory

pytestmark = pytest.mark.django_db
URL = reverse("member-search")


@pytest.fixture
def zoe():
    member = MemberFactory(
        member_number="M00000042", first_name="Zoë", last_name="Lefèvre-Martin", email="zoe@example.com"
    )
    MembershipFactory(member=member, membership_number="S1234567890")
    return member


def test_name_search_ignores_accents_and_case(client, csr, zoe):
    MemberFactory(first_name="John", last_name="Smith")
    client.force_login(csr)
    response = client.get(URL, {"name": "zoe lefev"})
    assert response.status_code == 200
    assert "Zoë" in response.text and "Lefèvre-Martin" in response.text
    assert "Smith" not in response.text


def test_apostrophes_and_hyphens_do_not_get_in_the_way(client, csr):
    MemberFactory(first_name="Siobhán", last_name="O'Brien")
    MemberFactory(first_name="Zoë", last_name="Lefèvre-Martin")
    client.force_login(csr)
    assert "O&#x27;Brien" in client.get(URL, {"name": "obrien"}).text
    assert "O&#x27;Brien" in client.get(URL, {"name": "o’brien"}).text
    assert "Lefèvre-Martin" in client.get(URL, {"name": "lefevre martin"}).text
    assert "Lefèvre-Martin" in client.get(URL, {"name": "Lefèvre-Martin"}).text


def test_accented_query_finds_plain_spelling(client, csr):
    MemberFactory(first_name="Jose", last_name="Nunez")
    client.force_login(csr)
    response = client.get(URL, {"name": "NÚÑEZ"})
    assert "Nunez" in response.text


@pytest.mark.parametrize(
    "params",
    [{"member_number": "M0000004"}, {"membership_number": "s12345"}, {"email": "ZOE@EXAMPLE"}],
)
def test_search_by_numbers_and_email(client, csr, zoe, params):
    client.force_login(csr)
    response = client.get(URL, params)
    assert zoe.get_absolute_url() in response.text


def test_search_with_no_result_says_so(client, csr, zoe):
    client.force_login(csr)
    response = client.get(URL, {"name": "nobody-like-this"})
    assert response.status_code == 200
    assert "No member matches this search." in response.text


def test_malformed_parameter_is_a_form_error_not_a_500(client, csr, zoe):
    client.force_login(csr)
    response = client.get(URL, {"status": "no-such-status", "name": "zoe"})
    assert response.status_code == 200
    assert "Please correct the search" in response.text
    response = client.get(URL, {"name": "zoe", "page": "not-a-number"})
    assert response.status_code == 200
    assert "Lefèvre-Martin" in response.text


def test_results_are_paginated(client, csr):
    for i in range(30):
        MemberFactory(first_name="Anaïs", last_name=f"Bernard{i:02d}")
    client.force_login(csr)
    first = client.get(URL, {"name": "anais"})
    assert "Page 1 of 2" in first.text and "30 in all" in first.text
    second = client.get(URL, {"name": "anais", "page": 2})
    assert "Page 2 of 2" in second.text


def test_htmx_request_gets_only_the_results_grid(client, csr, zoe):
    client.force_login(csr)
    response = client.get(URL, {"name": "zoe"}, headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert 'id="member-grid"' in response.text


def test_search_issues_a_fixed_number_of_queries(client, csr, django_assert_max_num_queries):
    for i in range(20):
        MembershipFactory(member=MemberFactory(first_name="Élodie", last_name=f"Roux{i}"))
    client.force_login(csr)
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"name": "elodie"})
    assert response.text.count("Roux") >= 20


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_it_is_denied_to_roles_without_member_access(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL, {"name": "zoe"})
    assert response.status_code == 403
    assert "You may not use this page" in response.text


@pytest.mark.parametrize("persona", ["csr", "supervisor", "admin_user"])
def test_staff_roles_may_search(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("name", ["---", "'", "😀", " - ' - "])
def test_a_name_of_punctuation_or_symbols_is_a_form_error_not_a_500(client, csr, zoe, name):
    client.force_login(csr)
    response = client.get(URL, {"name": name})
    assert response.status_code == 200
    assert "Please correct the search" in response.text
    assert "Enter letters of the name" in response.text
    assert zoe.get_absolute_url() not in response.text


def test_an_invalid_criterion_lists_no_one_even_beside_a_valid_one(client, csr, zoe):
    client.force_login(csr)
    invalid = [{"status": "bogus"}, {"program": "999999"}, {"phone": "1"}]
    for params in ({"name": "zoe", **extra} for extra in invalid):
        response = client.get(URL, params)
        assert response.status_code == 200
        assert "Please correct the search" in response.text
        assert zoe.get_absolute_url() not in response.text, params


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "612345678", "+33 6 12 34 56 78", "0033612345678", "56 78"])
def test_search_by_phone_ignores_spaces_signs_and_leading_zeros(client, csr, typed):
    member = MemberFactory(first_name="Léa", last_name="Moreau", phone="+33 6 12 34 56 78")
    other = MemberFactory(first_name="Léo", last_name="Moreau", phone="+33 6 98 76 54 32")
    client.force_login(csr)
    response = client.get(URL, {"phone": typed})
    assert member.get_absolute_url() in response.text
    assert other.get_absolute_url() not in response.text
    assert "+33 6 12 34 56 78" in response.text  # the grid shows the phone it matched


def test_a_phone_search_needs_four_digits(client, csr, zoe):
    client.force_login(csr)
    response = client.get(URL, {"phone": "0 1 2"})
    assert "Enter at least 4 digits of the phone number." in response.text
    assert 'id="member-grid"' not in response.text


def test_short_name_words_match_the_start_of_a_word(client, csr):
    li = MemberFactory(first_name="Wei", last_name="Li")
    julie = MemberFactory(first_name="Julie", last_name="Martin")
    client.force_login(csr)
    response = client.get(URL, {"name": "li"})
    assert li.get_absolute_url() in response.text and julie.get_absolute_url() not in response.text
    assert julie.get_absolute_url() in client.get(URL, {"name": "uli"}).text  # three letters: anywhere


def test_the_empty_choices_say_any(client, csr):
    client.force_login(csr)
    html = client.get(URL).text
    assert ">Any program</option>" in html and ">Any status</option>" in html
    assert "---------" not in html


def test_program_narrows_a_search_without_listing_a_member_twice(client, csr):
    air, hotel = ProgramFactory(code="air", name="Air"), ProgramFactory(code="hotel", name="Hotel")
    both = MemberFactory(first_name="Anaïs", last_name="Bernard")
    MembershipFactory(member=both, program=air, membership_number="A1")
    MembershipFactory(member=both, program=hotel, membership_number="H1")
    hotel_only = MemberFactory(first_name="Anaïs", last_name="Bertin")
    MembershipFactory(member=hotel_only, program=hotel, membership_number="H2")
    client.force_login(csr)
    response = client.get(URL, {"name": "anais"})
    assert response.text.count(both.get_absolute_url()) == 2  # number and name links: one row
    response = client.get(URL, {"name": "anais", "program": air.pk})
    assert both.get_absolute_url() in response.text and hotel_only.get_absolute_url() not in response.text
    response = client.get(URL, {"membership_number": "h"})
    assert response.text.count(both.get_absolute_url()) == 2  # two memberships starting with H, one row


def test_a_search_matching_more_than_the_cap_says_so(client, csr, monkeypatch):
    monkeypatch.setattr("loyalty.filters.MATCH_CAP", 3)
    monkeypatch.setattr("loyalty.views.MATCH_CAP", 3)
    for i in range(5):
        MemberFactory(first_name="Anaïs", last_name=f"Bernard{i}")
    client.force_login(csr)
    response = client.get(URL, {"name": "anais"})
    assert "More than 3 members match" in response.text
    assert "3+ in all" in response.text
    assert response.text.count("Bernard") == 3
