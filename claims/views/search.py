"""Membership Claims: search with Main and Advanced criteria, the sortable grid, CSV export (seed 002)."""

from html import escape

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from claims.filters import SORTS, ClaimSearch
from claims.grid import attach_lookups, claims_by_id, grid_rows
from claims.models import ClaimStatus
from claims.selectors import CLAIM_RELATIONS, claims_visible_to
from claims.views._common import claims_screen, query_without_page
from loyalty.pagination import CappedPaginator, serial_plans
from loyalty.spreadsheets import csv_lines

PAGE_SIZE = 25
COUNT_CAP = 1000
SORT_LABELS = {"number": "Claim", "claim_date": "Claim date", "reply_by": "Reply by", "status": "Status",
               "arrival": "Arrival", "departure": "Departure"}  # fmt: skip


def _sort_headers(request, current):
    """Each sortable column's <th>, its link sorting by it (the other way when it is the current sort)."""
    query = request.GET.copy()
    query.pop("page", None)
    headers = {}
    for key in SORTS:
        query["sort"] = f"-{key}" if current == key else key
        arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
        link = escape(f"?{query.urlencode()}")
        headers[key] = mark_safe(  # noqa: S308 - the link and the label escaped
            f'<th><a href="{link}" hx-get="{link}" hx-target="#claim-grid" hx-swap="outerHTML" hx-push-url="true" '
            f'class="text-decoration-none">{escape(SORT_LABELS[key])}{arrow}</a></th>'
        )
    return headers


def flag_reply_by(claims, today):
    for claim in claims:
        due = claim.reply_by is not None and claim.status != ClaimStatus.CLOSED
        claim.overdue = due and claim.reply_by < today
        claim.due_today = due and claim.reply_by == today
    return claims


@claims_screen
def claim_search(request):
    search = ClaimSearch(request.GET or None, queryset=claims_visible_to(request.user))
    page = None
    if search.has_criteria() or request.GET.get("all"):
        with serial_plans():  # the ids come from search.qs, already limited to the claims the user may see
            page = CappedPaginator(search.qs, PAGE_SIZE, cap=COUNT_CAP, rows=claims_by_id).get_page(
                request.GET.get("page")
            )
            flag_reply_by(page.object_list, timezone.localdate())
            attach_lookups(page.object_list)
    context = {
        "search": search,
        "page": page,
        "query": query_without_page(request),
        "sort_headers": _sort_headers(request, search.sort_key),
        "rows": grid_rows(page.object_list) if page is not None else "",
    }
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, "claims/partials/claim_grid.html", context)
    return render(request, "claims/search.html", context)


EXPORT_HEADER = [
    "claim_number", "claim_date", "caller_name", "reply_by", "membership_type", "membership_number", "member",
    "status", "claim_type", "close_date", "record_type", "property", "property_reservation_number",
    "central_reservation_number", "arrival_date", "departure_date", "owner", "submitter", "source", "origin",
    "approve_reject", "adjustment_code", "total_points",
]  # fmt: skip


def _day(value):
    return value.isoformat() if value else ""


def _user(user):
    return user.username if user else ""


def _export_rows(claims):
    for claim in claims.iterator(chunk_size=2000):
        yield [
            claim.pk, _day(claim.claim_date), claim.caller_name, _day(claim.reply_by), claim.program.name,
            claim.membership.membership_number, claim.membership.member.full_name, claim.get_status_display(),
            claim.claim_type.label, _day(claim.closed_on), claim.get_record_type_display(),
            claim.hotel.code if claim.hotel else "", claim.property_reservation_number,
            claim.central_reservation_number, _day(claim.arrival_date), _day(claim.departure_date),
            _user(claim.owner), _user(claim.submitted_by), claim.get_source_display(),
            claim.origin.label if claim.origin else "", claim.get_decision_display(),
            claim.adjustment_code.code if claim.adjustment_code else "",
            "" if claim.total_points is None else claim.total_points,
        ]  # fmt: skip


@claims_screen
def claim_export(request):
    """The searched claims as CSV (all of them, not one page), streamed."""
    search = ClaimSearch(request.GET or None, queryset=claims_visible_to(request.user))
    claims = search.qs.select_related(*CLAIM_RELATIONS) if search.is_valid() else search.queryset.none()
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    lines = csv_lines(EXPORT_HEADER, _export_rows(claims))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="membership-claims-{stamp}.csv"'
    return response
