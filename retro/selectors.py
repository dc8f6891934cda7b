"""Read queries for retro claims: who may see which claims, a claim's history and points."""

from django.db.models import DecimalField, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django_fsm_log.models import StateLog

from loyalty.selectors import activity_award_points, activity_award_total, member_of_user
from retro.models import RetroClaim, RetroClaimKey, RetroClaimStatus


def award_points():
    """Spendable points the claim's activity earned, summed in the database."""
    return Coalesce(
        activity_award_total("activity_id"), Value(0), output_field=DecimalField(max_digits=16, decimal_places=2)
    )


def _with_related(queryset):
    return queryset.select_related(
        "program",
        "membership__member",
        "membership__program",
        "submitted_by",
        "matched_transaction",
        "activity",
    ).annotate(points=award_points())


def retro_claims_visible_to(user):
    """The one place that decides which retro claims a user may see.

    Staff with retro.view_retroclaim see every claim; a portal member sees only
    the claims of their own memberships; anyone else sees none.
    """
    claims = RetroClaim.objects.all()
    if not user.is_authenticated:
        return claims.none()
    if user.has_perm("retro.view_retroclaim"):
        return _with_related(claims)
    if user.has_perm("retro.submit_own_retro_claim"):
        member = member_of_user(user)
        if member is None:
            return claims.none()
        return _with_related(claims.filter(membership__member=member))
    return claims.none()


def member_retro_claims(*, user, member):
    return retro_claims_visible_to(user).filter(membership__member=member)


def retro_claim_history(claim):
    """Every transition of a claim, oldest first: when, by whom, from, to and why."""
    return StateLog.objects.for_(claim).select_related("by", "content_type").order_by("timestamp", "id")


def transaction_types_for(program):
    """Transaction types with a retro claim key in this program, purchase first."""
    types = list(
        RetroClaimKey.objects.filter(program=program)
        .order_by("transaction_type")
        .values_list("transaction_type", flat=True)
    )
    return sorted(types, key=lambda t: (t != "purchase", t))


def claim_points(claim):
    """Spendable points the claim's activity posted (0 when nothing was posted)."""
    points = getattr(claim, "points", None)
    if points is not None:
        return int(points)
    if claim.activity_id is None:
        return 0
    return activity_award_points(claim.activity_id)



def open_retro_claims_badge(user, member, membership):
    """The profile header's badge: this membership's retro claims still waiting (Outstanding or Pending Approval)."""
    if membership is None:
        return None
    waiting = RetroClaim.objects.filter(
        membership=membership, status__in=[RetroClaimStatus.OUTSTANDING, RetroClaimStatus.PENDING_APPROVAL]
    ).count()
    if not waiting:
        return None
    return {
        "count": waiting,
        "title": f"{waiting} retro claim{'s' if waiting != 1 else ''} waiting for a match or a decision",
        "url": reverse("member-profile", kwargs={"member_number": member.member_number})
        + f"?membership={membership.membership_number}&tab=retro-claims",
    }
