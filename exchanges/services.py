"""Redeeming and refunding points for booking engines (seed 004): authorize, capture, release, refund (the fare
slider is exchanges.quotes), eligibility, and failures after the point of no return. Points move only through
loyalty.services."""

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from exchanges import eligibility
from exchanges import sql as exchanges_sql
from exchanges.errors import (
    BadAmount,
    BadRequest,
    InsufficientPoints,
    NotAllowed,
    NotOriginalPayer,
    OverRefund,
    WrongState,
)
from exchanges.models import (
    REFUNDABLE,
    CaseNote,
    CorrectionStatus,
    ManualHandlingCase,
    PointsOperation,
    Redemption,
    RedemptionStatus,
    RedemptionTicket,
    RefundPolicy,
)
from loyalty import idempotency, selectors, sql
from loyalty.dates import add_months
from loyalty.lifecycle import transition
from loyalty.models import Activity, Metric
from loyalty.services import activity_along, post_activity

SOURCE = "exchanges"
# Points are spent from, and refunded to, one award bucket: the spendable balance is the sum of the buckets.
BUCKET = Metric.BASE
# Namespace of the advisory lock that serialises holds on one membership (the first key of the pair).
HOLD_LOCK = 4004


def partner_write(service):
    """A booking engine's write: its own transaction, or, as the effect of an idempotency key, the key's
    transaction with no savepoint of its own (loyalty.idempotency.effect_savepoint)."""

    @functools.wraps(service)
    def write(*args, **kwargs):
        with transaction.atomic(savepoint=idempotency.effect_savepoint()):
            return service(*args, **kwargs)

    return write


@dataclass
class RefundResult:
    operation: PointsOperation
    redemption: Redemption
    points_refunded: int
    cash_amount: Decimal  # the other form of payment: the caller refunds it, not us
    points_expired: int = 0  # of the points refunded, those past their validity (refund policy)
    points_forfeited: int = 0  # of those, the ones not credited

    @property
    def points_credited(self):
        return self.points_refunded - self.points_forfeited


def check_program(partner, program):
    """NotAllowed unless the partner is active and may redeem in the program."""
    if not partner.active or not partner.programs.filter(pk=program.pk).exists():
        raise NotAllowed(f"{partner} may not redeem in the program {program}.")


def available_points(membership):
    """The award balance less the points held by authorized redemptions whose hold has not expired."""
    held = (
        Redemption.objects.filter(
            membership=membership, status=RedemptionStatus.AUTHORIZED, hold_expires_at__gt=timezone.now()
        )
        .order_by()
        .aggregate(total=Sum("points_held"))["total"]
    )
    return selectors.award_balance(membership) - (held or 0)


def _lock_holds(membership):
    # Two holds on one membership at once would both see the same available balance: one waits.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [HOLD_LOCK, membership.pk])


@partner_write
def authorize(*, partner, program, membership, pnr, currency, cash_amount, tickets, by=None, key=""):
    """Hold the tickets' points on the paying membership: they leave the available balance until captured
    or released. `tickets`: [(ticket number, points)]. Raises InsufficientPoints when the hold does not fit."""
    check_program(partner, program)
    if membership.program_id != program.pk:
        raise BadAmount(f"The membership {membership.membership_number} is not in {program}.")
    if cash_amount is None or cash_amount < 0:
        raise BadAmount("The cash part cannot be negative.")
    numbers = [number for number, _ in tickets]
    if not tickets or len(set(numbers)) != len(numbers):
        raise BadAmount("Give each ticket once, with its points.")
    if any(points <= 0 for _, points in tickets):
        raise BadAmount("Each ticket is paid with more than zero points.")
    points = sum(points for _, points in tickets)
    _lock_holds(membership)
    available = available_points(membership)
    if points > available:
        raise InsufficientPoints(f"The booking needs {points} points; {available} are available.")
    now = timezone.now()
    redemption = Redemption.objects.create(
        program=program, partner=partner, pnr=pnr, membership=membership, currency=currency,
        cash_amount=cash_amount, points_held=points, created_at=now,
        hold_expires_at=now + dt.timedelta(minutes=partner.hold_minutes),
    )  # fmt: skip
    RedemptionTicket.objects.bulk_create(
        RedemptionTicket(redemption=redemption, ticket_number=number, points=p) for number, p in tickets
    )
    record_operation(redemption, PointsOperation.Kind.AUTHORIZE, points, by=by, key=key, cash=cash_amount)
    return redemption


