"""Hostile input to the REST APIs, the staff forms and the CSV exports (issue 13).

APIs: JSON nested ten thousand deep, bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, NUL characters and lone
surrogates (PostgreSQL stores neither) in values and in keys: each a 400 (413 for the size) naming what
is wrong, never a 500, and nothing saved. Forms: the same characters are form errors. Screens show HTML
in names as text; exports quote what a spreadsheet would run as a formula.
"""

import csv
import io
import json

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from claims.models import MembershipClaim
from exchanges.models import Redemption
from loyalty.api_tokens import issue_token
from loyalty.spreadsheets import PLAIN_NUMBER
from retro.models import FlightClaim, RetroClaim, RetroImportBatch, RetroTransaction
from tests.claims.factories import hotel, hotel_program, membership_in, open_stay_claim
from tests.exchanges.conftest import booking, client_of, give_points, partner_named
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory
from tests.retro.factories import RetroClaimFactory, RetroTransactionFactory, key_values_of, member_in, retro_program
from tests.retro.flights.factories import FlightFactory, airline, traveller
from tests.retro.import_helpers import good_row, program_with_purchase_key

pytestmark = pytest.mark.django_db
DEEP = "[" * 10_000 + "]" * 10_000
SCRIPT = "<script>alert(1)</script>"


def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)[1]}")
    return client


def post_raw(client, url, body, key="k-1"):
    """Post a JSON text as it is: the test client would refuse to encode a lone surrogate itself."""
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    return client.post(url, data, content_type="application/json", headers={"Idempotency-Key": key})


def assert_readable_400(response, status=400):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body and "Traceback" not in json.dumps(body)
    return body


@pytest.fixture
def retro(db):
    program = retro_program()
    return program, member_in(program)


@pytest.fixture
def exchange(db):
    program = ProgramFactory(code="fly", name="Fly Miles")
    payer = MembershipFactory(program=program)
    give_points(payer, 50_000)
    return payer, client_of(partner_named("booking-engine", program))


# Every JSON endpoint: (url, the user or client, a body that would otherwise be valid enough to reach a field).
def _endpoints(csr, supervisor, retro, exchange):
    program, membership = retro
    payer, partner = exchange
    return [
        ("/api/retro/claims/", api(csr)),
        ("/api/retro/transactions/batch/", api(supervisor)),
        ("/api/retro/flights/batch/", api(supervisor)),
        ("/api/retro/flight-claims/", api(csr)),
        ("/api/exchanges/quote/", partner),
        ("/api/exchanges/redemptions/", partner),
        ("/api/exchanges/eligibility/", partner),
    ]


def test_json_nested_ten_thousand_deep_is_a_400_everywhere(csr, supervisor, retro, exchange):
    for url, client in _endpoints(csr, supervisor, retro, exchange):
        for body in (DEEP, '{"membership_number": ' + DEEP + "}"):
            response = post_raw(client, url, body)
            payload = assert_readable_400(response)
            assert "nested" in json.dumps(payload), (url, payload)
    assert not RetroClaim.objects.exists() and not RetroImportBatch.objects.exists()
    assert not FlightClaim.objects.exists() and not Redemption.objects.exists()


def test_a_body_in_a_media_type_an_endpoint_does_not_take_is_a_documented_415(csr, supervisor, retro, exchange):
    # Found by the schema test (tests/test_api_schema.py): a transaction batch whose body had no media type
    # answered 415, which the schema did not list.
    documented = SchemaGenerator().get_schema(public=True)["paths"]
    for url, client in _endpoints(csr, supervisor, retro, exchange):
        response = client.post(url, b"a=1", content_type="text/plain", headers={"Idempotency-Key": "k-415"})
        assert response.status_code == 415 and "415" in documented[url]["post"]["responses"], url


def test_json_nested_a_little_less_deep_is_still_refused_before_it_reaches_anything(csr, retro):
    # Under the interpreter's recursion limit the parser copes, but what reads the data next might not.
    body = '{"membership_number": "x", "key_values": {"reference": ' + "[" * 900 + "]" * 900 + "}}"
    assert "nested" in json.dumps(assert_readable_400(post_raw(api(csr), "/api/retro/claims/", body)))


