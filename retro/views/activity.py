"""Retro Claim Activity (program-wide, seed 001): filters, sortable grid, CSV export, claim detail, decisions."""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from loyalty.lifecycle.decisions import refusal_for
from retro import services
from retro.decisions import RETRO_CLAIM_APPROVALS
from retro.filters import RetroClaimFilter
from retro.forms import RetroClaimDecisionForm
from retro.models import RetroClaimStatus
from retro.selectors import retro_claim_history, retro_claims_visible_to
from retro.views._common import claim_points, key_rows, paginate, query_without_page, staff_screen

SORT_COLUMNS = [("Claim", "number"), ("Submitted", "submitted"), ("Status", "status"), ("Member", "member")]


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
    claim_filter = RetroClaimFilter(request.GET or None, queryset=retro_claims_visible_to(request.user))
    page = paginate(request, claim_filter.qs)
    export_query = query_without_page(request)
    context = {
        "filter": claim_filter,
        "page": page,
        "query": export_query,
        "sort_headers": _sort_headers(request),
        "pending_status": RetroClaimStatus.PENDING_APPROVAL,
    }
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, "retro/partials/claim_grid.html", context)
    return render(request, "retro/claim_activity.html", context)


class _Echo:
    """A write-only file for csv.writer: each row goes straight into the streaming response."""

    def write(self, value):
        return value


def _cell(value):
    # Spreadsheets run text starting with these as formulas; a leading quote keeps it text.
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


EXPORT_HEADER = [
    "claim", "program", "member_number", "member_name", "membership_number", "channel", "status",
    "transaction_type", "transaction_date", "key_values", "submitted_at", "submitted_by",
    "matched_transaction", "points", "failure_reason", "attempts", "resolved_at",
]  # fmt: skip


def _export_rows(claims):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_HEADER)
    for claim in claims.iterator(chunk_size=2000):
        member = claim.membership.member
        keys = "; ".join(f"{name}={value}" for name, value in (claim.key_values or {}).items())
        row = [
            claim.number, claim.program.code, member.member_number, member.full_name,
            claim.membership.membership_number, claim.get_channel_display(), claim.get_status_display(),
            claim.transaction_type, claim.transaction_date.isoformat(), keys, claim.submitted_at.isoformat(),
            claim.submitted_by.username if claim.submitted_by else "",
            claim.matched_transaction.source_id if claim.matched_transaction else "",
            claim_points(claim) if claim.activity_id else "", claim.failure_reason, claim.attempt_count,
            claim.resolved_at.isoformat() if claim.resolved_at else "",
        ]  # fmt: skip
        yield writer.writerow([_cell(value) for value in row])


@staff_screen("retro.view_retroclaim")
def retro_claim_export(request):
    """The filtered list as CSV, streamed so a large export never sits in memory."""
    claim_filter = RetroClaimFilter(request.GET or None, queryset=retro_claims_visible_to(request.user))
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_export_rows(claim_filter.qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retro-claims-{stamp}.csv"'
    return response


@staff_screen("retro.view_retroclaim")
def retro_claim_detail(request, number):
    claim = get_object_or_404(retro_claims_visible_to(request.user), number=number)
    user = request.user
    context = {
        "claim": claim,
        "key_rows": key_rows(claim),
        "history": retro_claim_history(claim),
        "points": claim_points(claim),
        "can_approve": user.has_perm("retro.approve_retroclaim") and claim.status == RetroClaimStatus.PENDING_APPROVAL,
        "can_reverse": user.has_perm("retro.reverse_retroclaim") and claim.status == RetroClaimStatus.MATCHED,
        # Said up front rather than after a click: the user's own submission, or above their approval limit.
        "approve_refusal": refusal_for(RETRO_CLAIM_APPROVALS, "approve", claim, user),
        "decision_form": RetroClaimDecisionForm(),
    }
    return render(request, "retro/claim_detail.html", context)


def _decide(request, number, *, action, reason_required, done):
    """Run a supervisor's decision through the service; its refusals come back as messages, never a 500."""
    claim = get_object_or_404(retro_claims_visible_to(request.user), number=number)
    form = RetroClaimDecisionForm(request.POST, reason_required=reason_required)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect("retro-claim-detail", number=claim.number)
    try:
        getattr(services, action)(claim=claim, by=request.user, reason=form.cleaned_data["reason"])
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
    return _decide(request, number, action="reject_retro_claim", reason_required=True, done="rejected")


@staff_screen("retro.reverse_retroclaim")
@require_POST
def retro_claim_reverse(request, number):
    return _decide(request, number, action="reverse_retro_claim", reason_required=True, done="reversed")
