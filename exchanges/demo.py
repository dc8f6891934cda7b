"""Exchanges demo: the "Demo booking engine" partner client with a fixed token, award conversion ratios, redemptions
in every state on airline members, and cases in the manual-handling queue, all made through exchanges.services.

The token and the simulator's membership are fixed so that `manage.py simulate_booking_engine` (and the README)
can use them without looking anything up. They are for the demo only: a database seeded with it accepts
DEMO_TOKEN from anyone who has read the README. Like any API token it is stored hashed (knox's digest of this
text, loyalty.api_tokens.store_known_token) and expires after API_TOKEN_TTL_DAYS; each seed_demo renews it.
"""

from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction

from exchanges import services
from exchanges.corrections import LIFECYCLE as CORRECTIONS
from exchanges.models import AwardConversionRatio, FailedStep, PartnerClient, Redemption, RefundPolicy
from loyalty.api_tokens import store_known_token
from loyalty.demo.people import membership_number
from loyalty.demo.programs import AIRLINE, HOTEL, RETAIL
from loyalty.models import ApprovalLimit
from loyalty.selectors import active_memberships_of, membership_by_number
from loyalty.services import post_adjustment

PARTNER_NAME = "Demo booking engine"
PARTNER_USERNAME = "demo-booking-engine"
# Not random, as issued tokens are: this one says what it is wherever it shows up (logs, proxies).
DEMO_TOKEN = "demo-booking-engine-token-for-demos-only"
DEMO_PROGRAM, DEMO_MARKET = AIRLINE, "US"
# José Nuñez's SkyWay membership (demo member 2), topped up so the simulator can run many times.
DEMO_MEMBERSHIP = membership_number(AIRLINE, 2)
SIMULATOR_MILES = 500_000
TOP_UP_REFERENCE = "demo:booking-engine-simulator"

# program, market, currency, points per unit (redemption only), (points plus cash), minimum points per ticket
RATIOS = [
    (AIRLINE, "US", "USD", "100", "80", 2500),
    (AIRLINE, "CA", "CAD", "75", "60", 2500),
    (AIRLINE, "EU", "EUR", "110", "90", 2500),
    (AIRLINE, "GB", "GBP", "125", "100", 2500),
    (HOTEL, "FR", "EUR", "100", "80", 1000),
    (HOTEL, "CH", "CHF", "95", "75", 1000),
    (RETAIL, "CA", "CAD", "100", "80", 500),
]
# PNR, [(ticket number, miles)], cash part in USD, what happened next
BOOKINGS = [
    ("SWDM01", [("0575000000011", 2500), ("0575000000012", 2500)], "89.00", "captured"),
    ("SWDM02", [("0575000000021", 4000)], "0.00", "partly_refunded"),
    ("SWDM03", [("0575000000031", 2000), ("0575000000032", 2000)], "45.50", "refunded"),
    ("SWDM04", [("0575000000041", 3000)], "0.00", "released"),
]
# PNR, failed step, what the booking engine reported, taken and noted by the supervisor
CASES = [
    ("SWDM01", FailedStep.EMD_REASSOCIATION, "EMD 0575000000012 was not reassociated to the new ticket.", False),
    ("SWDM02", FailedStep.TICKETING, "VCR ticketing timed out after the points were refunded.", True),
]


def seed_exchanges(*, programs, anchor, log=print):
    """The partner, its token and the ratios always; the redemptions and cases once (none of the partner's yet)."""
    partner = _partner(programs)
    ratios = _ratios(programs)
    _policies(programs[AIRLINE])
    if Redemption.objects.filter(partner=partner).exists():
        return {"redemptions": 0, "manual_handling_cases": 0}
    with transaction.atomic():
        topped_up = _top_up_simulator_membership()
        redemptions = _bookings(partner, programs[AIRLINE])
        cases = _cases(partner, redemptions)
    log(
        f"  exchanges: partner {PARTNER_NAME!r} (token {DEMO_TOKEN}), {ratios} conversion ratios, "
        f"{len(redemptions)} redemptions, {cases} manual-handling cases"
        + (f"; {DEMO_MEMBERSHIP} was given {SIMULATOR_MILES:,} miles for the simulator" if topped_up else "")
    )
    return {"redemptions": len(redemptions), "manual_handling_cases": cases}


