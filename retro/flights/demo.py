"""Flights demo: the airline's departure-control feed for some demo members, and claims in the queue.

The feed holds coupons whose passenger names show each Verify outcome for the first demo members
(a match, a truncated name, a near miss, another passenger, no name), flights too recent to claim,
a partner's ticket, and coupons of nobody in particular. A few claims wait in Flights Approval and
some were decided over the last weeks, so the dashboard has a history.
"""

import datetime as dt
import random

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from loyalty.demo.people import SEED
from loyalty.demo.programs import AIRLINE, AIRPORTS, BOOKING_CLASSES, HUBS, flight_miles
from loyalty.selectors import active_memberships_of
from retro.flights.decisions import approve_flight_claim, reject_flight_claim
from retro.flights.names import normalise
from retro.flights.services import submit_flight_claim
from retro.models import Flight, FlightClaim, FlightSettings

AIRLINE_CODE, PARTNER_CODE = "057", "016"
CARRIER = "SW"


def ticket(n):
    return f"{AIRLINE_CODE}{2_400_000_000 + n:010d}"


def seed_flights(*, programs, anchor, log=print):
    program = programs[AIRLINE]
    FlightSettings.objects.get_or_create(
        program=program, defaults={"airline_code": AIRLINE_CODE, "partner_codes": PARTNER_CODE}
    )
    if Flight.objects.filter(program=program).exists():
        return {"flights": 0, "flight_claims": 0}
    rng = random.Random(SEED + 57)
    with transaction.atomic():
        flights = _feed(program, anchor, rng)
        Flight.objects.bulk_create(flights)
        claims = _claims(program, anchor)
    log(f"  flights: {len(flights)} coupons in the airline's feed, {claims} flight claims")
    return {"flights": len(flights), "flight_claims": claims}


def _airline_members(program):
    """The airline's active demo members, the curated ones (member 1, 2…) first."""
    return list(active_memberships_of(program))


def _airline_name(membership, *, title="MR"):
    member = membership.member
    return f"{normalise(member.last_name)}/{normalise(member.first_name)} {title}"


def _coupon(program, n, day, rng, *, coupon=1, name="", origin=None, destination=None, flown=True, prefix=None):
    origin = origin or rng.choice(HUBS)
    destination = destination or rng.choice([code for code in AIRPORTS if code != origin])
    cabin = rng.choice(["economy", "economy", "economy", "premium", "business"])
    number = ticket(n) if prefix is None else f"{prefix}{3_100_000_000 + n:010d}"
    return Flight(
        program=program, ticket_number=number, coupon_number=coupon, pnr=f"{rng.randrange(36**6):06X}"[:6],
        operating_carrier=CARRIER, marketing_carrier=CARRIER, flight_number=str(rng.randint(100, 2999)),
        flight_date=day, origin=origin, destination=destination, cabin=cabin.title(),
        booking_class=rng.choice(BOOKING_CLASSES[cabin]), passenger_name=name,
        distance=flight_miles(origin, destination), flown=flown,
    )  # fmt: skip


def _feed(program, anchor, rng):
    flights = []
    for index, membership in enumerate(_airline_members(program)[:8]):
        day = anchor - dt.timedelta(days=20 + 9 * index)
        name = _airline_name(membership)
        if index == 1:
            name = name.replace(" MR", "")[:18]  # truncated by the airline's system
        elif index == 2:
            name = f"{normalise(membership.member.last_name)}/{normalise(membership.member.first_name)[:-1]} MR"
        elif index == 3:
            name = "DOE/JANE MRS"  # another passenger
        elif index == 4:
            name = ""  # the feed carries no name
        # A return trip: two coupons on one ticket.
        outbound = _coupon(program, index, day, rng, name=name)
        flights.append(outbound)
        flights.append(
            _coupon(program, index, day + dt.timedelta(days=5), rng, coupon=2, name=name,
                    origin=outbound.destination, destination=outbound.origin)
        )  # fmt: skip
    flights.append(_coupon(program, 90, anchor - dt.timedelta(days=2), rng, name="RECENT/FLYER MR"))  # too recent
    flights.append(_coupon(program, 91, anchor - dt.timedelta(days=30), rng, name="NOSHOW/PAT MS", flown=False))
    flights.append(_coupon(program, 92, anchor - dt.timedelta(days=25), rng, name="PARTNER/ALEX MR",
                           prefix=PARTNER_CODE))  # fmt: skip
    for n in range(100, 300):  # anonymous coupons of other travellers
        flights.append(_coupon(program, n, anchor - dt.timedelta(days=rng.randrange(8, 170)), rng,
                               name=f"TRAVELLER/NUMBER{n} MR"))  # fmt: skip
    return flights


def _claims(program, anchor):
    """Claims of the last demo airline members: some wait, some were decided (the dashboard's history)."""
    csr = User.objects.filter(username="csr").first()
    supervisor = User.objects.filter(username="supervisor").first()
    if csr is None or FlightClaim.objects.filter(program=program).exists():
        return 0
    made = 0
    for index, (n, membership) in enumerate(zip(range(100, 112), _airline_members(program)[8:20], strict=False)):
        try:
            [claim] = submit_flight_claim(
                membership=membership, ticket_number=ticket(n), coupon_numbers=[1], submitted_by=csr,
                note="Member called with the e-ticket receipt (demo).",
            )  # fmt: skip
        except ValidationError:
            continue
        made += 1
        # Spread over the last weeks, as a queue's history is: some pending claims are past the service level.
        submitted = timezone.now() - dt.timedelta(days=2 * index + 1, hours=index)
        FlightClaim.objects.filter(pk=claim.pk).update(submitted_at=submitted)
        claim.submitted_at = submitted
        if supervisor is not None and index % 3 == 0:
            claim = approve_flight_claim(claim=claim, by=supervisor, reason="E-ticket receipt checked (demo).")
        elif supervisor is not None and index % 3 == 1 and index > 6:
            claim = reject_flight_claim(
                claim=claim, by=supervisor, reason="The ticket is in another passenger's name (demo)."
            )
        else:
            continue
        # Decided in the past: the members were told then, so the demo's worker has no e-mail to send now.
        FlightClaim.objects.filter(pk=claim.pk).update(
            decided_at=submitted + dt.timedelta(days=1 + index % 4), notifications_sent=[claim.status]
        )
    return made
