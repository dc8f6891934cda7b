"""A program with a booking engine partner, a member with points, and an API client signed in by the partner's token."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from exchanges.models import AwardConversionRatio, PartnerClient
from loyalty import services
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory, UserFactory, api_token

TICKET_A, TICKET_B = "0571234567890", "0571234567891"


def give_points(membership, points):
    services.post_adjustment(
        membership=membership, points=points, reason="Opening balance", source="test", occurred_on=dt.date(2026, 1, 1)
    )


def partner_named(name, *programs):
    partner = PartnerClient.objects.create(name=name, user=UserFactory(username=name))
    partner.programs.set(programs)
    return partner


def client_of(partner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(partner.user)}")
    return client


@pytest.fixture
def program(db):
    program = ProgramFactory(code="fly", name="Fly Miles")
    AwardConversionRatio.objects.create(
        program=program, market="FR", currency="EUR", points_per_unit_redemption=Decimal("100"),
        points_per_unit_mixed=Decimal("80"), minimum_points_per_ticket=2000,
    )  # fmt: skip
    return program


@pytest.fixture
def payer(program):
    membership = MembershipFactory(program=program, member=MemberFactory(first_name="Ines"))
    give_points(membership, 50_000)
    return membership


@pytest.fixture
def partner(program):
    return partner_named("booking-engine", program)


@pytest.fixture
def api(partner):
    return client_of(partner)


def booking(payer, *, tickets=((TICKET_A, 10_000), (TICKET_B, 6_000)), cash="120.00", pnr="ABC123"):
    return {
        "program": payer.program.code, "membership_number": payer.membership_number, "pnr": pnr, "currency": "EUR",
        "cash_amount": cash, "tickets": [{"ticket_number": n, "points": p} for n, p in tickets],
    }  # fmt: skip


class Calls:
    """Shortcuts for the API's routes, each write with a fresh (or given) Idempotency-Key."""

    def __init__(self, client):
        self.client, self.count = client, 0

    def post(self, url, body=None, key=None):
        self.count += 1
        headers = {"Idempotency-Key": key or f"key-{self.count}"}
        return answered(self.client.post(url, body or {}, format="json", headers=headers))


def answered(response):
    """The response with `data` as the API client read it: a keyed write's success is sent as the JSON kept for
    its key (not a REST framework Response, whose `data` the test client gives)."""
    if not hasattr(response, "data") and response["Content-Type"] == "application/json":
        response.data = response.json()
    return response


@pytest.fixture
def calls(api):
    return Calls(api)
