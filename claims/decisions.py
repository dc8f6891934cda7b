"""Approve or reject a membership claim, or a bulk adjustment file, on the shared decision service.

A claim's Approve/Reject (seed 002) is its own lifecycle beside its status. Approving a limited
adjustment posts its points and tier values through loyalty.services, once: the maker never
approves it, the approver's role limit caps one claim, and the role's daily cap what one person
approves per day, claims and files together.
"""

from django.db.models import Sum
from django.db.models.functions import Abs
from django.utils import timezone

from claims.models import (
    AdjustmentBatch,
    AdjustmentBatchStatus,
    ClaimDecision,
    ClaimStatus,
    MembershipClaim,
    RecordType,
)
from claims.models.adjustments import AdjustmentLine
from loyalty import services as loyalty_services
from loyalty.eligibility import earning_refusal
from loyalty.lifecycle import transition
from loyalty.lifecycle.decisions import ApprovalPolicy, Decision, DecisionRefused
from loyalty.models import Activity, Metric

SOURCE = "membership_claim"
BULK_SOURCE = "bulk_adjustment"
EDIT = "claims.change_membershipclaim"
N = ClaimDecision


def adjustment_entries(values):
    """Ledger quantities of an adjustment: award points by bucket, then the tier totals."""
    entries = {
        Metric.BASE: values.get("base_points"),
        Metric.BONUS: values.get("bonus_points"),
        Metric.MISC: values.get("misc_points"),
        Metric.STAYS: values.get("total_stays"),
        Metric.NIGHTS: values.get("total_nights"),
        Metric.REVENUE: values.get("total_revenue"),
    }
    return {str(metric): quantity for metric, quantity in entries.items() if quantity}


def adjusted_today_by(user, *, program_id, since):
    """Award points `user` approved in adjustments since `since`: single claims and bulk files together."""
    claims = MembershipClaim.objects.filter(
        program_id=program_id, decided_by=user, decision=N.APPROVED, decided_at__gte=since,
        record_type=RecordType.LIMITED_ADJUSTMENT,
    ).aggregate(points=Sum(Abs("total_points")))["points"] or 0  # fmt: skip
    files = (
        AdjustmentBatch.objects.filter(
            program_id=program_id, decided_by=user, status=AdjustmentBatchStatus.APPROVED, decided_at__gte=since
        ).aggregate(points=Sum("points_value"))["points"]
        or 0
    )
    return claims + files


class MembershipClaimApprovals(ApprovalPolicy):
    lifecycle = "membership_claim"
    label = "Membership claims: limited adjustments"
    noun = "claim"
    model = MembershipClaim
    value_label = "points"
    waiting_since = "created_at"
    decisions = {
        "approve": Decision("approve", "Approve", "approved", (N.NONE,), EDIT, checks_limit=True),
        "reject": Decision("reject", "Reject", "rejected", (N.NONE,), EDIT, checks_maker=False),
    }

    def locking_queryset(self):
        return MembershipClaim.objects.select_for_update(of=("self",)).select_related(
            "program", "membership__member", "membership__program", "adjustment_code"
        )

    def pending(self):
        # Only a limited adjustment waits for a supervisor; other cases are decided by whoever works them.
        return MembershipClaim.objects.filter(decision=N.NONE, record_type=RecordType.LIMITED_ADJUSTMENT).exclude(
            status=ClaimStatus.CLOSED
        )

    def state_of(self, claim):
        return claim.decision

    def state_label(self, state):
        return {N.NONE: "undecided", N.APPROVED: "approved", N.REJECTED: "rejected"}.get(state, state)

    def permission(self, decision, claim):
        # Approving points is more than editing a case: a limited adjustment needs its own right.
        if decision.name == "approve" and claim.is_adjustment:
            return "claims.approve_limited_adjustment"
        return decision.permission

    def maker_id(self, claim):
        # Maker/checker guards what posts points; approving a stay or card case posts nothing.
        return claim.submitted_by_id if claim.is_adjustment else None

    def value(self, claim):
        return abs(claim.total_points or 0) if claim.is_adjustment else 0

    def approved_since(self, user, *, program_id, since):
        return adjusted_today_by(user, program_id=program_id, since=since)

    def apply(self, claim, decision, *, by, reason, message):
        claim.decided_at = timezone.now()
        claim.decided_by = by
        if decision.name == "approve" and claim.is_adjustment:
            claim.activity = self._post(claim, by=by)
        transition(claim, decision.name, by=by, reason=reason, fields=("decided_at", "decided_by", "activity"))

    def _post(self, claim, *, by):
        refusal = earning_refusal(claim.membership.member)
        if refusal:
            raise DecisionRefused(f"{refusal} Reject the claim instead.", code="cannot_earn")
        code = claim.adjustment_code
        values = {name: getattr(claim, name) for name in (
            "base_points", "bonus_points", "misc_points", "total_stays", "total_nights", "total_revenue")}  # fmt: skip
        return loyalty_services.post_activity(
            membership=claim.membership,
            kind=Activity.Kind.ADJUSTMENT,
            source=SOURCE,
            occurred_on=claim.program.local_date(timezone.now()),
            external_reference=f"claim:{claim.pk}",
            caused_by=by,
            description=f"Limited adjustment {code.code} · claim {claim.pk}",
            entries=adjustment_entries(values),
            attributes={
                "adjustment_code": code.code,
                **{
                    name: str(getattr(claim, name))
                    for name in (
                        "base_stays",
                        "bonus_stays",
                        "base_nights",
                        "bonus_nights",
                        "base_revenue",
                        "bonus_revenue",
                    )
                },
            },  # fmt: skip
        )


