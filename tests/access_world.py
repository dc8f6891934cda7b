"""The access matrix's world: one object of each kind a URL names, the personas' clients, and the URLconf walk."""

from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from exchanges import corrections
from exchanges import services as exchanges_services
from exchanges.models import AwardConversionRatio
from loyalty.models import Activity, ApprovalLimit
from retro.flights import services as flight_services
from retro.models import RetroImportBatch
from tests.claims.factories import hotel_program, membership_in, open_stay_claim, stay
from tests.exchanges.conftest import TICKET_A, TICKET_B, client_of, give_points, partner_named
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory
from tests.retro.factories import RetroClaimFactory, retro_program
from tests.retro.flights.factories import FlightFactory, airline, traveller

PERSONAS = ("anonymous", "member", "csr", "supervisor", "admin", "partner")
LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin-login", "redirect"


def url_patterns(patterns=None, prefix="", namespace=""):
    """(route, name) of every URL pattern, recursively; a namespaced name reads "admin:index"."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield route, (f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name)


def answer_of(response):
    """What the matrix records: the status, or "login"/"admin-login"/"redirect" for a 302 (by where it leads)."""
    if response.status_code != 302:
        return response.status_code
    path = urlsplit(response["Location"]).path
    if path == resolve_url(settings.LOGIN_URL):
        return LOGIN
    return ADMIN_LOGIN if path == reverse("admin:login") else REDIRECT


@dataclass
class Row:
    """Expected answers per persona, in PERSONAS' order; `post`: answers to an empty POST (None: not sent)."""

    get: tuple
    kwargs: object = None  # world -> the URL's kwargs
    post: tuple | None = None
    query: object = None  # world -> the GET's query parameters


def clients(users, partner):
    made = {"anonymous": Client(), "partner": client_of(partner)}
    for persona in ("member", "csr", "supervisor", "admin"):
        made[persona] = Client()
        made[persona].force_login(users[persona])
    return made


def _booking_program(code, name):
    program = ProgramFactory(code=code, name=name)
    AwardConversionRatio.objects.create(
        program=program, market="FR", currency="EUR", points_per_unit_redemption=100, points_per_unit_mixed=80,
        minimum_points_per_ticket=2000,
    )  # fmt: skip
    return program


def _exchanges_world(supervisor):
    """Fly Miles with its booking engine's captured redemption, a case on it and a correction waiting for a checker;
    Sea Miles with another partner's redemption."""
    fly = _booking_program("fly", "Fly Miles")
    payer = MembershipFactory(program=fly, member=MemberFactory(first_name="Ines"))
    give_points(payer, 50_000)
    partner = partner_named("booking-engine", fly)
    held = exchanges_services.authorize(
        partner=partner, program=fly, membership=payer, pnr="ABC123", currency="EUR", cash_amount=0,
        tickets=[(TICKET_A, 10_000), (TICKET_B, 6_000)],
    )  # fmt: skip
    redemption = exchanges_services.capture(partner=partner, redemption_id=held.pk)
    ApprovalLimit.objects.create(
        program=fly, lifecycle=corrections.LIFECYCLE, role=Group.objects.get(name="Supervisor"), max_value=1_000
    )
    case = exchanges_services.report_failure(partner=partner, redemption_id=redemption.pk, step="refund_points")
    exchanges_services.take_case(case=case, by=supervisor)
    correction = corrections.propose_correction(
        case=case, direction="recredit", points=5_000, reason="The refund call failed.", by=supervisor
    )
    other = _booking_program("sea", "Sea Miles")
    other_payer = MembershipFactory(program=other)
    give_points(other_payer, 50_000)
    other_partner = partner_named("other-engine", other)
    other_redemption = exchanges_services.authorize(
        partner=other_partner, program=other, membership=other_payer, pnr="XYZ789", currency="EUR", cash_amount=0,
        tickets=[("0579999999990", 2_000)],
    )  # fmt: skip
    return partner, redemption, case, correction, other_redemption


def build_world(*, member_user, csr, supervisor):
    """One object of each kind, so that a 404 means "not yours" or "not found", never "the test forgot it"."""
    shop = retro_program("shop")
    member = member_user.member
    own_membership = member.memberships.get()
    own_claim = RetroClaimFactory(membership=own_membership)
    other = MembershipFactory(program=shop, member=MemberFactory(first_name="Zoë", last_name="Autre"))
    other_claim = RetroClaimFactory(membership=other)

    sky = airline()
    flyer = traveller(sky)
    coupon = FlightFactory(program=sky)
    flight_claim = flight_services.submit_flight_claim(
        membership=flyer, ticket_number=coupon.ticket_number, coupon_numbers=[1], submitted_by=csr
    )[0]

    hotels = hotel_program()
    guest = membership_in(hotels)
    membership_claim = open_stay_claim(guest, by=csr)
    guest_stay = stay(hotels, membership=guest)
    give_points(guest, 100)
    activity = Activity.objects.get(membership=guest)
    batch = RetroImportBatch.objects.create(program=shop, kind="transactions", channel="upload", file_name="a.csv")

    partner, redemption, case, correction, other_redemption = _exchanges_world(supervisor)
    return SimpleNamespace(
        member=member, own_membership=own_membership, own_claim=own_claim, other=other, other_claim=other_claim,
        flight_claim=flight_claim, membership_claim=membership_claim, note=membership_claim.notes.first(),
        stay=guest_stay, activity=activity, guest_number=guest.member.member_number, batch=batch, partner=partner,
        redemption=redemption, case=case,
        correction=correction, other_redemption=other_redemption,
    )  # fmt: skip
