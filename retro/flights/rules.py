"""When a flight may be claimed for a member: each refusal in words a CSR can read out to the member."""

import calendar
import datetime as dt

from loyalty.eligibility import earning_refusal
from retro.models import FlightClaim, FlightClaimStatus, FlightSettings
from retro.models.flights import TICKET_DIGITS


def ticket_number_error(value):
    """Why this is not a ticket number (13 digits: airline code + serial), or None."""
    digits = (value or "").replace(" ", "").replace("-", "")
    if not digits:
        return "Enter the ticket number."
    if not digits.isdigit():
        return "A ticket number has digits only (13: the 3-digit airline code and 10 more)."
    if len(digits) != TICKET_DIGITS:
        return f"A ticket number has 13 digits (the 3-digit airline code and 10 more); this one has {len(digits)}."
    return None


def clean_ticket_number(value):
    return (value or "").replace(" ", "").replace("-", "")


def months_before(day, months):
    """The same day of the month `months` earlier (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def settings_for(program):
    return FlightSettings.objects.get_or_create(program=program)[0]


def member_refusal(membership):
    return earning_refusal(membership.member)


def coupon_refusals(coupon, *, membership, settings, today):
    """Why this coupon (a Flight, or a manual entry's details) cannot be claimed for the member: [] when it can.

    `coupon` has ticket_number, coupon_number, flight_date and, for a Flight, flown.
    """
    label = f"Coupon {coupon.ticket_number}/{coupon.coupon_number}"
    refusals = []
    prefixes = settings.accepted_prefixes()
    if prefixes and coupon.ticket_number[:3] not in prefixes:
        refusals.append(
            f"{label} was issued by airline {coupon.ticket_number[:3]}, which is neither this program's airline nor "
            "one of its partners."
        )
    if not getattr(coupon, "flown", True):
        refusals.append(f"{label} was not flown (the airline's feed says so): only flown coupons earn.")
    claimable_from = coupon.flight_date + dt.timedelta(days=settings.wait_days)
    if today < claimable_from:
        refusals.append(
            f"{label} is too recent: the airline's feed needs {settings.wait_days} days, so it can be claimed from "
            f"{claimable_from:%Y-%m-%d}."
        )
    oldest = months_before(today, settings.claim_window_months)
    if coupon.flight_date < oldest:
        refusals.append(
            f"{label} was flown on {coupon.flight_date:%Y-%m-%d}, more than {settings.claim_window_months} months ago: "
            f"flights can be claimed back to {oldest:%Y-%m-%d}."
        )
    earliest = membership.joined_on - dt.timedelta(days=settings.enrolment_buffer_days)
    if coupon.flight_date < earliest:
        refusals.append(
            f"{label} was flown on {coupon.flight_date:%Y-%m-%d}, before the member joined on "
            f"{membership.joined_on:%Y-%m-%d}."
        )
    taken = (
        FlightClaim.objects.filter(
            ticket_number=coupon.ticket_number,
            coupon_number=coupon.coupon_number,
            status__in=[FlightClaimStatus.APPROVED, FlightClaimStatus.PENDING],
        )
        .order_by("-status")
        .first()
    )
    if taken is not None and taken.status == FlightClaimStatus.APPROVED:
        refusals.append(f"{label} has already been credited (claim {taken.number}).")
    elif taken is not None:
        refusals.append(f"{label} already has a claim waiting for approval (claim {taken.number}).")
    return refusals
