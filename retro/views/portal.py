"""The member portal: a member submits retro claims and sees only their own."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from loyalty.selectors import member_of_user
from retro.models import RetroClaim
from retro.selectors import retro_claims_visible_to
from retro.views._common import INTERNAL_REASON_STATUSES, claim_submission, flash_outcome, key_rows, paginate


def _portal_member(request):
    """The signed-in member, or a 403 page saying why there is none."""
    if not request.user.has_perm("retro.submit_own_retro_claim"):
        raise PermissionDenied
    return member_of_user(request.user)


def _no_member(request):
    return render(request, "portal/no_member.html", status=403)


@login_required
def portal_home(request):
    member = _portal_member(request)
    if member is None:
        return _no_member(request)
    memberships = list(member.memberships.all())
    submission = claim_submission(request, memberships, channel=RetroClaim.Channel.PORTAL)
    membership = submission.membership
    if submission.claim is not None:
        flash_outcome(request, submission.claim)
        return redirect("portal-claim-detail", number=submission.claim.number)

    claims = retro_claims_visible_to(request.user)
    page = paginate(request, claims)
    context = {
        "member": member,
        "memberships": memberships,
        "membership": membership,
        "transaction_types": submission.types,
        "transaction_type": submission.transaction_type,
        "form": submission.form,
        "page": page,
        "query": f"membership={membership.membership_number}" if membership else "",
        "internal_reason_statuses": INTERNAL_REASON_STATUSES,
    }
    return render(request, "portal/home.html", context)


@login_required
def portal_claim_detail(request, number):
    member = _portal_member(request)
    if member is None:
        return _no_member(request)
    # Scoped to the member's own claims: someone else's number is simply not found.
    claim = get_object_or_404(retro_claims_visible_to(request.user).filter(membership__member=member), number=number)
    context = {
        "claim": claim,
        "member": member,
        "key_rows": key_rows(claim),
        # The supervisor's or CSR's reason stays internal: the member is shown member_message instead.
        "internal_reason_statuses": INTERNAL_REASON_STATUSES,
    }
    return render(request, "portal/claim_detail.html", context)
