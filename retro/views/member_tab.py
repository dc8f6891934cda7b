"""The member profile's Retro claims tab: submit a claim for the member and list their claims."""

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from retro import selectors
from retro.models import RetroClaim
from retro.views._common import (
    claim_submission,
    flash_outcome,
    in_member_profile,
    member_or_404,
    outcome_of,
    paginate,
    staff_screen,
)


@staff_screen("retro.view_retroclaim")
def member_retro_claims(request, member_number):
    member = member_or_404(member_number)
    memberships = list(member.memberships.all())
    can_submit = request.user.has_perm("retro.add_retroclaim")
    if request.method == "POST" and not can_submit:
        raise PermissionDenied
    submission = claim_submission(request, memberships, channel=RetroClaim.Channel.CSR, allowed=can_submit)
    membership, form, outcome = submission.membership, submission.form, None
    if submission.claim is not None:
        if not request.htmx:
            flash_outcome(request, submission.claim)
            url = reverse("member-retro-claims", args=[member.member_number])
            return redirect(f"{url}?membership={membership.membership_number}")
        outcome = outcome_of(submission.claim)
        form = submission.fresh_form()  # for the next claim

    claims = selectors.member_retro_claims(user=request.user, member=member)
    if membership is not None:
        claims = claims.filter(membership=membership)
    page = paginate(request, claims)
    context = {
        "member": member,
        "memberships": memberships,
        "membership": membership,
        "transaction_types": submission.types,
        "transaction_type": submission.transaction_type,
        "form": form,
        "can_submit": can_submit,
        "outcome": outcome,
        # Filled in from a transaction of the pool search: the CSR checks it with the member, then submits.
        "prefilled_from": request.GET.get("from_transaction") if form is not None and not form.is_bound else None,
        "page": page,
        "query": _tab_query(request, membership),
        "tab_url": reverse("member-retro-claims", args=[member.member_number]),
        "pool_url": reverse("member-retro-pool", args=[member.member_number]),
        "can_search_pool": request.user.has_perm("retro.view_retrotransaction"),
        # In the profile, the pool search opens in the tab; on the tab's own page, as a page.
        "embedded": in_member_profile(request, member),
    }
    template = "retro/partials/member_claims.html" if request.htmx else "retro/member_claims.html"
    response = render(request, template, context)
    if outcome is not None:
        # A claim may have credited points: the profile header refreshes its balance.
        response["HX-Trigger"] = "loyalty:balance-changed"
    return response


def _tab_query(request, membership):
    """Page links keep the chosen membership and type, also after an htmx POST (which has no query string).

    Not the values a pool search pre-filled: turning the page must not fill the form again.
    """
    query = QueryDict(mutable=True)
    if request.GET.get("transaction_type"):
        query["transaction_type"] = request.GET["transaction_type"]
    if membership is not None:
        query["membership"] = membership.membership_number
    return query.urlencode()
