"""Resolving a manual-handling case with points: re-credit them to the paying member, or reverse a refund.

An agent proposes a correction on a case in progress. Within their role's approval limit for points
corrections (set per program in admin, lifecycle "exchange_correction") the decision service approves it
at once, the agent being maker and checker; above it, the correction waits on the Points corrections
queue for another person whose limit covers it, and the case stays in progress. Approval posts the points
through loyalty.services, moves the booking's refunded points, records the operation and resolves the case,
in one transaction. A re-credit is a refund made by the agent: it never exceeds what remains refundable.
"""

from django.db import transaction
from django.utils import timezone

from exchanges import services
from exchanges import sql as exchanges_sql
from exchanges.errors import BadRequest, ExchangeRefused
from exchanges.models import (
    REFUNDABLE,
    REFUNDED_ANY,
    CaseCorrection,
    CaseStatus,
    CorrectionStatus,
    ManualHandlingCase,
    PointsOperation,
)
from loyalty import selectors
from loyalty.lifecycle import transition
from loyalty.lifecycle.decisions import ApprovalPolicy, Decision, DecisionRefused, approval_limit, decide
from loyalty.models import Activity
from loyalty.services import post_activity

LIFECYCLE = "exchange_correction"
APPROVE = "exchanges.approve_casecorrection"
HANDLE = "exchanges.handle_manualhandlingcase"
Direction = CaseCorrection.Direction


def _done(correction):
    verb = "Re-credited" if correction.direction == Direction.RECREDIT else "Reversed"
    return f"{verb} {correction.points:,} points"


def _name(user):
    return user.get_full_name() or user.get_username()


class CorrectionApprovals(ApprovalPolicy):
    lifecycle = LIFECYCLE
    label = "Manual handling: points corrections"
    noun = "points correction"
    model = CaseCorrection
    waiting_since = "proposed_at"
    value_label = "points"
    decisions = {
        "approve": Decision(
            "approve", "Approve", "approved", (CorrectionStatus.PENDING,), APPROVE, checks_limit=True,
        ),
        "reject": Decision(
            "reject", "Reject", "rejected", (CorrectionStatus.PENDING,), APPROVE, reason_required=True,
            checks_maker=False,
        ),
    }  # fmt: skip

    def locking_queryset(self):
        return CaseCorrection.objects.select_for_update(of=("self",)).select_related("case", "proposed_by")

    def state_label(self, state):
        return {"pending": "waiting", "approved": "posted", "rejected": "rejected"}.get(state, state)

    def permission(self, decision, correction):
        # Within the agent's own limit, handling the case is enough: nobody else needs to look.
        return decision.permission if correction.needs_checker else HANDLE

    def maker_id(self, correction):
        return correction.proposed_by_id if correction.needs_checker else None

    def value(self, correction):
        return correction.points

    def program_id(self, correction):
        return correction.case.program_id

    def apply(self, correction, decision, *, by, reason, message):
        correction.decided_by, correction.decided_at = by, timezone.now()
        case = ManualHandlingCase.objects.select_for_update().get(pk=correction.case_id)
        if decision.name == "reject":
            transition(correction, "reject", by=by, reason=reason, fields=("decided_by", "decided_at"))
            services.add_case_note(case=case, by=by, text=f"{correction} rejected: {reason}")
            return
        if case.status != CaseStatus.IN_PROGRESS:
            raise DecisionRefused(f"{case} is {case.get_status_display().lower()}: its correction cannot post.")
        try:
            correction.operation = _post(correction, case, by=by)
        except ExchangeRefused as error:
            raise DecisionRefused(str(error), code=error.code) from error
        transition(correction, "approve", by=by, reason=reason, fields=("decided_by", "decided_at", "operation"))
        checked = f" (approved by {_name(by)})" if correction.needs_checker and by else ""
        case.closed_at = correction.decided_at
        text = f"{_done(correction)}{checked}: {correction.reason}"
        transition(case, "resolve", by=by, reason=text, fields=["closed_at"])
        services.add_case_note(case=case, by=by, text=text)


CORRECTION_APPROVALS = CorrectionApprovals()


