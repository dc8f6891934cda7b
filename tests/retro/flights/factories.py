"""An airline program that values flights by distance × booking class and a tier bonus; feed coupons."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from loyalty.models import EarningRule, EarningRuleSet, Program
from retro.models import Flight, FlightSettings
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory, TierFactory, TierPeriodFactory


def airline():
    """Sky Miles: 1 mile per mile flown (× 2 in J), gold members +50 %; ticket prefix 057, partner 016."""
    program = ProgramFactory(code="sky", name="Sky Miles", kind=Program.Kind.AIRLINE, currency_name="Miles")
    FlightSettings.objects.get_or_create(program=program, defaults={"airline_code": "057", "partner_codes": "016"})
    TierFactory(program=program, code="blue", name="Blue", rank=1)
    gold = TierFactory(program=program, code="gold", name="Gold", rank=2)
    if not program.rule_sets.exists():
        rules = EarningRuleSet.objects.create(program=program, name="Miles", valid_from=dt.date(2020, 1, 1))
        EarningRule.objects.create(
            rule_set=rules, name="Distance", activity_kind="flight", calculation=EarningRule.Calculation.DISTANCE,
            class_multipliers={"J": 2, "Y": 1},
        )  # fmt: skip
        EarningRule.objects.create(
            rule_set=rules, name="Gold bonus", activity_kind="flight", tier=gold,
            calculation=EarningRule.Calculation.PERCENT_OF_BASE, rate=Decimal("50"),
        )  # fmt: skip
    return program


def traveller(program, first_name="John", last_name="Smith", tier=None, **member_fields):
    membership = MembershipFactory(
        program=program, member=MemberFactory(first_name=first_name, last_name=last_name, **member_fields)
    )
    if tier:
        TierPeriodFactory(membership=membership, tier=program.tiers.get(code=tier))
    return membership


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


class FlightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flight

    program = factory.LazyFunction(airline)
    ticket_number = factory.Sequence(lambda n: f"057{n:010d}")
    coupon_number = 1
    pnr = "ABC123"
    operating_carrier = "SW"
    marketing_carrier = "SW"
    flight_number = "101"
    flight_date = factory.LazyFunction(lambda: days_ago(20))
    origin = "JFK"
    destination = "LHR"
    cabin = "Economy"
    booking_class = "Y"
    passenger_name = "SMITH/JOHN MR"
    distance = 3451
    flown = True
