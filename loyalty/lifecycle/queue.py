"""The decision queue screen every approval lifecycle shares: filters, selection, approve one or many, reject.

A lifecycle's queue is a subclass naming its policy, its filters and the cells
of its rows; the page, the selection, the decision bar, pagination and the
htmx partial are the same everywhere. Rejecting needs a reason; approving
takes one optionally. Each selected item is decided on its own (the decision
service locks it), so one refusal (decided by someone else, above the user's
limit, the user's own submission) is reported and stops nothing else.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import redirect, render
from django.views import View

from loyalty.lifecycle.decisions import decide_many
from loyalty.pagination import CappedPaginator

MAX_SELECTED = 200


class DecisionQueueView(LoginRequiredMixin, PermissionRequiredMixin, View):
    policy = None
    permission_required = ""  # who may open the queue (usually the approve decision's permission)
    title = ""
    intro = ""
    filterset_class = None
    columns: list[str] = []  # header labels of the app's row cells
    row_template = ""  # the app's <td> cells for one `item`
    approve = "approve"
    reject = "reject"
    page_size = 25
    count_cap = 1000
    template = "lifecycle/queue.html"
    partial_template = "lifecycle/partials/queue_grid.html"

    def handle_no_permission(self):
        # A signed-in user without the permission gets the 403 page; anonymous visitors the login page.
        if self.request.user.is_authenticated:
            return render(self.request, "403.html", status=403)
        return super().handle_no_permission()

    def pending(self):
        """The items waiting for a decision that this user may see (subclasses scope by user).

        An item with a true `queue_highlight` (e.g. an annotation: past the service level) is highlighted.
        """
        raise NotImplementedError

    def get(self, request):
        filters = self.filterset_class(request.GET or None, queryset=self.pending(), request=request)
        # Counted up to the cap ("1,000+ waiting"): a queue of 100,000 is narrowed with its filters, not paged through.
        page = CappedPaginator(filters.qs, self.page_size, cap=self.count_cap).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "queue": self,
            "filter": filters,
            "page": page,
            "query": query.urlencode(),
            "approve_decision": self.policy.decisions[self.approve],
            "reject_decision": self.policy.decisions[self.reject],
        }
        if request.htmx and not request.htmx.boosted:
            return render(request, self.partial_template, context)
        return render(request, self.template, {**context, **self.extra_context()})

    def extra_context(self):
        """What a queue's own page shows above the grid (a dashboard); not computed for grid refreshes."""
        return {}

    def post(self, request):
        action = request.POST.get("decision")
        reason = request.POST.get("reason", "").strip()
        selected = [pk for pk in request.POST.getlist("selected") if pk.isdigit()][:MAX_SELECTED]
        back = f"{request.path}?{request.POST.get('query', '')}"
        if action not in (self.approve, self.reject):
            messages.error(request, "Choose Approve or Reject.")
            return redirect(back)
        decision = self.policy.decisions[action]
        if not selected:
            messages.error(request, f"Select the {self.policy.plural} to {decision.label.lower()} first.")
            return redirect(back)
        if decision.reason_required and not reason:
            messages.error(request, f"Give a reason: a {self.policy.noun} is only {decision.done} with one.")
            return redirect(back)
        outcomes = decide_many(self.policy, selected, action, by=request.user, reason=reason)
        done = [o for o in outcomes if o.error is None]
        if done:
            names = ", ".join(str(o.obj) for o in done)
            noun = self.policy.noun if len(done) == 1 else self.policy.plural
            messages.success(request, f"{len(done)} {noun} {decision.done}: {names}.")
        for outcome in outcomes:
            if outcome.error is not None:
                messages.error(request, " ".join(outcome.error.messages))
        return redirect(back)