def partners_redemptions(partner):
    """The partner's bookings in the programs it may still use: another's, or one in a program it was taken
    off, is not found (PartnerClient: it may touch only its programs' bookings)."""
    return Redemption.objects.filter(partner=partner, program__in=partner.programs.values("pk"))


def _locked(partner, redemption_id):
    """The partner's redemption, row-locked; DoesNotExist for another partner's, one outside its programs, or none."""
    return (
        partners_redemptions(partner)
        .select_for_update(of=("self",))
        .select_related("membership", "program__refund_policy")
        .get(pk=redemption_id)
    )


def new_operation(redemption, kind, points, *, by, key, cash=None, tickets=None, activity=None, forfeited=0):
    """The operation, not saved yet."""
    return PointsOperation(
        redemption=redemption, partner_id=redemption.partner_id, kind=kind, points=points, cash_amount=cash,
        tickets=tickets or {}, activity=activity, points_forfeited=forfeited, idempotency_key=key or "",
        created_at=timezone.now(), created_by=by if getattr(by, "pk", None) else None,
    )  # fmt: skip


def record_operation(redemption, kind, points, **details):
    """The operation's row (new_operation's details)."""
    # Written on every partner call: one prepared INSERT (nothing listens for a PointsOperation's save).
    return sql.insert(new_operation(redemption, kind, points, **details))


def refuse_state(redemption, doing):
    raise WrongState(f"Redemption {redemption.pk} is {redemption.get_status_display().lower()}: it cannot be {doing}.")


@partner_write
def capture(*, partner, redemption_id, by=None, key=""):
    """Spend the held points: one redemption activity with negative award points, posted once."""
    redemption = _locked(partner, redemption_id)
    if redemption.status != RedemptionStatus.AUTHORIZED:
        refuse_state(redemption, "captured")
    now = timezone.now()
    if redemption.hold_expires_at <= now:
        # Its points went back to the available balance: they may have been spent meanwhile.
        raise WrongState(f"The hold of redemption {redemption.pk} expired: authorize again.", code="hold_expired")
    activity = post_activity(
        membership=redemption.membership, kind=Activity.Kind.REDEMPTION, source=SOURCE,
        occurred_on=redemption.program.local_date(now), external_reference=f"redemption:{redemption.pk}",
        amount=redemption.cash_amount, currency=redemption.currency, caused_by=_user(by),
        description=f"Booking {redemption.pnr} paid with points", entries={BUCKET: -redemption.points_held},
    )  # fmt: skip
    redemption.points_captured, redemption.captured_at, redemption.capture_activity = (
        redemption.points_held, now, activity,
    )  # fmt: skip
    transition(redemption, "capture", by=_user(by), fields=["points_captured", "captured_at", "capture_activity"])
    record_operation(
        redemption, PointsOperation.Kind.CAPTURE, redemption.points_held, by=by, key=key, activity=activity
    )
    return redemption


@partner_write
def release(*, partner, redemption_id, by=None, key=""):
    """Drop the hold: the points are available again and nothing is posted."""
    redemption = _locked(partner, redemption_id)
    if redemption.status != RedemptionStatus.AUTHORIZED:
        refuse_state(redemption, "released")
    transition(redemption, "release", by=_user(by))
    record_operation(redemption, PointsOperation.Kind.RELEASE, redemption.points_held, by=by, key=key)
    return redemption


