"""Stays: attach or replace a card, estimate points, and the daily calculation (seed 002's All Trx).

A checked-out stay with a card is calculated once, a program's delay after check-out (at least 3
days, so the property can still correct it), valued point-in-time on its departure date: the rule
set in force and the member's tier then. Calculated, it only changes by adjustments.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from claims.models import ClaimSettings, Stay, StayException, StayStatus
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty_services
from loyalty import valuation
from loyalty.eligibility import NON_EARNING_STATUSES, earning_refusal
from loyalty.models import Activity, Program

logger = logging.getLogger(__name__)
SOURCE = "stay"
BATCH_SIZE = 2000
DEFAULT_DELAY = ClaimSettings._meta.get_field("calculation_delay_days").default


def stay_attributes(stay):
    return {
        "nights": stay.nights,
        "property": stay.hotel.code if stay.hotel_id else "",
        "property_reservation_number": stay.property_reservation_number,
        "central_reservation_number": stay.central_reservation_number,
    }


def calculation_date(stay, delay_days):
    return stay.departure_date + dt.timedelta(days=delay_days)


@transaction.atomic
def attach_card(*, stay, membership_number, by) -> Stay:
    """Seed 002's Options: attach a card to a CHECKED OUT stay, or replace the wrong one, before calculation.

    The stay then calculates on schedule, once; its card exception, if any, is resolved.
    """
    stay = Stay.objects.select_for_update(of=("self",)).select_related("program").get(pk=stay.pk)
    if stay.status != StayStatus.CHECKED_OUT:
        raise ValidationError(f"Only a CHECKED OUT stay takes a card; this one is {stay.get_status_display()}.")
    if stay.activity_id:
        raise ValidationError("This stay's points are calculated: only an adjustment can change them now.")
    number = (membership_number or "").strip()
    membership = loyalty_selectors.membership_by_number(number) if number else None
    if membership is None:
        raise ValidationError({"membership_number": f"No membership has the number “{number}”."})
    if membership.program_id != stay.program_id:
        raise ValidationError({"membership_number": f"Membership {number} is not in {stay.program}."})
    stay.membership = membership
    stay.card_number = membership.membership_number
    stay.card_attached_by = by
    stay.card_attached_at = timezone.now()
    stay.exception, stay.exception_detail = StayException.NONE, ""
    stay.save(update_fields=["membership", "card_number", "card_attached_by", "card_attached_at", "exception",
                             "exception_detail"])  # fmt: skip
    return stay


@dataclass
class StayEstimate:
    """Seed 002's Est. Points (today's rules) beside what will really post (the departure date's)."""

    today_points: int | None
    today_date: dt.date
    today_problem: str = ""
    posting_points: int | None = None
    posting_date: dt.date | None = None
    posting_problem: str = ""
    posting_tier: str = ""


def estimate_stay(stay) -> StayEstimate:
    membership = stay.membership
    kwargs = {"kind": Activity.Kind.STAY, "amount": stay.room_revenue, "attributes": stay_attributes(stay),
              "location": stay.hotel}  # fmt: skip
    today = membership.program.local_date(timezone.now())
    estimate = StayEstimate(today_points=None, today_date=today, posting_date=stay.departure_date)
    try:
        estimate.today_points = valuation.estimate_points(membership=membership, **kwargs).points
    except ValidationError as error:
        estimate.today_problem = " ".join(error.messages)
    try:
        valued = valuation.value_activity(membership=membership, occurred_on=stay.departure_date, **kwargs)
        estimate.posting_points = valued.points
        estimate.posting_tier = valued.tier.name if valued.tier else "No tier"
    except ValidationError as error:
        estimate.posting_problem = " ".join(error.messages)
    return estimate


@dataclass
class CalculationRun:
    calculated: int = 0
    failed: int = 0
    by_program: dict = field(default_factory=dict)

    def __str__(self):
        return f"{self.calculated} stays calculated, {self.failed} failed"


def calculate_due_stays(*, today=None, batch_size=BATCH_SIZE) -> CalculationRun:
    """Calculate every stay whose delay has passed: batches of `batch_size`, each its own transaction.

    Safe to run twice or in two workers at once: a batch locks its stays (SKIP LOCKED: another worker
    takes the next ones) and each activity's reference is its stay, so none is credited twice.
    """
    run = CalculationRun()
    delays = dict(ClaimSettings.objects.values_list("program_id", "calculation_delay_days"))
    for program in Program.objects.order_by("pk"):
        local_today = today or program.local_date(timezone.now())
        last_departure = local_today - dt.timedelta(days=delays.get(program.pk, DEFAULT_DELAY))
        while True:
            done, failed = _calculate_batch(program, last_departure, batch_size)
            run.calculated += done
            run.failed += failed
            if done or failed:
                run.by_program[program.code] = run.by_program.get(program.code, 0) + done
            if done + failed < batch_size:
                break
    return run


def _due(program, last_departure):
    # A flagged stay (another member's card, a failed calculation) waits for a CSR: attaching the right
    # card, or retrying, clears its exception and it is calculated on the next run.
    return Stay.objects.filter(
        program=program, status=StayStatus.CHECKED_OUT, activity__isnull=True, membership__isnull=False,
        departure_date__lte=last_departure, exception=StayException.NONE,
    )  # fmt: skip


@transaction.atomic
def _calculate_batch(program, last_departure, batch_size):
    stays = list(
        _due(program, last_departure)
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("membership__member", "hotel")
        .order_by("departure_date", "id")[:batch_size]
    )
    if not stays:
        return 0, 0
    now = timezone.now()
    failures = {}
    requests, requested = [], []
    for stay in stays:
        stay.membership.program = program  # one shared Program for the batch, as the daily pass does
        if stay.membership.member.status in NON_EARNING_STATUSES:
            failures[stay.pk] = earning_refusal(stay.membership.member)
            continue
        requested.append(stay)
        requests.append(
            loyalty_services.ActivityRequest(
                membership=stay.membership, kind=Activity.Kind.STAY, source=SOURCE, occurred_on=stay.departure_date,
                external_reference=f"stay:{stay.pk}", amount=stay.room_revenue, currency=stay.currency,
                location=stay.hotel, attributes=stay_attributes(stay),
                description=f"Stay {stay.hotel.code} {stay.property_reservation_number}",
            )
        )  # fmt: skip
    credited = {}
    for stay, result in zip(requested, loyalty_services.post_activities(requests=requests), strict=True):
        if isinstance(result, Exception):
            failures[stay.pk] = " ".join(getattr(result, "messages", [str(result)]))
        else:
            credited[stay.pk] = result.pk
    if credited:
        _record_calculated(credited, now)
    for pk, reason in failures.items():
        Stay.objects.filter(pk=pk).update(
            exception=StayException.CALCULATION_FAILED, exception_detail=(reason or "")[:200]
        )
    return len(credited), len(failures)


def _record_calculated(credited, now):
    """One statement for the batch: each stay keeps its activity and when it was calculated."""
    table = Stay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET activity_id = c.activity_id, calculated_at = %s "  # noqa: S608 - our table name
            "FROM unnest(%s::bigint[], %s::bigint[]) AS c(stay_id, activity_id) WHERE s.id = c.stay_id",
            [now, list(credited), list(credited.values())],
        )


def retry_failed_stay(*, stay, by) -> Stay:
    """Put a stay whose calculation failed back in the queue (e.g. once the missing rule set exists)."""
    updated = Stay.objects.filter(pk=stay.pk, exception=StayException.CALCULATION_FAILED, activity__isnull=True)
    if not updated.update(exception=StayException.NONE, exception_detail=""):
        raise ValidationError("This stay is not waiting after a failed calculation.")
    stay.refresh_from_db()
    return stay
