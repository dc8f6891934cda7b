"""Search of the retro pool before claiming (seed 003's "search for an older transaction"), for one member.

Reached from the member's Retro claims tab; each transaction the member could claim links back to the
tab with the claim form filled in from it, so the CSR checks the details with the member and submits.
"""

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from retro import keys
from retro.filters import RetroPoolFilter
from retro.matching import program_today
from retro.selectors import claimable_dates, program_locations, retro_pool_for_claims, transaction_types_for
from retro.views._common import (
    choose_membership,
    in_member_profile,
    member_or_404,
    paginate,
    query_without_page,
    staff_screen,
)

RESULTS_TARGET = "pool-results"


@staff_screen("retro.view_retrotransaction")
def member_retro_pool(request, member_number):
    member = member_or_404(member_number)
    memberships = list(member.memberships.all())
    membership = choose_membership(memberships, request.GET.get("membership"))
    context = {
        "member": member,
        "membership": membership,
        "memberships": memberships,
        # In the profile's tab, links swap the tab in place; on its own page they are plain links.
        "embedded": in_member_profile(request, member),
        "tab_url": reverse("member-retro-claims", args=[member.member_number]),
        "pool_url": reverse("member-retro-pool", args=[member.member_number]),
        "query": query_without_page(request),
    }
    if membership is not None:
        context.update(_search(request, membership, context["tab_url"]))
    if request.htmx and not request.htmx.boosted:
        # A new search or page refreshes the results only; opening it from the tab gives the whole search.
        partial = "pool_results" if request.htmx.target == RESULTS_TARGET else "pool_search"
        return render(request, f"retro/partials/{partial}.html", context)
    return render(request, "retro/pool_search.html", context)


def _search(request, membership, tab_url):
    program = membership.program
    today = program_today(program)
    types = transaction_types_for(program)
    search = RetroPoolFilter(
        request.GET or None,
        queryset=retro_pool_for_claims(membership=membership, today=today),
        locations=[(location.code, str(location)) for location in program_locations(program)],
        transaction_types=types,
    )
    page = paginate(request, search.qs)
    if request.user.has_perm("retro.add_retroclaim"):
        claim_url = _claim_links(membership, types, tab_url)
        for txn in page.object_list:
            txn.claim_url = claim_url(txn)
    earliest, latest = claimable_dates(membership, today)
    return {"search": search, "page": page, "earliest": earliest, "latest": latest, "show_types": len(types) > 1}


def _claim_links(membership, types, tab_url):
    """A function txn -> the member tab's URL with the claim form filled in from txn (None: no key for its type)."""
    key_fields_by_type = {}

    def claim_url(txn):
        if txn.transaction_type not in types or txn.claimed_by_id is not None:
            return None
        if txn.transaction_type not in key_fields_by_type:
            key_fields_by_type[txn.transaction_type] = keys.key_fields_for(membership.program, txn.transaction_type)
        values = keys.transaction_key_values(txn)
        values["transaction_date"] = txn.occurred_on.isoformat()
        if txn.amount is not None:
            values["amount"] = f"{txn.amount:.2f}"
        names = [key_field.form_name for key_field in key_fields_by_type[txn.transaction_type]]
        params = {
            "membership": membership.membership_number,
            "transaction_type": txn.transaction_type,
            "from_transaction": txn.source_id,
            "transaction_date": values["transaction_date"],
        }
        params.update({name: values[name] for name in names if values.get(name) not in (None, "")})
        return f"{tab_url}?{urlencode(params)}"

    return claim_url
