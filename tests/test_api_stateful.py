"""The REST API's flows, followed by the OpenAPI links it publishes (schemathesis's state machine): no 500, every
answer as documented, at every step of a booking or a claim.

Per role (a superuser, CSR, supervisor, member, a partner client), scenarios start with a call that makes
something (a hold, a claim, a flight search) and follow the links to the calls on what it made: capture, release,
refund, report a failure; read, approve, reject. The data lets those flows go through: many of the holds,
refunds, claims and searches are a real caller's, naming a real member, ticket or receipt (the others are generated
from the schema), so a partner's hold can be captured and refunded and a CSR's claim read back; the test fails if
none was. Each scenario's writes are rolled back at its end.
"""

import functools
import json
from collections import Counter

import pytest
import schemathesis
from django.db import transaction
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.generation.stateful.state_machine import normalize_name
from schemathesis.specs.openapi.checks import ensure_resource_availability

from exchanges import api_links as booking
from exchanges.models import AwardConversionRatio
from loyalty import plugins, services
from loyalty.api_schema import add_links
from loyalty.wsgi import application
from retro.api import links as claiming
from tests.api_callers import ROLES, api_user, requests_keep_the_test_connection
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory, api_token
from tests.retro.factories import RetroTransactionFactory, recent_day, retro_program
from tests.retro.flights.factories import FlightFactory, airline
from tests.test_api_schema import CHECKS

RAW_SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str))
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
schema.app = application
# Only the links the API publishes: schemathesis's own guesses pair unrelated fields (an eligibility reason's
# code taken for a claim number) and would spend the steps on nonsense.
schema.config.phases.stateful.inference.algorithms = []
# Valid requests only: the stateless test sends every operation invalid ones. Mixed in here, Hypothesis's
# simplest draw picks the invalid branch, and half the steps would be the same refused request.
schema.config.phases.stateful.generation.update(modes=["positive"])

