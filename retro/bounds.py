"""The bounds every retro amount and date keeps, whether a claim states it or a feed imports it.

Returns are a different flow, so amounts are positive; a program's retro settings cap them
(RetroSettings.max_transaction_amount); dates are neither in the future, beyond a small clock
tolerance between the feed's clock and ours, nor before 1990.
"""

import datetime as dt
from decimal import Decimal

EARLIEST_DATE = dt.date(1990, 1, 1)
CLOCK_TOLERANCE = dt.timedelta(minutes=10)
# What the stored amount (14 digits, 2 decimals) can hold at all: beyond it a value is garbage, not an amount.
LARGEST_STORABLE = Decimal("999999999999.99")


def amount_problem(amount, *, max_amount):
    """Why `amount` (a Decimal) cannot be a retro transaction's amount, or None."""
    if amount <= 0:
        return "The amount must be more than zero (returns are not retro claims)."
    if amount > max_amount:
        return f"The amount {amount:,.2f} is above this program's maximum of {max_amount:,.2f}."
    return None


def date_problem(day, *, today):
    """Why `day` cannot be a transaction's date, seen on the program's `today`, or None."""
    if day < EARLIEST_DATE:
        return f"The date {day.isoformat()} is before {EARLIEST_DATE.year}: check the year."
    if day > today:
        return f"The date {day.isoformat()} is in the future."
    return None


def moment_problem(moment, *, now):
    """Why an aware datetime cannot be a transaction's time, or None (a few minutes ahead are the clocks)."""
    if moment > now + CLOCK_TOLERANCE:
        return f"The time {moment.isoformat(timespec='minutes')} is in the future."
    if moment.date() < EARLIEST_DATE:
        return f"The date {moment.date().isoformat()} is before {EARLIEST_DATE.year}: check the year."
    return None


def today_with_tolerance(program, now):
    """The latest program-local date a transaction may carry: today, or tomorrow in the last minutes of today."""
    return program.local_date(now + CLOCK_TOLERANCE)


def claim_date_limits(*, retro_settings, joined_on, today):
    """The earliest transaction dates a claim may have today: (by the age limit, by the enrolment date).

    A claim's transaction is at most max_transaction_age_days old, and no earlier than the member's
    enrolment less the program's buffer; submission refuses either with its own message, and the
    pool search lists only what lies inside both.
    """
    by_age = today - dt.timedelta(days=retro_settings.max_transaction_age_days)
    by_enrolment = joined_on - dt.timedelta(days=retro_settings.enrolment_buffer_days)
    return by_age, by_enrolment
