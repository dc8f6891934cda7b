"""The fare slider (seed 004): the points/cash combinations a booking engine offers for a cash fare."""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from exchanges import services
from exchanges.errors import BadAmount, NoRatio
from exchanges.models import AwardConversionRatio

CENT = Decimal("0.01")
SLIDER_STEPS = 5


@dataclass
class FareOption:
    points: int
    cash: Decimal
    redemption_only: bool


def quote(*, partner, program, market, cash_fare, tickets=1):
    """The fare slider: points/cash combinations for a cash fare, at the program and market's ratios.

    Points-plus-cash positions use the mixed ratio from the minimum points upward; the last option pays
    the whole fare with points at the redemption-only ratio.
    """
    services.check_program(partner, program)
    if cash_fare is None or cash_fare <= 0:
        raise BadAmount("The cash fare must be more than zero.")
    if tickets < 1:
        raise BadAmount("A quote is for one ticket or more.")
    ratio = AwardConversionRatio.objects.filter(program=program, market=market).first()
    if ratio is None:
        raise NoRatio(f"No conversion ratio is set for {program} in the market {market!r}.")
    minimum = ratio.minimum_points_per_ticket * tickets
    full_mixed = math.ceil(cash_fare * ratio.points_per_unit_mixed)
    options = []
    if full_mixed > minimum:
        for step in range(SLIDER_STEPS):
            points = minimum + (full_mixed - minimum) * step // SLIDER_STEPS
            if points <= 0:
                continue
            cash = (cash_fare - Decimal(points) / ratio.points_per_unit_mixed).quantize(CENT, ROUND_HALF_UP)
            if cash > 0 and all(o.points != points for o in options):
                options.append(FareOption(points, cash, False))
    full = max(math.ceil(cash_fare * ratio.points_per_unit_redemption), minimum)
    options.append(FareOption(full, Decimal("0.00"), True))
    return ratio, options