def test_a_body_over_the_upload_limit_is_refused(csr, supervisor, retro, exchange, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    for url, client in _endpoints(csr, supervisor, retro, exchange):
        body = json.dumps({"program": "shop", "transactions": [good_row(n) for n in range(40)]})
        assert len(body) > 2_000
        payload = assert_readable_400(post_raw(client, url, body), status=413)
        assert "too large" in json.dumps(payload), payload
    assert not RetroImportBatch.objects.exists() and not RetroTransaction.objects.exists()


def test_a_batch_over_the_row_cap_is_a_field_error(supervisor, db):
    program_with_purchase_key()
    rows = [{"source_id": str(n)} for n in range(10_001)]
    response = api(supervisor).post("/api/retro/transactions/batch/", {"program": "shop", "transactions": rows},
                                    format="json")  # fmt: skip
    assert "transactions" in assert_readable_400(response)
    assert not RetroImportBatch.objects.exists()


# NUL characters and lone surrogates --------------------------------------------------------------------------

BAD_TEXTS = [("nul", "\\u0000"), ("surrogate", "\\ud800")]


@pytest.mark.parametrize(("name", "escape"), BAD_TEXTS, ids=[b[0] for b in BAD_TEXTS])
def test_a_retro_claim_with_a_bad_character_is_a_field_error(csr, retro, name, escape):
    program, membership = retro
    txn = RetroTransactionFactory(program=program)
    values = key_values_of(txn)
    cases = {
        "membership_number": {"membership_number": f"{membership.membership_number}{escape}", "key_values": values},
        "transaction_type": {"membership_number": membership.membership_number, "transaction_type": f"p{escape}",
                             "key_values": values},
        "key_values": {"membership_number": membership.membership_number,
                       "key_values": {**values, "reference": f"R{escape}"}},
        "key_values ": {"membership_number": membership.membership_number,
                        "key_values": {**values, f"attr_x{escape}": "1"}},
    }  # fmt: skip
    for n, (field, body) in enumerate(cases.items()):
        text = json.dumps(body).replace("\\\\u", "\\u")
        response = post_raw(api(csr), "/api/retro/claims/", text, key=f"k-{name}-{n}")
        assert field.strip() in assert_readable_400(response), (field, response.json())
    assert not RetroClaim.objects.exists()


@pytest.mark.parametrize(("name", "escape"), BAD_TEXTS, ids=[b[0] for b in BAD_TEXTS])
def test_a_transaction_batch_row_with_a_bad_character_is_that_rows_error(supervisor, db, name, escape):
    program_with_purchase_key()
    body = {"program": "shop", "transactions": [good_row(1), good_row(2, reference=f"R{escape}"),
                                                {**good_row(3), f"attr_x{escape}": "1"}]}  # fmt: skip
    text = json.dumps(body).replace("\\\\u", "\\u")
    response = post_raw(api(supervisor), "/api/retro/transactions/batch/", text)
    assert response.status_code == 200, response.content
    rejected = response.json()["rejected"]
    assert [r["row"] for r in rejected] == [2, 3]
    assert list(RetroTransaction.objects.values_list("source_id", flat=True)) == ["POS-1"]


@pytest.mark.parametrize(("name", "escape"), BAD_TEXTS, ids=[b[0] for b in BAD_TEXTS])
def test_a_program_code_with_a_bad_character_is_a_field_error(supervisor, db, name, escape):
    program_with_purchase_key()
    text = f'{{"program": "shop{escape}", "transactions": [{{"source_id": "1"}}]}}'
    for url in ("/api/retro/transactions/batch/", "/api/retro/flights/batch/"):
        assert "program" in assert_readable_400(post_raw(api(supervisor), url, text))


@pytest.mark.parametrize(("name", "escape"), BAD_TEXTS, ids=[b[0] for b in BAD_TEXTS])
def test_a_flight_claim_with_a_bad_character_is_a_field_error(csr, db, name, escape):
    membership, flight = traveller(airline()), FlightFactory()
    for n, field in enumerate(("membership_number", "ticket_number", "note")):
        body = {"membership_number": membership.membership_number, "ticket_number": flight.ticket_number,
                "coupon_numbers": [1], "note": "fine"}  # fmt: skip
        body[field] = body[field] + "\x00"
        text = json.dumps(body).replace("\\u0000", escape)
        response = post_raw(api(csr), "/api/retro/flight-claims/", text, key=f"k-{name}-{n}")
        assert field in assert_readable_400(response), response.json()
    assert not FlightClaim.objects.exists()


@pytest.mark.parametrize(("name", "escape"), BAD_TEXTS, ids=[b[0] for b in BAD_TEXTS])
def test_an_exchange_with_a_bad_character_is_a_field_error(exchange, name, escape):
    payer, partner = exchange
    for n, field in enumerate(("program", "membership_number", "pnr", "currency")):
        body = booking(payer)
        body[field] = body[field] + "\x00"
        text = json.dumps(body).replace("\\u0000", escape)
        response = post_raw(partner, "/api/exchanges/redemptions/", text, key=f"k-{name}-{n}")
        assert field in assert_readable_400(response), response.json()
    quote = f'{{"program": "fly", "market": "FR{escape}", "cash_fare": "100.00"}}'
    assert "market" in assert_readable_400(post_raw(partner, "/api/exchanges/quote/", quote))
    # A choice's error quotes the value sent: rendered with U+FFFD for the surrogate, not a 500.
    failure = f'{{"step": "ticketing{escape}"}}'
    response = post_raw(partner, "/api/exchanges/redemptions/1/failures/", failure, key=f"k-{name}-failure")
    assert "step" in assert_readable_400(response)
    assert not Redemption.objects.exists()


# Staff forms ---------------------------------------------------------------------------------------------------

# A lone surrogate cannot cross HTTP as text: its UTF-8-like bytes are not UTF-8, percent-encoded here.
FORM_VALUES = [("nul", "%00"), ("surrogate", "%ED%A0%80")]


def post_form(client, url, fields, headers=None):
    body = "&".join(f"{name}={value}" for name, value in fields.items())
    return client.post(url, body, content_type="application/x-www-form-urlencoded", headers=headers or {})


@pytest.mark.parametrize(("name", "encoded"), FORM_VALUES, ids=[f[0] for f in FORM_VALUES])
def test_the_membership_claim_form_refuses_bad_characters_in_a_name(client, csr, name, encoded):
    program = hotel_program()
    membership = membership_in(program)
    client.force_login(csr)
    from claims.models import ClaimType

    fields = {"caller_name": f"Zo{encoded}e", "claim_type": ClaimType.objects.get(code="STAY").pk,
              "record_type": "stay", "hotel": hotel(program).pk, "arrival_date": "2024-01-01",
              "departure_date": "2024-01-03", "owner": csr.pk}  # fmt: skip
    response = post_form(client, f"/claims/new/?membership={membership.membership_number}", fields)
    assert response.status_code in (200, 400), response.status_code
    page = response.content.decode()
    assert 'id="error-caller_name"' in page, page[:3000]
    assert not MembershipClaim.objects.exists()


@pytest.mark.parametrize(("name", "encoded"), FORM_VALUES, ids=[f[0] for f in FORM_VALUES])
def test_the_retro_claim_form_refuses_bad_characters_in_a_key_value(client, csr, retro, name, encoded):
    program, membership = retro
    txn = RetroTransactionFactory(program=program)
    fields = {"membership": membership.membership_number, "transaction_type": "purchase", **key_values_of(txn)}
    fields["reference"] = f"R{encoded}1"
    client.force_login(csr)
    url = reverse("member-retro-claims", args=[membership.member.member_number])
    response = post_form(client, url, fields, headers={"HX-Request": "true"})
    assert response.status_code in (200, 400), response.status_code
    assert "reference" in response.content.decode()
    assert not RetroClaim.objects.exists()


@pytest.mark.parametrize(("name", "encoded"), FORM_VALUES, ids=[f[0] for f in FORM_VALUES])
def test_the_member_search_refuses_bad_characters(client, csr, name, encoded):
    client.force_login(csr)
    for field in ("name", "member_number", "membership_number", "email"):
        response = client.get(f"/members/?{field}=Zo{encoded}e")
        assert response.status_code == 200, (field, response.status_code)
        assert "search-errors" in response.content.decode(), field


# Screens and exports ---------------------------------------------------------------------------------------------


def test_html_in_a_members_name_is_shown_as_text(client, csr):
    program = hotel_program()
    member = MemberFactory(first_name=SCRIPT, last_name="<b>Bold</b>")
    membership = membership_in(program, member=member)
    open_stay_claim(membership, csr, caller_name=SCRIPT)
    client.force_login(csr)
    pages = [
        client.get(f"/members/?name={member.last_name[3:7]}"),
        client.get(f"/members/{member.member_number}/"),
        client.get("/claims/", {"all": "1"}),
        client.get(f"/claims/{MembershipClaim.objects.get().pk}/"),
    ]
    for response in pages:
        page = response.content.decode()
        assert response.status_code == 200 and SCRIPT not in page and "<b>Bold</b>" not in page


FORMULA_NAMES = ["=cmd|' /C calc'!A0", "@SUM(1)", "\t=1+1", "\r=1+1", "+1+1", "-1-1"]


def assert_no_formula(cells):
    """No cell a spreadsheet would run: starting with = + - @ TAB or CR, unless a plain number."""
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or PLAIN_NUMBER.fullmatch(cell), cell


def _export_cells(response):
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    return [cell for line in csv.reader(io.StringIO(text)) for cell in line]


def test_the_membership_claims_export_quotes_formula_names(client, csr):
    program = hotel_program()
    for formula in FORMULA_NAMES:
        member = MemberFactory(first_name=formula, last_name="X")
        open_stay_claim(membership_in(program, member=member), csr, caller_name=formula)
    client.force_login(csr)
    cells = _export_cells(client.get(reverse("claim-export"), {"all": "1"}))
    assert_no_formula(cells)
    # The forms strip a name's leading tab or CR; what is left is quoted all the same.
    for formula in FORMULA_NAMES:
        assert f"'{formula.strip()}" in cells and formula.strip() not in cells


def test_the_retro_claims_export_quotes_formula_names_and_keys(client, supervisor):
    program = retro_program()
    for n, formula in enumerate(FORMULA_NAMES):
        membership = member_in(program, first_name=formula, last_name="")
        RetroClaimFactory(membership=membership, key_values={"reference": f"R{n}"}, failure_reason=formula)
    client.force_login(supervisor)
    cells = _export_cells(client.get(reverse("retro-claim-export")))
    assert_no_formula(cells)
    for formula in FORMULA_NAMES:
        assert f"'{formula}" in cells and formula not in cells
