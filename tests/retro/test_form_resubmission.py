"""A claim form posted twice (a double click, a re-sent page) submits once: the form carries a token."""

import re

import pytest
from django.urls import reverse

from retro.models import RetroClaim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.django_db


def token_in(html):
    return re.search(r'name="form_token" value="([0-9a-f]+)"', html).group(1)


def test_the_csr_form_posted_twice_with_its_token_makes_one_claim_and_shows_its_outcome(client, csr):
    program = retro_program()
    membership, txn = member_in(program), RetroTransactionFactory(program=program)
    client.force_login(csr)
    url = reverse("member-retro-claims", args=[membership.member.member_number])
    token = token_in(client.get(url, {"membership": membership.membership_number}).text)
    form = {"membership": membership.membership_number, "form_token": token, **key_values_of(txn)}
    first = client.post(url, form, follow=True)
    second = client.post(url, form, follow=True)
    claim = RetroClaim.objects.get()
    assert f"Matched: 420 Points earned (claim {claim.number})" in first.text
    assert f"Matched: 420 Points earned (claim {claim.number})" in second.text  # not "Already Claimed"
    assert RetroClaim.objects.count() == 1


def test_the_portal_form_posted_twice_makes_one_claim(client, member_user):
    program = retro_program()
    txn = RetroTransactionFactory(program=program)
    client.force_login(member_user)
    token = token_in(client.get(reverse("portal-home")).text)
    for _ in range(2):
        response = client.post(reverse("portal-home"), {"form_token": token, **key_values_of(txn)})
        assert response.status_code == 302
    assert RetroClaim.objects.count() == 1


def test_a_refused_form_corrected_and_sent_again_with_its_token_is_submitted(client, csr):
    program = retro_program()
    membership, txn = member_in(program), RetroTransactionFactory(program=program)
    client.force_login(csr)
    url = reverse("member-retro-claims", args=[membership.member.member_number])
    token = token_in(client.get(url, {"membership": membership.membership_number}).text)
    wrong = {**key_values_of(txn), "transaction_date": "1989-05-20"}
    refused = client.post(url, {"membership": membership.membership_number, "form_token": token, **wrong})
    assert "before 1990" in refused.text and not RetroClaim.objects.exists()
    fixed = {"membership": membership.membership_number, "form_token": token, **key_values_of(txn)}
    assert client.post(url, fixed).status_code == 302
    assert RetroClaim.objects.count() == 1