class AdjustmentBatchApprovals(ApprovalPolicy):
    lifecycle = "adjustment_batch"
    label = "Bulk adjustment files"
    noun = "adjustment file"
    model = AdjustmentBatch
    waiting_since = "submitted_at"
    value_label = "points"
    decisions = {
        "approve": Decision(
            "approve", "Approve", "approved", (AdjustmentBatchStatus.PENDING,), "claims.approve_adjustmentbatch",
            checks_limit=True,
        ),
        "reject": Decision(
            "reject", "Reject", "rejected", (AdjustmentBatchStatus.PENDING,), "claims.approve_adjustmentbatch",
            reason_required=True,
        ),
    }  # fmt: skip

    def locking_queryset(self):
        return AdjustmentBatch.objects.select_for_update(of=("self",)).select_related("program", "import_batch")

    def maker_id(self, batch):
        return batch.submitted_by_id

    def value(self, batch):
        return batch.points_value

    def approved_since(self, user, *, program_id, since):
        return adjusted_today_by(user, program_id=program_id, since=since)

    def apply(self, batch, decision, *, by, reason, message):
        batch.decided_at = timezone.now()
        batch.decided_by = by
        batch.reason = reason
        if decision.name == "approve":
            self._post_lines(batch, by=by)
        transition(batch, decision.name, by=by, reason=reason, fields=("decided_at", "decided_by", "reason"))

    def _post_lines(self, batch, *, by):
        """Post every line once: its activity's reference is the line, and the line keeps the activity."""
        lines = AdjustmentLine.objects.filter(batch=batch, activity__isnull=True).select_related(
            "membership__member", "membership__program", "adjustment_code"
        )
        today = batch.program.local_date(timezone.now())
        for line in lines.order_by("row"):
            refusal = earning_refusal(line.membership.member)
            if refusal:
                raise DecisionRefused(f"Row {line.row}: {refusal} Reject the file and send it again without it.")
            line.activity = loyalty_services.post_activity(
                membership=line.membership,
                kind=Activity.Kind.ADJUSTMENT,
                source=BULK_SOURCE,
                occurred_on=today,
                external_reference=f"line:{line.pk}",
                caused_by=by,
                description=f"{line.adjustment_code.code}: {line.reason}"[:200],
                entries=adjustment_entries(
                    {
                        name: getattr(line, name)
                        for name in (
                            "base_points",
                            "bonus_points",
                            "misc_points",
                            "total_stays",
                            "total_nights",
                            "total_revenue",
                        )
                    }
                ),  # fmt: skip
                attributes={"adjustment_code": line.adjustment_code.code, "file": batch.pk, "row": line.row},
            )
            line.save(update_fields=["activity"])


MEMBERSHIP_CLAIM_APPROVALS = MembershipClaimApprovals()
ADJUSTMENT_BATCH_APPROVALS = AdjustmentBatchApprovals()
