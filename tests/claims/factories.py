"""Builders for membership claims tests: a hotel program with a property, codes, members, claims and stays."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from claims import services
from claims.models import AdjustmentCode, ClaimSettings, ClaimType, RecordType, Stay, StayStatus
from loyalty.models import Location, Program
from tests.factories import LocationFactory, MembershipFactory, ProgramFactory
from tests.loyalty._builders import fixed, rule_set

D = dt.date


def hotel_program():
    program = ProgramFactory(code="maison", name="Maison Rewards", kind=Program.Kind.HOTEL, time_zone="UTC")
    ClaimSettings.objects.get_or_create(program=program)
    return program


def hotel(program, code="PAR-OPERA"):
    return LocationFactory(program=program, code=code, name=f"Maison {code}", kind=Location.Kind.HOTEL)


EARNING_SINCE = D(2020, 1, 1)


def earning(program, points=100, since=EARNING_SINCE):
    """A rule set from `since` on that gives every stay `points` base points."""
    return rule_set(program, "Stays", since, None, [fixed(points, name=f"Stay {points}")])


def code(program, name="GOODWILL", points=(-1000, 5000), stays=(0, 2), nights=(0, 10), revenue=(0, 2000)):
    return AdjustmentCode.objects.create(
        program=program, code=name, description=name.title(), lower_points=points[0], upper_points=points[1],
        lower_stays=stays[0], upper_stays=stays[1], lower_nights=nights[0], upper_nights=nights[1],
        lower_revenue=Decimal(revenue[0]), upper_revenue=Decimal(revenue[1]),
    )  # fmt: skip


def claim_type(code="STAY"):
    return ClaimType.objects.get(code=code)


def stay_values(program, *, days_ago=20, **overrides):
    departure = timezone.localdate() - dt.timedelta(days=days_ago)
    values = {
        "caller_name": "Zoë Lefèvre", "claim_type": claim_type("STAY"), "record_type": RecordType.STAY,
        "hotel": hotel(program), "property_reservation_number": "PAR123456", "central_reservation_number": "MR999",
        "arrival_date": departure - dt.timedelta(days=2), "departure_date": departure,
    }  # fmt: skip
    values.update(overrides)
    return values


def adjustment_values(adjustment_code, **values):
    return {"claim_type": claim_type("GOODWILL"), "record_type": RecordType.LIMITED_ADJUSTMENT,
            "adjustment_code": adjustment_code, **values}  # fmt: skip


def open_stay_claim(membership, by, **overrides):
    return services.open_claim(membership=membership, by=by, values=stay_values(membership.program, **overrides))


def membership_in(program, **kwargs):
    return MembershipFactory(program=program, **kwargs)


def stay(program, *, membership=None, status=StayStatus.CHECKED_OUT, departure=None, nights=2, number="R1", **kw):
    departure = departure or timezone.localdate() - dt.timedelta(days=10)
    return Stay.objects.create(
        program=program, hotel=kw.pop("hotel", None) or hotel(program), property_reservation_number=number,
        arrival_date=departure - dt.timedelta(days=nights), departure_date=departure, status=status,
        room_revenue=kw.pop("room_revenue", Decimal("300.00")), currency="EUR",
        card_number=membership.membership_number if membership else "", membership=membership,
        imported_at=timezone.now(), **kw,
    )  # fmt: skip
