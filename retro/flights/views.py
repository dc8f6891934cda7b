"""The Retro Claim wizard for airline flights (seed 000), manual flight entry and the member's Flights tab.

The wizard opens in a modal from the profile's More menu; each step is an htmx partial of the same
view, and without JavaScript the same URL is a page. Steps: search the ticket, select coupons,
verify the passenger name, submit (a mismatch can still be submitted, as seed 000 says).
"""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render

from retro.flights import rules, services
from retro.flights.forms import ManualFlightForm
from retro.models import FlightClaim, NameMatch
from retro.views._common import member_or_404, staff_screen

CLAIMS_PER_PAGE = 10


def _membership(request, member):
    """The membership the wizard works on: the one the profile shows (?membership=), else an airline one."""
    memberships = list(member.memberships.all())
    number = request.GET.get("membership") or request.POST.get("membership")
    chosen = next((m for m in memberships if m.membership_number == number), None)
    if chosen is None:
        chosen = next((m for m in memberships if m.program.kind == "airline"), memberships[0] if memberships else None)
    return chosen


def _render(request, template, context):
    """The step alone for htmx (into the modal), or inside the wizard's page."""
    if request.htmx and not request.htmx.boosted:
        return render(request, template, context)
    return render(request, "retro/flights/wizard_page.html", {**context, "step_template": template})


@staff_screen("retro.add_flightclaim")
def flight_claim_wizard(request, member_number):
    member = member_or_404(member_number)
    membership = _membership(request, member)
    context = {"member": member, "membership": membership, "ticket": "", "coupons": None, "error": None}
    if membership is None:
        context["error"] = "This member has no membership to claim a flight for."
        return _render(request, "retro/flights/wizard_search.html", context)
    step = request.POST.get("step") if request.method == "POST" else None
    ticket = rules.clean_ticket_number(request.POST.get("ticket") or request.GET.get("ticket", ""))
    context["ticket"] = ticket
    if step is None and "ticket" not in request.GET:
        return _render(request, "retro/flights/wizard_search.html", context)
    # Every step checks the ticket first: a wrong length or a letter is a field error, never a search.
    context["error"] = rules.ticket_number_error(ticket)
    if context["error"]:
        return _render(request, "retro/flights/wizard_search.html", context)
    coupons = [f for f in services.find_coupons(ticket_number=ticket) if f.program_id == membership.program_id]
    context["coupons"] = coupons
    if step is None or not coupons:
        context["selected"] = [c.coupon_number for c in coupons] if len(coupons) == 1 else []
        return _render(request, "retro/flights/wizard_search.html", context)
    selected = [c for c in coupons if str(c.coupon_number) in request.POST.getlist("coupons")]
    context["selected"] = [c.coupon_number for c in selected]
    if not selected:
        context["error"] = "Select the coupon(s) to claim."
        return _render(request, "retro/flights/wizard_search.html", context)
    context["checks"] = [(c, services.name_check_for(c, membership)) for c in selected]
    context["all_match"] = all(check.result == NameMatch.MATCH for _, check in context["checks"])
    if step == "verify":
        return _render(request, "retro/flights/wizard_verify.html", context)
    try:
        claims = services.submit_flight_claim(
            membership=membership,
            ticket_number=ticket,
            coupon_numbers=context["selected"],
            submitted_by=request.user,
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        context["refusals"] = error.messages
        return _render(request, "retro/flights/wizard_verify.html", context)
    context["claims"] = claims
    return _render(request, "retro/flights/wizard_done.html", context)


@staff_screen("retro.add_flightclaim")
def manual_flight_entry(request, member_number):
    """Seed 000's Add Flight Activity: a flight not in the feed, typed from the member's documents; reviewed."""
    member = member_or_404(member_number)
    membership = _membership(request, member)
    form = ManualFlightForm(request.POST or None)
    context = {"member": member, "membership": membership, "form": form, "claim": None, "refusals": []}
    if request.method == "POST" and membership is not None and form.is_valid():
        try:
            context["claim"] = services.add_manual_flight(
                membership=membership, coupon=form.coupon(), submitted_by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                context["refusals"] = error.messages
    template = "retro/flights/manual_done.html" if context["claim"] else "retro/flights/manual_form.html"
    return _render(request, template, context)


def flight_claims_section(request, membership):
    """The Flights tab's flight claims (loyalty.plugins.TabSection): pending and rejected ones too, newest first."""
    claims = FlightClaim.objects.filter(membership=membership).order_by("-submitted_at", "-id")
    return {"page": Paginator(claims, CLAIMS_PER_PAGE).get_page(request.GET.get("claims_page"))}