# The flows each role can take: a partner client books, staff claim (each is refused the other's API, as the
# stateless test proves); a member has no API, and meets the refusal of every flow's first call.
SCOPES = {
    "partner": schema.include(path_regex="^/api/exchanges/"),
    "admin": schema.include(path_regex="^/api/retro/"),
    "CSR": schema.include(path_regex="^/api/retro/"),
    "Supervisor": schema.include(path_regex="^/api/retro/"),
    "Member": schema,
}
# Stateful checks besides the stateless test's: what a 201 made can be read by the id it gave.
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability]
# What each role's run must have got through at least once: a linked step (made by, then on what it made)
# that answered 2xx, one of each set. A refund answers 201 only on a captured booking.
CLAIMED = {(claiming.SUBMIT_CLAIM, claiming.READ_CLAIM), (claiming.SUBMIT_CLAIM, claiming.LIST_MEMBERSHIP_CLAIMS)}
FLIGHT_CLAIMED = {(claiming.SUBMIT_FLIGHT_CLAIM, claiming.READ_FLIGHT_CLAIM)}
GOT_THROUGH = {
    "partner": [
        {(booking.AUTHORIZE, booking.CAPTURE)},
        {(booking.CAPTURE, booking.REFUND), (booking.AUTHORIZE, booking.REFUND)},
    ],
    "admin": [CLAIMED, FLIGHT_CLAIMED],
    "CSR": [CLAIMED, FLIGHT_CLAIMED],
    "Supervisor": [CLAIMED, FLIGHT_CLAIMED],
    "Member": [],  # refused everywhere
}
FLOWS = settings(
    max_examples=25,
    stateful_step_count=10,
    phases=[Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

PAYER, SHOPPER, TRAVELLER = "FLY-PAYER-0001", "SHOP-0001", "SKY-0001"
TICKETS = [f"05799000000{n:02d}" for n in range(1, 7)]
RECEIPTS = ["RCPT-1", "RCPT-2", "RCPT-3"]  # in the pool; a claim for RCPT-4 waits for its transaction


@functools.cache
def _real_requests():
    """What a real caller sends, by operation. Bodies generated from the schema alone are mostly refused (an
    unknown member, a program the partner may not use), so a flow would seldom get past its first step."""
    receipts = [{"location_code": "PAR01", "transaction_date": recent_day().isoformat(), "reference": reference,
                 "amount": "42.00"} for reference in [*RECEIPTS, "RCPT-4"]]  # fmt: skip
    ticket = st.fixed_dictionaries({"ticket_number": st.sampled_from(TICKETS), "points": st.integers(1, 5000)})
    return {
        booking.AUTHORIZE: st.fixed_dictionaries({
            "program": st.just("fly"), "membership_number": st.just(PAYER), "currency": st.just("EUR"),
            "pnr": st.from_regex(r"[A-Z0-9]{6}", fullmatch=True), "cash_amount": st.sampled_from(["0.00", "120.50"]),
            "tickets": st.lists(ticket, min_size=1, max_size=3, unique_by=lambda t: t["ticket_number"]),
        }),
        # In full, some points, or some tickets (one the booking may not have: a documented refusal).
        booking.REFUND: st.one_of(
            st.just({}), st.fixed_dictionaries({"points": st.integers(1, 2000)}),
            st.fixed_dictionaries({"ticket_numbers": st.lists(st.sampled_from(TICKETS), min_size=1, max_size=2,
                                                              unique=True)}),
        ).map(lambda refund: {"membership_number": PAYER, **refund}),
        claiming.SUBMIT_CLAIM: st.fixed_dictionaries({
            "membership_number": st.just(SHOPPER), "transaction_type": st.just("purchase"),
            "key_values": st.sampled_from(receipts),
        }),
        claiming.SUBMIT_FLIGHT_CLAIM: st.fixed_dictionaries({
            "membership_number": st.just(TRAVELLER), "ticket_number": st.sampled_from(TICKETS),
            "coupon_numbers": st.just([1]),
        }),
        claiming.SEARCH_FLIGHTS: st.fixed_dictionaries({"ticket": st.sampled_from(TICKETS)}),
    }  # fmt: skip


@schema.hook
def flatmap_case(context, case):
    real = _real_requests().get(_operation_id(context.operation))
    if real is None:
        return st.just(case)
    return st.one_of(real.map(lambda request: _as_sent(case, request)), st.just(case))


def _as_sent(case, request):
    if case.operation.method == "get":
        case.query = request
    else:
        case.body, case.media_type = request, "application/json"
    return case


@schema.hook
def flatmap_headers(context, headers):
    # Generated keys repeat ("0", "00"…): a repeat with another body is a 422 (documented, and met here too),
    # so half the writes carry a fresh key and their flow can go on.
    if not isinstance(headers, dict) or "Idempotency-Key" not in headers:
        return st.just(headers)
    return st.one_of(st.uuids().map(lambda key: {**headers, "Idempotency-Key": str(key)}), st.just(headers))


def _world():
    """A booking engine's program with a member rich in points; a shop with receipts in its pool; flown coupons."""
    fly = ProgramFactory(code="fly", name="Fly Miles")
    AwardConversionRatio.objects.create(
        program=fly, market="FR", currency="EUR", points_per_unit_redemption=100, points_per_unit_mixed=80,
        minimum_points_per_ticket=100,
    )  # fmt: skip
    payer = MembershipFactory(program=fly, membership_number=PAYER)
    services.post_adjustment(membership=payer, points=10_000_000, reason="Opening balance", source="test")
    shop = retro_program()
    MembershipFactory(program=shop, membership_number=SHOPPER)
    for reference in RECEIPTS:
        RetroTransactionFactory(program=shop, reference=reference, location_code="PAR01", amount="42.00")
    # The feed's coupons are SMITH/JOHN MR's: the traveller's name matches them.
    traveller = MemberFactory(first_name="John", last_name="Smith")
    MembershipFactory(program=airline(), membership_number=TRAVELLER, member=traveller)
    for ticket in TICKETS:
        FlightFactory(ticket_number=ticket)
    return fly


@pytest.fixture(params=ROLES)
def caller(request, db, roles):
    """(role, token) of a user of each role, in a world where their flows can go through."""
    user = api_user(request.param, _world())
    with requests_keep_the_test_connection():
        yield request.param, api_token(user)


def flows_of(scope, token, got_through):
    """schemathesis's state machine over the links among `scope`'s operations, calling with `token`, counting
    in `got_through` the linked steps that answered 2xx."""
    machine = scope.as_state_machine()
    # A flow starts where something is made (a hold, a claim, a search). A call on a random id is the stateless
    # test's work; here it would only spend the steps on 404s.
    on_an_id = {operation.label for operation in _operations(scope) if operation.path_parameters}
    no_start = {normalize_name(f"RANDOM -> {label}") for label in on_an_id} & machine.root_rules

    class Flows(machine):
        root_rules = machine.root_rules - no_start
        _root_labels = machine._root_labels - on_an_id

        # Each scenario starts from the same data: Hypothesis replays and varies scenarios, and one that met
        # another's holds and keys would not run the same way twice (a FlakyStrategyDefinition).
        def setup(self):
            self.scenario = transaction.atomic()
            self.scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs, recorder=self.recorder)

        def step(self, input):
            output = super().step(input)
            if input.transition is not None and input.is_applied and 200 <= output.response.status_code < 300:
                made_by = self.recorder.cases[input.transition.parent_id].value.operation
                got_through[(_operation_id(made_by), _operation_id(input.case.operation))] += 1
            return output

    for name in no_start:
        setattr(Flows, name, None)  # Hypothesis finds rules by their marker; None has none
    return Flows


def _operations(scope):
    return [result.ok() for result in scope.get_all_operations() if isinstance(result, Ok)]


def _operation_id(operation):
    return operation.definition.raw.get("operationId")


def test_every_step_of_every_flow_answers_as_the_schema_says(caller):
    role, token = caller
    got_through = Counter()
    run_state_machine_as_test(flows_of(SCOPES[role], token, got_through), settings=FLOWS)
    print(f"{role}: linked steps that answered 2xx: {dict(got_through)}")
    for flow in GOT_THROUGH[role]:
        assert flow & set(got_through), f"no {role} flow got through {flow} (did the data or the links change?)"


def test_the_schema_publishes_every_link_the_apps_declare():
    published = {
        (operation["operationId"], status, name, link["operationId"])
        for path_item in RAW_SCHEMA["paths"].values()
        for operation in path_item.values()
        for status, response in operation["responses"].items()
        for name, link in response.get("links", {}).items()
    }
    declared = {(link.operation, link.status, link.name, link.target) for link in plugins.API_LINKS}
    assert declared and declared == published
    validate_schema(RAW_SCHEMA)  # links included, the schema is valid OpenAPI
    # Among them, the flows the test above must get through.
    assert (booking.AUTHORIZE, "201", "CaptureHeldPoints", booking.CAPTURE) in published
    assert (booking.CAPTURE, "200", "RefundPoints", booking.REFUND) in published
    assert (claiming.SUBMIT_CLAIM, "201", "ReadClaim", claiming.READ_CLAIM) in published


def test_partners_read_the_links_in_the_served_schema(client, db):
    served = client.get(reverse("api-schema"), {"format": "json"}).json()
    authorized = served["paths"]["/api/exchanges/redemptions/"]["post"]["responses"]["201"]
    assert authorized["links"]["CaptureHeldPoints"] == {
        "operationId": booking.CAPTURE,
        "description": "Capture the held points once the booking is ticketed.",
        "parameters": {"redemption_id": "$response.body#/id"},
    }


def test_a_link_to_an_operation_the_schema_leaves_out_is_left_out():
    # A schema of fewer endpoints (those one user may see, say) publishes only the links it can resolve.
    paths = {
        "/hold/": {"post": {"operationId": booking.AUTHORIZE, "responses": {"201": {"description": "Held"}}}},
        "/release/": {"post": {"operationId": booking.RELEASE, "responses": {"200": {"description": "Released"}}}},
    }
    links = add_links({"paths": paths}, None, None, True)["paths"]["/hold/"]["post"]["responses"]["201"]["links"]
    assert set(links) == {"ReleaseHeldPoints"}
