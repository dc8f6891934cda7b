"""Writes of retro flight claims: claim coupons of a ticket for a member, or enter a flight by hand.

Every claim waits in the Flights Approval queue (seed 000): submission checks the coupon, compares
the passenger name, values the miles on the flight date and records the claim; approval posts.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.models import Activity
from loyalty.valuation import estimate_points
from retro.flights import rules
from retro.flights.names import check_passenger_name
from retro.models import Flight, FlightClaim, NameMatch
from retro.models.flights import MAX_COUPONS

NUMBER_PREFIX = "FC"


def claim_number(pk):
    return f"{NUMBER_PREFIX}{pk:08d}"


def find_coupons(*, ticket_number):
    """The feed's coupons of a ticket, in coupon order ([] for an unknown ticket)."""
    return list(Flight.objects.filter(ticket_number=rules.clean_ticket_number(ticket_number)).order_by("coupon_number"))


def name_check_for(flight, membership):
    member = membership.member
    return check_passenger_name(flight.passenger_name, member.first_name, member.last_name)


def flight_attributes(coupon):
    """What valuation reads of a flight (distance, booking class, cabin) and what the activity records."""
    return {
        "distance": coupon.distance,
        "booking_class": coupon.booking_class,
        "cabin": coupon.cabin,
        "origin": coupon.origin,
        "destination": coupon.destination,
        "flight_number": coupon.flight_number,
        "ticket_number": coupon.ticket_number,
        "coupon_number": coupon.coupon_number,
    }


def estimated_miles(membership, coupon):
    """The miles approval would post: the flight date's rules and the member's tier on that date (seed 003)."""
    valuation = estimate_points(
        membership=membership, kind=Activity.Kind.FLIGHT, attributes=flight_attributes(coupon), as_of=coupon.flight_date
    )
    return int(valuation.points)


def submit_flight_claim(*, membership, ticket_number, coupon_numbers, submitted_by, channel="csr", note=""):
    """Claim coupons of one ticket for the member: one Pending claim per coupon; all or none.

    Raises ValidationError listing every reason a coupon cannot be claimed.
    """
    ticket_number = rules.clean_ticket_number(ticket_number)
    error = rules.ticket_number_error(ticket_number)
    if error:
        raise ValidationError({"ticket_number": error})
    wanted = sorted({int(n) for n in coupon_numbers})
    if not wanted:
        raise ValidationError({"coupons": "Select the coupon(s) to claim."})
    if len(wanted) > MAX_COUPONS:
        raise ValidationError({"coupons": f"A ticket has at most {MAX_COUPONS} coupons."})
    with transaction.atomic():
        # Locked: two CSRs claiming one coupon at once queue one claim; the other is told it waits already.
        flights = list(
            Flight.objects.select_for_update()
            .filter(ticket_number=ticket_number, coupon_number__in=wanted)
            .order_by("coupon_number")
        )
        missing = sorted(set(wanted) - {f.coupon_number for f in flights})
        if missing:
            raise ValidationError(
                f"No flight found for ticket {ticket_number} coupon {', '.join(map(str, missing))}; check the number "
                "and search again."
            )
        return _record(
            membership,
            flights,
            submitted_by=submitted_by,
            channel=channel,
            note=note,
            name_check=lambda flight: name_check_for(flight, membership),
        )


def add_manual_flight(*, membership, coupon, submitted_by, note=""):
    """A flight the feed does not have, typed by a CSR (seed 000's Add Flight Activity): always reviewed.

    `coupon` carries the Flight fields (ticket_number, coupon_number, operating_carrier, flight_number,
    flight_date, origin, destination, cabin, booking_class, distance): an unsaved Flight.
    """
    error = rules.ticket_number_error(coupon.ticket_number)
    if error:
        raise ValidationError({"ticket_number": error})
    if not (note or "").strip():
        raise ValidationError({"note": "Say where the flight's details come from (boarding pass, e-ticket…)."})
    if Flight.objects.filter(ticket_number=coupon.ticket_number, coupon_number=coupon.coupon_number).exists():
        raise ValidationError(
            f"Coupon {coupon.ticket_number}/{coupon.coupon_number} is in the airline's feed: claim it with "
            "More > Retro Claim > Airline instead, so its name is checked."
        )
    with transaction.atomic():
        return _record(membership, [coupon], submitted_by=submitted_by, channel="csr", note=note, name_check=None)[0]


def _record(membership, coupons, *, submitted_by, channel, note, name_check):
    refusal = rules.member_refusal(membership)
    settings = rules.settings_for(membership.program)
    today = membership.program.local_date(timezone.now())
    refusals = [refusal] if refusal else []
    for coupon in coupons:
        refusals += rules.coupon_refusals(coupon, membership=membership, settings=settings, today=today)
    if refusals:
        raise ValidationError(refusals)
    submission, now, claims = uuid.uuid4(), timezone.now(), []
    for coupon in coupons:
        check = name_check(coupon) if name_check else None
        claim = FlightClaim(
            number=f"new-{uuid.uuid4().hex[:16]}",  # replaced by FC + id once the id is known
            program=membership.program,
            membership=membership,
            flight=coupon if coupon.pk else None,
            manual_entry=coupon.pk is None,
            submission=submission,
            channel=channel,
            submitted_by=submitted_by,
            submitted_at=now,
            ticket_number=coupon.ticket_number,
            coupon_number=coupon.coupon_number,
            carrier=coupon.operating_carrier,
            flight_number=coupon.flight_number,
            flight_date=coupon.flight_date,
            origin=coupon.origin,
            destination=coupon.destination,
            cabin=coupon.cabin,
            booking_class=coupon.booking_class,
            distance=coupon.distance,
            passenger_name=coupon.passenger_name or "",
            name_match=check.result if check else NameMatch.MANUAL,
            name_score=check.score if check else 0,
            name_message=check.message if check else "Entered by hand: there is no coupon name to compare.",
            estimated_miles=estimated_miles(membership, coupon),
            valued_on=coupon.flight_date,
            note=(note or "").strip(),
        )
        try:
            with transaction.atomic():
                claim.save()
        except IntegrityError:
            # The coupon's claim was queued by someone else between the check and this insert.
            raise ValidationError(
                f"Coupon {claim.coupon} already has a claim waiting for approval; it was submitted just now."
            )
        claim.number = claim_number(claim.pk)
        FlightClaim.objects.filter(pk=claim.pk).update(number=claim.number)
        claims.append(claim)
    return claims
