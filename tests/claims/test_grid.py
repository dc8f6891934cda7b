"""The search grid's rows are read by prepared statements: a page's claims with what each row shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.grid import attach_lookups, claims_by_id
from tests.claims.factories import hotel, open_stay_claim

pytestmark = pytest.mark.django_db


def test_a_page_of_claims_comes_with_its_program_member_and_type_in_one_statement(membership, csr, program):
    claims = [open_stay_claim(membership, csr, hotel=hotel(program)) for _ in range(3)]
    wanted = [claims[2].pk, claims[0].pk, 10**9]  # an id no claim has is left out
    with CaptureQueriesContext(connection) as queries:
        found = claims_by_id(wanted)
        shown = [(c.program.name, c.membership.membership_number, c.membership.member.full_name, c.claim_type.code)
                 for c in found.values()]  # fmt: skip
        attach_lookups(list(found.values()))
        people = {(c.owner and c.owner.username, c.submitted_by.username, c.hotel.code) for c in found.values()}
    assert sorted(found) == sorted(wanted[:2]) and len(shown) == 2
    assert shown[0][0] == program.name and shown[0][2] == membership.member.full_name
    assert people == {(claims[0].owner and claims[0].owner.username, "csr", "PAR-OPERA")}
    assert len(queries) == 4  # the claims, then origins, properties and people


def test_the_claim_screen_reads_its_claim_with_its_adjustment_code_and_refuses_numbers_past_bigint(
    client, csr, membership, program
):
    from tests.claims.factories import adjustment_values, code

    goodwill = code(program)
    claim = open_stay_claim(membership, csr, **adjustment_values(goodwill, bonus_points=100))
    stay = open_stay_claim(membership, csr)
    found = claims_by_id([claim.pk, stay.pk])
    assert found[claim.pk].adjustment_code == goodwill and found[stay.pk].adjustment_code is None
    client.force_login(csr)
    assert client.get(f"/claims/{claim.pk}/").status_code == 200
    assert client.get("/claims/99999999999999999999/").status_code == 404
