"""A year of demo flights, stays and purchases, posted through loyalty.services like any real feed."""

import dataclasses
import datetime as dt
from decimal import Decimal

from loyalty.demo.programs import AIRLINE, AIRPORTS, BOOKING_CLASSES, HOTEL, HOTELS, HUBS, STORES, flight_miles
from loyalty.models import Activity
from loyalty.services import ActivityRequest, post_activities

# Feeds that would send these in real life; with the reference they make each posting idempotent.
SOURCES = {AIRLINE: "dcs", HOTEL: "pms"}
RETAIL_SOURCE = "pos"
CENT = Decimal("0.01")
HOTEL_RATES = {code: rate for code, _, _, _, rate in HOTELS}


def plan_activities(rng, plan, anchor, activity_days):
    """[(program code, membership number, request fields)] for one member, oldest first per membership."""
    result = []
    first_day = anchor - dt.timedelta(days=activity_days)
    for m in plan.memberships:
        start = max(first_day, m.joined_on)
        days = (anchor - start).days
        if days <= 0 or plan.status == "closed":
            continue
        rank = m.tier_changes[-1][0]
        if m.program_code == AIRLINE:
            count = rng.randint(0, 3 + 2 * rank)
            make = _flight
        elif m.program_code == HOTEL:
            count = rng.randint(0, 2 + rank)
            make = _stay
        else:
            count = rng.randint(1, 6 + 2 * rank)
            make = _purchase
        dates = sorted(start + dt.timedelta(days=rng.randrange(days)) for _ in range(count))
        for seq, day in enumerate(dates, start=1):
            fields = make(rng, rank)
            fields.update(occurred_on=day, external_reference=f"{m.number}-{seq:03d}")
            result.append((m.program_code, m.number, fields))
    return result


def _flight(rng, rank):
    origin = rng.choice(HUBS)
    destination = rng.choice([code for code in AIRPORTS if code != origin])
    if rng.random() < 0.5:
        origin, destination = destination, origin
    cabin = rng.choices(list(BOOKING_CLASSES), weights=[80 - 8 * rank, 8, 10 + 6 * rank, 2 + rank])[0]
    booking_class = rng.choice(BOOKING_CLASSES[cabin])
    distance = flight_miles(origin, destination)
    fare = (
        Decimal(distance)
        * Decimal(str(rng.uniform(0.08, 0.22)))
        * {"economy": 1, "premium": 2, "business": 4, "first": 6}[cabin]
    )
    return dict(
        kind=Activity.Kind.FLIGHT,
        source=SOURCES[AIRLINE],
        amount=max(fare, Decimal(59)).quantize(CENT),
        currency="USD",
        location_code=origin,
        attributes={
            "flight_number": f"SW {rng.randint(100, 2999)}",
            "origin": origin,
            "destination": destination,
            "distance": distance,
            "cabin": cabin,
            "booking_class": booking_class,
            "ticket_number": f"016{rng.randrange(10**10):010d}",
            "coupon": 1,
        },
        hour=rng.randint(6, 22),
    )


def _stay(rng, rank):
    code = rng.choice(list(HOTEL_RATES))
    nights = rng.choices([1, 2, 3, 4, 5, 7], weights=[30, 30, 18, 10, 8, 4])[0]
    rate = Decimal(HOTEL_RATES[code]) * Decimal(str(rng.uniform(0.8, 1.3)))
    return dict(
        kind=Activity.Kind.STAY,
        source=SOURCES[HOTEL],
        amount=(rate * nights).quantize(CENT),
        currency="EUR",
        location_code=code,
        attributes={
            "nights": nights,
            "folio": f"F{rng.randrange(10**7):07d}",
            "room_type": rng.choice(["Classique", "Supérieure", "Deluxe", "Suite"][: 2 + rank // 2]),
        },
        hour=rng.randint(9, 12),
    )


def _purchase(rng, rank):
    code = rng.choice(STORES)[0]
    amount = Decimal(str(min(rng.lognormvariate(3.6, 0.7), 900))).quantize(CENT)
    return dict(
        kind=Activity.Kind.PURCHASE,
        source=RETAIL_SOURCE,
        amount=max(amount, Decimal("10.00")),  # at least one point at 10 %
        currency="CAD",
        location_code=code,
        attributes={"receipt": f"{code}-{rng.randrange(10**6):06d}", "register_id": f"R{rng.randint(1, 8)}"},
        hour=rng.randint(8, 21),
    )


def build_requests(planned, memberships_by_number, locations, programs):
    """loyalty.services.ActivityRequest objects for planned activities (fields the service knows only)."""
    accepted = {f.name for f in dataclasses.fields(ActivityRequest)}
    requests = []
    for program_code, number, fields in planned:
        fields = dict(fields)
        program = programs[program_code]
        location = locations[(program_code, fields.pop("location_code"))]
        hour = fields.pop("hour")
        local = dt.datetime.combine(fields["occurred_on"], dt.time(hour, 15 * (hour % 4)), tzinfo=program.tz)
        values = dict(fields, membership=memberships_by_number[number], location=location, occurred_at=local)
        requests.append(ActivityRequest(**{k: v for k, v in values.items() if k in accepted}))
    return requests


def post_in_batches(requests, batch_size=2000):
    """Post through the one door for points; returns (activities posted now, reasons of refused items)."""
    posted, refused = 0, []
    for start in range(0, len(requests), batch_size):
        for result in post_activities(requests=requests[start : start + batch_size]):
            if isinstance(result, Exception):
                refused.append("; ".join(getattr(result, "messages", [str(result)])))
            elif getattr(result, "just_posted", False):
                posted += 1
    return posted, refused
