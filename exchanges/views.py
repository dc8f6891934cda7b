"""The exchanges back office (seed 004): the manual-handling queue and its cases, the Exchanges screen of points
operations, the member profile's Redemptions tab. Thin: the work is in exchanges.services."""

from functools import wraps

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from exchanges import corrections, selectors, services
from exchanges.errors import ExchangeRefused
from exchanges.filters import OperationFilter
from exchanges.models import CaseCorrection, CorrectionStatus, ManualHandlingCase
from loyalty.filters import style_fields
from loyalty.lifecycle.decisions import refusal_for
from loyalty.lifecycle.queue import DecisionQueueView
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
    context = {"case": case, "age": (case.closed_at or timezone.now()) - case.opened_at, "error": error, "done": done,
               "directions": corrections.Direction.choices, **_correction_context(request, case)}  # fmt: skip
    if request.htmx and not request.htmx.boosted:
        # htmx swaps only 2xx answers: a refusal is shown in the panel it replaces.
        return render(request, "exchanges/partials/case_panel.html", context)
    return render(request, "exchanges/case_detail.html", context, status=400 if error else 200)


@needs(selectors.VIEW_CASES)
def case_detail(request, pk):
    return _case_page(request, _case_or_404(pk))


def _act(request, pk, work, done=None):
    """Run a case action (a service call); htmx gets the case panel back, a plain form post a redirect.

    `done` is the message on success ("{case}" filled in), or None for the one `work` returns."""
    case = _case_or_404(pk)
    try:
        said = work(case)
    except ValidationError as error:  # the lifecycle refused (TransitionRefused)
        return _case_page(request, _case_or_404(pk), error=" ".join(error.messages))
    except ExchangeRefused as error:
        return _case_page(request, _case_or_404(pk), error=str(error))
    done = said if done is None else done.format(case=case)
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


def _correction_context(request, case):
    """The case's corrections; the waiting one, and why this user may not approve it (if so)."""
    found = list(case.corrections.all())
    waiting = next((c for c in found if c.status == "pending"), None)
    refusal = None
    if waiting is not None:
        refusal = refusal_for(corrections.CORRECTION_APPROVALS, "approve", waiting, request.user)
    return {"corrections": found, "waiting": waiting, "approve_refusal": refusal}


def _points(text):
    text = (text or "").replace(",", "").strip()
    return int(text) if text.isdigit() else None


@require_POST
@needs(selectors.HANDLE_CASES)
def case_correct(request, pk):
    """Resolve with points: posted at once within the agent's approval limit, else sent to a checker."""
    direction, reason = request.POST.get("direction", ""), request.POST.get("reason", "")
    points = _points(request.POST.get("points"))

    def work(case):
        made = corrections.propose_correction(case=case, direction=direction, points=points, reason=reason,
                                              by=request.user)  # fmt: skip
        return f"{made} sent to a checker." if made.needs_checker else f"{made} posted; {case} resolved."

    return _act(request, pk, work)


@require_POST
@needs(corrections.APPROVE)
def correction_decide(request, pk, correction_pk):
    """A checker approves or rejects the case's waiting correction (the decision service checks who may)."""
    decision, reason = request.POST.get("decision", ""), request.POST.get("reason", "")
    if decision not in ("approve", "reject"):
        return _case_page(request, _case_or_404(pk), error="Choose Approve or Reject.")

    def work(case):
        correction = case.corrections.filter(pk=correction_pk).first()
        if correction is None:
            raise Http404("No such correction on this case.")
        corrections.decide_correction(correction=correction, decision=decision, by=request.user, reason=reason)
        return f"{correction} {'approved and posted' if decision == 'approve' else 'rejected'}."

    return _act(request, pk, work)


class CorrectionFilter(django_filters.FilterSet):
    proposer = django_filters.CharFilter(
        field_name="proposed_by__username", lookup_expr="iexact", label="Proposed by", max_length=150
    )

    class Meta:
        model = CaseCorrection
        fields = ["case__program", "direction"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["case__program"].label = "Program"
        style_fields(self.form)

    @property
    def qs(self):
        return super().qs.order_by("proposed_at", "id")


class CorrectionQueue(DecisionQueueView):
    """Points corrections above their maker's approval limit, oldest first, for a checker."""

    policy = corrections.CORRECTION_APPROVALS
    permission_required = corrections.APPROVE
    title = "Points corrections"
    intro = (
        "Re-credits and reversals that resolve manual-handling cases, above the approval limit of the agent who "
        "proposed them. Approving posts the points to the paying member and resolves the case; rejecting keeps "
        "the case in progress with your reason in its notes. You cannot decide your own, nor approve more than "
        "your role's limit."
    )
    filterset_class = CorrectionFilter
    columns = ["Case", "Correction", "Points", "Member", "Proposed", "Reason"]
    numeric_columns = ("Points",)
    row_template = "exchanges/partials/correction_row.html"

    def pending(self):
        return CaseCorrection.objects.filter(status=CorrectionStatus.PENDING).select_related(
            "case__redemption__membership", "proposed_by"
        )


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
