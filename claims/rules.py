"""The rules a claim's values must meet: the stay claim window and a limited adjustment's thresholds (seed 002)."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError

from claims.models import ClaimSettings, RecordType
from claims.models.adjustments import THRESHOLDS
from claims.models.claims import ADJUSTMENT_FIELDS, ADJUSTMENT_PARTS
from loyalty.dates import add_months


def claim_settings(program) -> ClaimSettings:
    """The program's claim settings, created with the defaults the first time they are needed."""
    found, _ = ClaimSettings.objects.get_or_create(program=program)
    return found


def stay_claim_window(settings, departure):
    """(first, last) day a stay that ended on `departure` may be claimed."""
    first = departure + dt.timedelta(days=settings.stay_claim_after_days)
    return first, add_months(departure, settings.stay_claim_months)


def check_stay_claim(settings, *, arrival, departure, today):
    """Field errors of a STAY claim's dates: both are needed, and today must fall in the claim window."""
    errors = {}
    if departure is None:
        errors["departure_date"] = "A stay claim needs the departure date."
    if arrival is None:
        errors["arrival_date"] = "A stay claim needs the arrival date."
    if errors:
        return errors
    first, last = stay_claim_window(settings, departure)
    if today < first:
        errors["departure_date"] = (
            f"A stay that ended on {departure:%d %b %Y} can be claimed from {first:%d %b %Y}: the property's "
            f"records take {settings.stay_claim_after_days} days to arrive."
        )
    elif today > last:
        errors["departure_date"] = (
            f"A stay that ended on {departure:%d %b %Y} could be claimed until {last:%d %b %Y} "
            f"({settings.stay_claim_months} months after departure)."
        )
    return errors


def _label(name):
    return name.replace("_", " ")


def _fmt(value, kind):
    return f"{value:,.2f}" if kind == "revenue" else f"{value:,}"


def check_adjustment(code, values):
    """Complete a limited adjustment's values and check them: returns the values, or raises field errors.

    An empty part counts as 0 and an empty total is its parts' sum; a total that was given must equal
    them. Every value must fall within the code's thresholds (seed 002: the claim cannot be saved until
    it does), and an adjustment must change something.
    """
    errors = {}
    values = dict(values)
    if code is None:
        raise ValidationError({"adjustment_code": "Choose the adjustment code: it is the adjustment's reason."})
    if not code.active:
        errors["adjustment_code"] = f"Adjustment code {code.code} is no longer in use."
    filled = set()  # totals the CSR left empty: their parts' errors say it, the total need not repeat it
    for total, parts in ADJUSTMENT_PARTS.items():
        zero = Decimal(0) if total == "total_revenue" else 0
        for part in parts:
            if values.get(part) is None:
                values[part] = zero
        added = sum((values[part] for part in parts), zero)
        if values.get(total) is None:
            values[total] = added
            filled.add(total)
        elif values[total] != added:
            errors[total] = (
                f"The {_label(total)} ({_fmt(values[total], 'revenue' if zero else 'points')}) must equal "
                f"{' + '.join(_label(p) for p in parts)} ({_fmt(added, 'revenue' if zero else 'points')})."
            )
    for kind, names in THRESHOLDS.items():
        lower, upper = code.range_of(kind)
        for name in names:
            value = values[name]
            parts_refused = name in filled and any(part in errors for part in ADJUSTMENT_PARTS[name])
            if name not in errors and not parts_refused and not lower <= value <= upper:
                errors[name] = (
                    f"The {_label(name)} must be between {_fmt(lower, kind)} and {_fmt(upper, kind)} "
                    f"for adjustment code {code.code}; {_fmt(value, kind)} is outside."
                )
    if not errors and not any(values[name] for name in ADJUSTMENT_FIELDS):
        errors["total_points"] = "An adjustment must change at least one balance."
    if errors:
        raise ValidationError(errors)
    return values


def adjustment_values(claim):
    return {name: getattr(claim, name) for name in ADJUSTMENT_FIELDS}


def is_adjustment(record_type):
    return record_type == RecordType.LIMITED_ADJUSTMENT
