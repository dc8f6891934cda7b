"""Retro approvals: the supervisors' queue of Pending Approval claims, on the shared decision queue."""

from loyalty.lifecycle.queue import DecisionQueueView
from retro.decisions import RETRO_CLAIM_APPROVALS
from retro.filters import RetroApprovalFilter
from retro.selectors import retro_claims_pending_approval


class RetroApprovalQueue(DecisionQueueView):
    policy = RETRO_CLAIM_APPROVALS
    permission_required = "retro.approve_retroclaim"
    title = "Retro approvals"
    intro = (
        "Retro claims whose matched transaction earns more than the program's auto-approve cap. Approving posts "
        "the points, valued on the transaction's own date; rejecting returns the transaction to the pool. You "
        "cannot decide claims you submitted, nor approve above your role's limit for the program."
    )
    filterset_class = RetroApprovalFilter
    # What the approver decides on: the transaction (date, location, reference), its amount and its points.
    columns = ["Claim", "Submitted", "By", "Member", "Program", "Transaction", "Amount", "Est. points"]
    numeric_columns = ("Amount", "Est. points")
    row_template = "retro/partials/approval_row.html"

    def pending(self):
        return retro_claims_pending_approval(self.request.user)