def _policies(program):
    """SkyWay's refund policy (miles valid 36 months, re-credited even when expired) and how far a supervisor
    corrects points alone: above 5,000, another person (an admin) approves."""
    RefundPolicy.objects.get_or_create(
        program=program, defaults={"points_validity_months": 36, "recredit_expired_points": True}
    )
    ApprovalLimit.objects.get_or_create(
        program=program, lifecycle=CORRECTIONS, role=Group.objects.get(name="Supervisor"),
        defaults={"max_value": 5000},
    )  # fmt: skip


def _partner(programs):
    user, created = User.objects.get_or_create(username=PARTNER_USERNAME, defaults={"first_name": PARTNER_NAME})
    if created:
        user.set_unusable_password()  # it signs in by its token only
        user.save(update_fields=["password"])
    partner, _ = PartnerClient.objects.get_or_create(name=PARTNER_NAME, defaults={"user": user})
    partner.programs.add(*programs.values())
    store_known_token(partner.user, DEMO_TOKEN)
    return partner


def _ratios(programs):
    for code, market, currency, redemption, mixed, minimum in RATIOS:
        AwardConversionRatio.objects.get_or_create(
            program=programs[code], market=market,
            defaults=dict(currency=currency, points_per_unit_redemption=Decimal(redemption),
                          points_per_unit_mixed=Decimal(mixed), minimum_points_per_ticket=minimum),
        )  # fmt: skip
    return len(RATIOS)


def _top_up_simulator_membership():
    membership = membership_by_number(DEMO_MEMBERSHIP)
    if membership is None:  # a demo of one member
        return False
    post_adjustment(
        membership=membership, points=SIMULATOR_MILES, reason="Demo: miles for the booking-engine simulator",
        source="demo", external_reference=TOP_UP_REFERENCE,
    )  # fmt: skip
    return True


def _payers(program, needs):
    """A different airline member for each booking when their miles allow, else the simulator's member."""
    candidates = [m for m in active_memberships_of(program)[:60] if m.membership_number != DEMO_MEMBERSHIP]
    fallback = membership_by_number(DEMO_MEMBERSHIP)
    available = {m.pk: services.available_points(m) for m in candidates}
    chosen = []
    for points in needs:
        payer = next((m for m in candidates if m not in chosen and available[m.pk] >= points), fallback)
        if payer is None or services.available_points(payer) < points:
            return None
        chosen.append(payer)
    return chosen


def _bookings(partner, program):
    payers = _payers(program, [sum(points for _, points in tickets) for _, tickets, _, _ in BOOKINGS])
    if payers is None:
        return {}
    by = partner.user
    redemptions = {}
    for (pnr, tickets, cash, fate), payer in zip(BOOKINGS, payers, strict=True):
        redemption = services.authorize(
            partner=partner, program=program, membership=payer, pnr=pnr, currency="USD",
            cash_amount=Decimal(cash), tickets=tickets, by=by,
        )  # fmt: skip
        if fate == "released":
            services.release(partner=partner, redemption_id=redemption.pk, by=by)
        else:
            services.capture(partner=partner, redemption_id=redemption.pk, by=by)
        if fate in ("partly_refunded", "refunded"):
            # An exchange to a cheaper fare gives back part of the miles; a cancellation all of them.
            points = tickets[0][1] * 3 // 8 if fate == "partly_refunded" else None
            services.refund(
                partner=partner, redemption_id=redemption.pk, membership_number=payer.membership_number,
                points=points, by=by,
            )  # fmt: skip
        redemptions[pnr] = redemption
    return redemptions


def _cases(partner, redemptions):
    supervisor = User.objects.filter(username="supervisor").first()
    opened = 0
    for pnr, step, detail, taken in CASES:
        if pnr not in redemptions:
            continue
        case = services.report_failure(partner=partner, redemption_id=redemptions[pnr].pk, step=step, detail=detail)
        opened += 1
        if taken and supervisor is not None:
            services.take_case(case=case, by=supervisor)
            services.add_case_note(case=case, text="Called the ticketing desk: reissue requested.", by=supervisor)
    return opened