def _user(by):
    return by if getattr(by, "pk", None) else None


def split_refund(tickets, *, ticket_numbers, points):
    """{ticket: points refunded now}: the named tickets' remaining points, or `points` spread over the tickets
    in order, or (neither) everything that remains."""
    by_number = {t.ticket_number: t for t in tickets}
    if ticket_numbers:
        unknown = [n for n in ticket_numbers if n not in by_number]
        if unknown:
            raise BadAmount(f"No ticket {', '.join(unknown)} in this redemption.", code="unknown_ticket")
        if len(set(ticket_numbers)) != len(ticket_numbers):
            raise BadAmount("Name each ticket once.")
        split = {by_number[n]: by_number[n].points_refundable for n in ticket_numbers}
        if points is not None and points != sum(split.values()):
            raise BadAmount("Give tickets or an amount of points, not both.")
        done = [t.ticket_number for t, p in split.items() if p == 0]
        if done:
            raise OverRefund(f"Ticket {', '.join(done)} is already fully refunded.")
        return split
    remaining = sum(t.points_refundable for t in tickets)
    if points is None:
        points = remaining
    if points <= 0 and remaining > 0:
        raise BadAmount("A refund is of more than zero points.")
    if points > remaining or remaining == 0:
        raise OverRefund(f"{points} points asked; {remaining} remain refundable.")
    split = {}
    for ticket in tickets:
        share = min(points, ticket.points_refundable)
        if share:
            split[ticket] = share
            points -= share
    return split


@partner_write
def refund(*, partner, redemption_id, membership_number, ticket_numbers=None, points=None, by=None, key=""):
    """Give points back to the original paying membership: in full, by ticket, or an amount.

    `membership_number` is the member the booking engine acts for (the logged-in passenger): only the
    original payer may be refunded (NotOriginalPayer). Never beyond what was captured minus what was
    refunded: the row lock here and the redemption's check constraints both hold it. The cash part of a
    mixed payment is the caller's to refund; the result says how much it was.
    """
    redemption, tickets = exchanges_sql.locked_with_tickets(partner=partner, redemption_id=redemption_id)
    if membership_number != redemption.membership.membership_number:
        raise NotOriginalPayer(
            f"Membership {membership_number} did not pay for booking {redemption.pnr}: only the original payer's "
            "points are refunded."
        )
    if redemption.status == RedemptionStatus.REFUNDED:
        raise OverRefund(f"Booking {redemption.pnr}'s points are already all refunded.")
    if redemption.status not in REFUNDABLE:
        refuse_state(redemption, "refunded")
    redemption.ticket_list = tickets  # updated in place below: the answer shows them without reading them again
    split = split_refund(tickets, ticket_numbers=ticket_numbers, points=points)
    return refund_locked(redemption, split, by=by, key=key, description=f"Points refunded for booking {redemption.pnr}")


def expired_part(redemption, points, *, today):
    """(points past their validity, points forfeited) of a refund of `points`, by the program's refund policy.

    All of a redemption's points were spent at its capture, so they share one validity date.
    """
    try:
        policy = redemption.program.refund_policy  # read with the redemption
    except RefundPolicy.DoesNotExist:
        policy = None
    if policy is None or not policy.points_validity_months or redemption.captured_at is None:
        return 0, 0
    spent_on = redemption.program.local_date(redemption.captured_at)
    if today < add_months(spent_on, policy.points_validity_months):
        return 0, 0
    return points, (0 if policy.recredit_expired_points else points)


