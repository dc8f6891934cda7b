"""Who may earn: a member whose account is Suspended or Closed earns nothing, by any channel."""

from loyalty.models import Member, Membership


def earning_refusal(member):
    """Why this member cannot earn now (a sentence for a CSR and the member), or None."""
    if member.status == Member.Status.ACTIVE:
        return None
    return (
        f"{member.full_name}'s account is {member.get_status_display()}: it cannot earn points, so nothing can be "
        "credited to it."
    )


def memberships_that_cannot_earn(status):
    """Ids of memberships whose member has this (non-active) status, as a subquery."""
    return Membership.objects.filter(member__status=status).values("pk")


NON_EARNING_STATUSES = [Member.Status.SUSPENDED, Member.Status.CLOSED]
