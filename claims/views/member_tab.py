"""The member profile's Claims tab: the member's latest membership claims, and New."""

from claims.models import MembershipClaim
from claims.selectors import may_submit_for

SHOWN = 20


def claims_tab_context(request, membership):
    member = membership.member
    claims = list(
        MembershipClaim.objects.filter(membership__member=member)
        .select_related("claim_type", "owner", "membership__program")
        .order_by("-id")[: SHOWN + 1]
    )
    return {"claims": claims[:SHOWN], "more": len(claims) > SHOWN,
            "may_submit": may_submit_for(request.user, membership)}  # fmt: skip