def refund_locked(redemption, split, *, by, key="", description, by_policy=True):
    """Return `split` ({ticket: points}) of a locked redemption to its payer: the refund activity, the
    tickets' and the redemption's refunded points, the state, and the operation, together.

    `by_policy`: expired points follow the refund policy (an agent's re-credit credits what they decided).
    """
    amount = sum(split.values())
    if amount > redemption.points_refundable:
        raise OverRefund(f"{amount} points asked; {redemption.points_refundable} remain refundable.")
    now = timezone.now()
    expired, forfeited = 0, 0
    if by_policy:
        expired, forfeited = expired_part(redemption, amount, today=redemption.program.local_date(now))
    activity, posted = None, []
    reference = f"redemption:{redemption.pk}:{redemption.refund_count + 1}"  # this refund's number
    if amount > forfeited:
        posting = activity_along(
            membership=redemption.membership, kind=Activity.Kind.REFUND, source=SOURCE,
            occurred_on=redemption.program.local_date(now), external_reference=reference,
            caused_by=_user(by), description=description, entries={BUCKET: amount - forfeited},
            attributes={"points_expired": str(expired)} if expired else None,
        )  # fmt: skip
        activity, posted = posting.activity, posting.writes
    for ticket, share in split.items():
        ticket.points_refunded += share
    redemption.points_refunded += amount
    redemption.refund_count += 1
    name = "refund_rest" if redemption.points_refundable == 0 else "refund_part"
    operation = new_operation(
        redemption, PointsOperation.Kind.REFUND, amount, by=by, key=key, activity=activity,
        tickets={t.ticket_number: share for t, share in split.items()}, forfeited=forfeited,
    )  # fmt: skip
    # The booking's state, the refund activity with its entries, the tickets' refunded points and the
    # operation (its activity the one posted here): one statement, one round trip.
    recorded = sql.insert_along(operation, {"activity": posting.id_sql} if posted else None)
    transition(redemption, name, by=_user(by), fields=["points_refunded", "refund_count"],
               along=[*posted, exchanges_sql.points_refunded_update(split), recorded])  # fmt: skip
    if activity is not None:
        operation.activity = activity  # its id known now
    return RefundResult(operation, redemption, amount, redemption.cash_amount, expired, forfeited)


def check_eligibility(*, state):
    """(eligible, [(code, message)]): may the award exchange proceed online (seed 004's limitations)?"""
    codes = eligibility.refusal_codes(state)
    return not codes, [(code, eligibility.REASONS[code]) for code in codes]


@partner_write
def report_failure(*, partner, redemption_id, step, detail="", by=None):
    """A soft failure after the point of no return: a manual-handling case for an agent, never silence."""
    redemption = _locked(partner, redemption_id)
    return ManualHandlingCase.objects.create(
        program=redemption.program, redemption=redemption, partner=partner, failed_step=step, detail=detail,
        opened_at=timezone.now(),
    )  # fmt: skip


@transaction.atomic
def add_case_note(*, case, text, by):
    """Add the next numbered note to a case."""
    if not (text or "").strip():
        raise BadRequest("Write the note.", code="empty_note")
    locked = ManualHandlingCase.objects.select_for_update().get(pk=case.pk)
    last = locked.notes.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    return CaseNote.objects.create(case=locked, sequence=last + 1, author=by, created_at=timezone.now(), text=text)


@transaction.atomic
def take_case(*, case, by):
    case = ManualHandlingCase.objects.select_for_update().get(pk=case.pk)
    case.assigned_to = by
    return transition(case, "take", by=by, fields=["assigned_to"])


@transaction.atomic
def close_case(*, case, by, outcome, reason):
    """Resolve (in progress) or cancel (with its reason) a case; the reason is kept as a note and in the log."""
    if outcome not in {"resolve", "cancel"}:
        raise BadRequest("A case is resolved or cancelled.")
    if not (reason or "").strip():
        raise BadRequest("Give the reason.", code="reason_required")
    case = ManualHandlingCase.objects.select_for_update().get(pk=case.pk)
    if case.corrections.filter(status=CorrectionStatus.PENDING).exists():
        raise BadRequest(
            f"A points correction of {case} waits for a checker: it is decided first.", code="correction_pending"
        )
    case.closed_at = timezone.now()
    transition(case, outcome, by=by, reason=reason, fields=["closed_at"])
    add_case_note(case=case, text=reason, by=by)
    return case
