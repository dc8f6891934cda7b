"""The exchanges back office (seed 004): the manual-handling queue and its cases, the Exchanges screen of points
operations, the member profile's Redemptions tab. Thin: the work is in exchanges.services."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from exchanges import selectors, services
from exchanges.errors import ExchangeRefused
from exchanges.filters import OperationFilter
from exchanges.models import ManualHandlingCase
from loyalty.pagination import CappedPaginator

PAGE_SIZE = 25
COUNT_CAP = 1000
TAB_SHOWN = 20


def needs(permission):
    """A signed-in user without `permission` gets the 403 page; anonymous visitors the login page."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _query(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@needs(selectors.VIEW_CASES)
def manual_handling_queue(request):
    """Open and in-progress cases, oldest first, each with its age; the oldest open case above the grid."""
    now = timezone.now()
    page = CappedPaginator(selectors.open_cases(), PAGE_SIZE, cap=COUNT_CAP).get_page(request.GET.get("page"))
    for case in page.object_list:
        case.age = now - case.opened_at
    oldest = selectors.open_cases().filter(status="open").first()
    context = {"page": page, "oldest": oldest, "oldest_age": now - oldest.opened_at if oldest else None,
               "query": _query(request), "base": request.path}  # fmt: skip
    if request.htmx and not request.htmx.boosted:
        return render(request, "exchanges/partials/case_grid.html", context)
    return render(request, "exchanges/manual_handling.html", context)


def _case_or_404(pk):
    try:
        return selectors.case_with_notes(pk)
    except ManualHandlingCase.DoesNotExist:
        raise Http404("No such manual-handling case.")


def _case_page(request, case, *, error="", done=""):
    context = {"case": case, "age": (case.closed_at or timezone.now()) - case.opened_at, "error": error, "done": done}
    if request.htmx and not request.htmx.boosted:
        # htmx swaps only 2xx answers: a refusal is shown in the panel it replaces.
        return render(request, "exchanges/partials/case_panel.html", context)
    return render(request, "exchanges/case_detail.html", context, status=400 if error else 200)


@needs(selectors.VIEW_CASES)
def case_detail(request, pk):
    return _case_page(request, _case_or_404(pk))


def _act(request, pk, work, done):
    """Run a case action (a service call); htmx gets the case panel back, a plain form post a redirect."""
    case = _case_or_404(pk)
    try:
        work(case)
    except ValidationError as error:  # the lifecycle refused (TransitionRefused)
        return _case_page(request, _case_or_404(pk), error=" ".join(error.messages))
    except ExchangeRefused as error:
        return _case_page(request, _case_or_404(pk), error=str(error))
    done = done.format(case=case)
    if request.htmx:
        return _case_page(request, _case_or_404(pk), done=done)
    messages.success(request, done)
    return redirect("exchanges-case", pk=pk)


@require_POST
@needs(selectors.HANDLE_CASES)
def case_take(request, pk):
    return _act(request, pk, lambda case: services.take_case(case=case, by=request.user), "{case} is yours.")


@require_POST
@needs(selectors.HANDLE_CASES)
def case_note(request, pk):
    text = request.POST.get("text", "")
    return _act(request, pk, lambda case: services.add_case_note(case=case, text=text, by=request.user),
                "Note added to {case}.")  # fmt: skip


@require_POST
@needs(selectors.HANDLE_CASES)
def case_close(request, pk):
    outcome, reason = request.POST.get("outcome", ""), request.POST.get("reason", "")
    done = "{case} resolved." if outcome == "resolve" else "{case} cancelled."
    return _act(request, pk, lambda case: services.close_case(case=case, by=request.user, outcome=outcome,
                                                                reason=reason), done)  # fmt: skip


@needs("exchanges.view_pointsoperation")
def operations(request):
    """The Exchanges screen: the partners' points operations, filtered, newest first."""
    filters = OperationFilter(request.GET or None, queryset=selectors.points_operations())
    page = CappedPaginator(filters.qs, PAGE_SIZE, cap=COUNT_CAP).get_page(request.GET.get("page"))
    context = {"filter": filters, "page": page, "query": _query(request), "base": request.path}
    if request.htmx and not request.htmx.boosted:
        return render(request, "exchanges/partials/operations_grid.html", context)
    return render(request, "exchanges/operations.html", context)


def redemptions_tab_context(request, membership):
    """The member profile's Redemptions tab: bookings, points paid, refunded and still refundable."""
    redemptions = list(selectors.member_redemptions(membership)[: TAB_SHOWN + 1])
    totals = (
        selectors.member_redemptions(membership)
        .order_by()
        .aggregate(paid=Sum("points_captured"), refunded=Sum("points_refunded"))
    )
    paid, refunded = totals["paid"] or 0, totals["refunded"] or 0
    return {"redemptions": redemptions[:TAB_SHOWN], "more": len(redemptions) > TAB_SHOWN,
            "points_paid": paid, "points_refunded": refunded, "points_refundable": paid - refunded}  # fmt: skip
