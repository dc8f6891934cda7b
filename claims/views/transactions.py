"""All Trx (seed 002): the member's transactions from a claim; a stay's card, its estimate, View."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from claims import stays as stay_services
from claims.forms import AttachCardForm
from claims.models import Stay
from claims.rules import claim_settings
from claims.selectors import claim_with_relations
from claims.transactions import EXCEPTION_CHOICES, member_transactions
from claims.views._common import claims_screen, needs, query_without_page, render_part
from loyalty import selectors as loyalty_selectors
from loyalty.models import Location

PAGE_SIZE = 50


def _claim_or_404(request, pk):
    claim = claim_with_relations(request.user, pk)
    if claim is None:
        raise Http404(f"No claim has the number {pk}.")
    return claim


def _date(text):
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@claims_screen
def claim_transactions(request, pk):
    claim = _claim_or_404(request, pk)
    member = claim.membership.member
    settings = claim_settings(claim.program)
    properties = Location.objects.filter(program=claim.program, kind=Location.Kind.HOTEL).order_by("code")
    hotel_id = request.GET.get("hotel", "")
    hotel = properties.filter(pk=hotel_id).first() if hotel_id.isdigit() else None
    exception = request.GET.get("exception", "") if settings.exceptions_enabled else ""
    if exception not in dict(EXCEPTION_CHOICES):
        exception = ""
    arrival = _date(request.GET.get("arrival", ""))
    rows = member_transactions(member, hotel=hotel, exception=exception, arrival=arrival,
                               exceptions_enabled=settings.exceptions_enabled)  # fmt: skip
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "claim": claim, "member": member, "membership": claim.membership, "page": page, "properties": properties,
        "hotel": hotel, "exception": exception, "arrival": arrival, "settings": settings,
        "exception_choices": EXCEPTION_CHOICES, "query": query_without_page(request),
        "can_attach": request.user.has_perm("claims.change_stay"),
        "can_adjust": request.user.has_perm("claims.submit_primary_claim")
        or request.user.has_perm("claims.submit_nonprimary_claim"),
    }  # fmt: skip
    return render(request, "claims/transactions.html", context)


def _stay_or_404(pk):
    return get_object_or_404(Stay.objects.select_related("hotel", "program", "membership__member", "guest",
                                                         "activity__tier", "card_attached_by"), pk=pk)  # fmt: skip


@claims_screen
def stay_detail(request, pk):
    """Seed 002's View on a stay row: the stay as the property sent it, and what became of it."""
    stay = _stay_or_404(pk)
    totals = loyalty_selectors.activity_metric_totals([stay.activity_id]).get(stay.activity_id, {})
    context = {"stay": stay, "totals": totals, "back": request.GET.get("back", "")}
    return render_part(request, "claims/partials/stay_view.html", context, title=f"Stay {stay}")


@claims_screen
def activity_detail(request, pk):
    """View on an adjustment or other membership transaction row: its entries and how it was valued."""
    activity = loyalty_selectors.activity_with_entries(pk)
    if activity is None:
        raise Http404("No such transaction.")
    context = {"activity": activity, "back": request.GET.get("back", "")}
    return render_part(request, "claims/partials/activity_view.html", context, title="Membership transaction")


@needs("claims.change_stay")
def stay_attach_card(request, pk):
    """Seed 002's Options: attach or replace the membership card on a CHECKED OUT stay not yet calculated."""
    stay = _stay_or_404(pk)
    back = request.POST.get("back") or request.GET.get("back") or ""
    form = AttachCardForm(request.POST or None, initial={"membership_number": stay.card_number})
    if request.method == "POST" and form.is_valid():
        try:
            stay = stay_services.attach_card(stay=stay, membership_number=form.cleaned_data["membership_number"],
                                             by=request.user)  # fmt: skip
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(request, f"Card {stay.card_number} attached to stay {stay}: its points are calculated "
                                      "on schedule.")  # fmt: skip
            safe = back.startswith("/") and not back.startswith("//")
            where = back if safe else reverse("stay-detail", args=[stay.pk])
            if request.htmx:  # from the dialog: the whole page reloads, with the row as it now stands
                return HttpResponse(status=204, headers={"HX-Redirect": where})
            return redirect(where)
    return render_part(request, "claims/partials/attach_card.html", {"stay": stay, "form": form, "back": back},
                       status=400 if form.errors else 200, title=f"Card for stay {stay}")  # fmt: skip


@claims_screen
def stay_estimate(request, pk):
    """Est. Points: today's rules (seed 002), beside the point-in-time value that will really post."""
    stay = _stay_or_404(pk)
    if stay.membership is None:
        raise Http404("This stay has no membership card: attach one first.")
    estimate = stay_services.estimate_stay(stay)
    return render_part(request, "claims/partials/estimate.html", {"stay": stay, "estimate": estimate},
                       title=f"Estimated points of stay {stay}")  # fmt: skip
