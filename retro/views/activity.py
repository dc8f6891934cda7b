"""Retro Claim Activity (program-wide, seed 001): filters, sortable grid, CSV export, claim detail, decisions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from loyalty.lifecycle.decisions import refusal_for
from loyalty.pagination import CappedPaginator, serial_plans
from loyalty.spreadsheets import csv_lines
from retro import services
from retro.decisions import RETRO_CLAIM_APPROVALS
from retro.filters import RetroClaimFilter
from retro.forms import RetroClaimDecisionForm
from retro.models import RetroClaimStatus
from retro.selectors import (
    location_name,
    retro_claim_history,
    retro_claims_in_scope,
    retro_claims_visible_to,
    with_points_and_reversals,
)
from retro.views._common import (
    PAGE_SIZE,
    claim_outcome,
    claim_points,
    key_rows,
    query_without_page,
    staff_screen,
    transaction_heading,
)

# What a grid row shows (claim_grid.html): a page reads these columns alone, not the claims' JSON.
GRID_COLUMNS = [
    "number", "submitted_at", "status", "channel", "transaction_date", "failure_reason", "activity_id",
    "program__name", "program__time_zone", "membership__membership_number", "membership__member__member_number",
    "membership__member__first_name", "membership__member__last_name",
]  # fmt: skip
SORT_COLUMNS = [("Claim", "number"), ("Submitted", "submitted"), ("Status", "status"), ("Member", "member")]
# Claims counted at most ("5,000+") and, when no more match, sorted on their own rather than found
# by walking a sort's index (loyalty.pagination): a pending queue, a new program, a few days.
COUNT_CAP = 5000


def _sort_headers(request):
    """Column headers that sort the grid, keeping the filters; a second click reverses the order."""
    current = request.GET.get("sort", "")
    headers = {}
    for label, key in SORT_COLUMNS:
        query = request.GET.copy()
        query.pop("page", None)
        query["sort"] = f"-{key}" if current == key else key
        arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
        headers[key] = {"label": label, "key": key, "query": query.urlencode(), "arrow": arrow}
    return headers


@staff_screen("retro.view_retroclaim")
def retro_claim_activity(request):
    in_scope = retro_claims_in_scope(request.user)
    claim_filter = RetroClaimFilter(request.GET or None, queryset=in_scope)
    claims = claim_filter.qs
    # The count reads at most 5,001 claims ("5,000+"); a page's ids come from the filters and the sort
    # alone, then its 20 rows by id with only the relations the grid shows (see CappedPaginator),
    # then their points and reversals.
    rows = in_scope.select_related("program", "membership__member").only(*GRID_COLUMNS)
    paginator = CappedPaginator(
        claims, PAGE_SIZE, cap=COUNT_CAP, rows=rows, narrow=not claim_filter.sorted_by_filter_index
    )
    with serial_plans():
        page = paginator.get_page(request.GET.get("page"))
        with_points_and_reversals(page.object_list)
    export_query = query_without_page(request)
    context = {
        "filter": claim_filter,
        "page": page,
        "query": export_query,
        "sort_headers": _sort_headers(request),
    }
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, "retro/partials/claim_grid.html", context)
    return render(request, "retro/claim_activity.html", context)


EXPORT_HEADER = [
    "claim", "program", "member_number", "member_name", "membership_number", "channel", "status",
    "transaction_type", "transaction_date", "key_values", "submitted_at", "submitted_by",
    "matched_transaction", "points", "failure_reason", "attempts", "resolved_at",
]  # fmt: skip


def _export_rows(claims):
    for claim in claims.iterator(chunk_size=2000):
        member = claim.membership.member
        keys = "; ".join(f"{name}={value}" for name, value in (claim.key_values or {}).items())
        row = [
            claim.number, claim.program.code, member.member_number, member.full_name,
            claim.membership.membership_number, claim.get_channel_display(), claim.get_status_display(),
            claim.transaction_type, claim.transaction_date.isoformat(), keys, claim.submitted_at.isoformat(),
            claim.submitted_by.username if claim.submitted_by else "",
            claim.matched_transaction.source_id if claim.matched_transaction else "",
            _export_points(claim), claim.failure_reason, claim.attempt_count,
            claim.resolved_at.isoformat() if claim.resolved_at else "",
        ]  # fmt: skip
        yield row


def _export_points(claim):
    # A reversed claim's points were taken back: it nets to 0 (the status column says Reversed).
    if claim.status == RetroClaimStatus.REVERSED:
        return 0
    return claim_points(claim) if claim.activity_id else ""


@staff_screen("retro.view_retroclaim")
def retro_claim_export(request):
    """The filtered list as CSV, streamed so a large export never sits in memory.

    Filters that cannot be read export no claim (the header alone), as the screen lists none.
    """
    claim_filter = RetroClaimFilter(request.GET or None, queryset=retro_claims_visible_to(request.user))
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    rows = csv_lines(EXPORT_HEADER, _export_rows(claim_filter.qs))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retro-claims-{stamp}.csv"'
    return response


@staff_screen("retro.view_retroclaim")
def retro_claim_detail(request, number):
    claim = get_object_or_404(retro_claims_visible_to(request.user), number=number)
    user = request.user
    history = retro_claim_history(claim)
    txn = claim.matched_transaction
    can_approve = user.has_perm("retro.approve_retroclaim") and claim.status == RetroClaimStatus.PENDING_APPROVAL
    # Said once, up front, with the button it concerns disabled: the user's own submission, or above their limit.
    approve_refusal = refusal_for(RETRO_CLAIM_APPROVALS, "approve", claim, user) if can_approve else None
    reject_refusal = refusal_for(RETRO_CLAIM_APPROVALS, "reject", claim, user) if can_approve else None
    context = {
        "claim": claim,
        "key_rows": key_rows(claim),
        "history": history,
        "points": claim_points(claim),
        "outcome": claim_outcome(claim, list(history)),  # fills the queryset's cache: the page reads it once
        "transaction_heading": transaction_heading(claim),
        "transaction_location": location_name(claim.program_id, txn.location_code) if txn else "",
        "can_approve": can_approve,
        "can_reverse": user.has_perm("retro.reverse_retroclaim") and claim.status == RetroClaimStatus.MATCHED,
        "can_withdraw": user.has_perm("retro.withdraw_retroclaim") and claim.status == RetroClaimStatus.OUTSTANDING,
        "approve_refusal": approve_refusal,
        "reject_refusal": reject_refusal,
        "decision_refusal": approve_refusal or reject_refusal,
        # One form per decision, each with its own ids: approving needs no reason, the others do.
        "approve_form": RetroClaimDecisionForm(reason_required=False, auto_id="approve_%s"),
        "reject_form": RetroClaimDecisionForm(auto_id="reject_%s"),
        "reverse_form": RetroClaimDecisionForm(auto_id="reverse_%s"),
        "withdraw_form": RetroClaimDecisionForm(auto_id="withdraw_%s"),
    }
    return render(request, "retro/claim_detail.html", context)


def _decide(request, number, *, action, reason_required, done, tells_member=False):
    """Run a decision through the service; its refusals come back as messages, never a 500.

    tells_member: the decision takes the optional message to the member (rejection, reversal).
    """
    claim = get_object_or_404(retro_claims_visible_to(request.user), number=number)
    form = RetroClaimDecisionForm(request.POST, reason_required=reason_required)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("retro-claim-detail", number=claim.number)
    extra = {"member_message": form.cleaned_data["member_message"]} if tells_member else {}
    try:
        getattr(services, action)(claim=claim, by=request.user, reason=form.cleaned_data["reason"], **extra)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Claim {claim.number} {done}.")
    return redirect("retro-claim-detail", number=claim.number)


@staff_screen("retro.approve_retroclaim")
@require_POST
def retro_claim_approve(request, number):
    return _decide(request, number, action="approve_retro_claim", reason_required=False, done="approved")


@staff_screen("retro.approve_retroclaim")
@require_POST
def retro_claim_reject(request, number):
    return _decide(
        request, number, action="reject_retro_claim", reason_required=True, done="rejected", tells_member=True
    )


@staff_screen("retro.reverse_retroclaim")
@require_POST
def retro_claim_reverse(request, number):
    return _decide(
        request, number, action="reverse_retro_claim", reason_required=True, done="reversed", tells_member=True
    )


@staff_screen("retro.withdraw_retroclaim")
@require_POST
def retro_claim_withdraw(request, number):
    return _decide(request, number, action="withdraw_retro_claim", reason_required=True, done="withdrawn")