def _post(correction, case, *, by):
    redemption, tickets = exchanges_sql.locked_with_tickets(redemption_id=case.redemption_id)
    if correction.direction == Direction.RECREDIT:
        if redemption.status not in REFUNDABLE:
            services.refuse_state(redemption, "re-credited")
        split = services.split_refund(tickets, ticket_numbers=None, points=correction.points)
        result = services.refund_locked(
            redemption, split, by=by, by_policy=False,
            description=f"Points re-credited for booking {redemption.pnr} · manual-handling case {case.pk}",
        )  # fmt: skip
        return result.operation
    return _reverse(redemption, tickets, correction, case, by=by)


def _reverse(redemption, tickets, correction, case, *, by):
    """Take back points refunded in error: a negative adjustment, the booking refundable again."""
    points = correction.points
    if redemption.status not in REFUNDED_ANY or points > redemption.points_refunded:
        raise BadRequest(
            f"Booking {redemption.pnr} had {redemption.points_refunded:,} points refunded: no more can be reversed.",
            code="over_reversal",
        )
    balance = selectors.award_balance(redemption.membership)
    if points > balance:
        raise BadRequest(
            f"Membership {redemption.membership.membership_number} has {balance:,} points: reversing {points:,} "
            "would leave a negative balance.",
            code="insufficient_points",
        )
    activity = post_activity(
        membership=redemption.membership, kind=Activity.Kind.ADJUSTMENT, source=services.SOURCE,
        occurred_on=redemption.program.local_date(timezone.now()),
        external_reference=f"case:{case.pk}:reversal:{correction.pk}", caused_by=by,
        description=f"Refund reversed for booking {redemption.pnr} · manual-handling case {case.pk}",
        entries={services.BUCKET: -points},
    )  # fmt: skip
    taken, left = {}, points
    for ticket in reversed(tickets):  # the last refunded first
        share = min(left, ticket.points_refunded)
        if share:
            ticket.points_refunded -= share
            ticket.save(update_fields=["points_refunded"])
            taken[ticket.ticket_number], left = share, left - share
    redemption.points_refunded -= points
    name = "reverse_all" if redemption.points_refunded == 0 else "reverse_part"
    transition(redemption, name, by=by, reason=correction.reason, fields=["points_refunded"])
    return services.record_operation(
        redemption, PointsOperation.Kind.REVERSAL, points, by=by, key="", activity=activity, tickets=taken
    )


def propose_correction(*, case, direction, points, reason, by):
    """Re-credit or reverse `points` to resolve `case`: posted at once within `by`'s approval limit, else left
    for a checker. Returns the correction. Raises BadRequest (or DecisionRefused) with a message for the agent."""
    reason = (reason or "").strip()
    if direction not in Direction.values:
        raise BadRequest("Choose re-credit or reverse.", code="bad_direction")
    if not isinstance(points, int) or points <= 0:
        raise BadRequest("Give the points as a whole number above zero.", code="bad_amount")
    if not reason:
        raise BadRequest("Say why the points are corrected.", code="reason_required")
    with transaction.atomic():
        case = ManualHandlingCase.objects.select_for_update().get(pk=getattr(case, "pk", case))
        if case.status != CaseStatus.IN_PROGRESS:
            raise BadRequest(f"{case} is {case.get_status_display().lower()}: take it first.", code="not_in_progress")
        if case.corrections.filter(status=CorrectionStatus.PENDING).exists():
            raise BadRequest(f"A points correction of {case} already waits for a checker.", code="correction_pending")
        limit = approval_limit(by, program_id=case.program_id, lifecycle=LIFECYCLE)
        correction = CaseCorrection.objects.create(
            case=case, direction=direction, points=points, reason=reason, proposed_by=by,
            proposed_at=timezone.now(), needs_checker=limit is not None and points > limit,
        )  # fmt: skip
        if correction.needs_checker:
            services.add_case_note(case=case, by=by, text=(
                f"{correction} proposed: above {_name(by)}'s approval limit of {limit:,.0f} points, it "
                f"waits for a checker. {reason}"))  # fmt: skip
            return correction
        return decide(CORRECTION_APPROVALS, correction, "approve", by=by)


def decide_correction(*, correction, decision, by, reason=""):
    """A checker approves or rejects a waiting correction (the decision service checks who may)."""
    return decide(CORRECTION_APPROVALS, correction, decision, by=by, reason=reason)
