"""Read queries for retro claims and the pool: who may see which claims, a claim's history and points."""


from django.db.models import Case, CharField, DateTimeField, DecimalField, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.urls import reverse
from django_fsm_log.models import StateLog

from loyalty.models import Location
from loyalty.selectors import activity_award_points, activity_award_total, activity_award_totals, member_of_user
from retro import bounds
from retro.models import RetroClaim, RetroClaimKey, RetroClaimStatus, RetroSettings, RetroTransaction


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
    ).annotate(points=award_points(), **reversal_annotations())


def retro_claims_in_scope(user):
    """The one place that decides which retro claims a user may see: the bare rows.

    Staff with retro.view_retroclaim see every claim; a portal member sees only
    the claims of their own memberships; anyone else sees none.
    """
    claims = RetroClaim.objects.all()
    if not user.is_authenticated:
        return claims.none()
    if user.has_perm("retro.view_retroclaim"):
        return claims
    if user.has_perm("retro.submit_own_retro_claim"):
        member = member_of_user(user)
        if member is None:
            return claims.none()
        return claims.filter(membership__member=member)
    return claims.none()


def retro_claims_visible_to(user):
    """The claims in the user's scope with what a claim's screens show: relations, points, reversal."""
    return _with_related(retro_claims_in_scope(user))


def with_points_and_reversals(claims):
    """Set `points`, `reversed_at` and `reversed_by_name` on a page of claims, in two queries.

    What retro_claims_visible_to's subqueries compute, for a grid's 20 rows: compiling those
    subqueries cost a page more than running these.
    """
    claims = list(claims)
    activity_ids = [c.activity_id for c in claims if c.activity_id]
    totals = activity_award_totals(activity_ids) if activity_ids else {}
    reversed_ids = [c.pk for c in claims if c.status == RetroClaimStatus.REVERSED]
    reversals = {}
    if reversed_ids:
        logs = StateLog.objects.filter(
            content_type__app_label=RetroClaim._meta.app_label,
            content_type__model=RetroClaim._meta.model_name,
            object_id__in=reversed_ids,
            state=RetroClaimStatus.REVERSED,
        ).select_related("by")
        for log in logs.order_by("timestamp", "id"):  # the latest reversal of a claim wins
            reversals[log.object_id] = log
    for claim in claims:
        claim.points = totals.get(claim.activity_id, 0) if claim.activity_id else 0
        log = reversals.get(claim.pk)
        claim.reversed_at = log.timestamp if log else None
        claim.reversed_by_name = _person_name(log.by) if log and log.by else None
    return claims


def _person_name(user):
    # As the templates name a person: full name, else username (reversal_annotations' by_name).
    return f"{user.first_name} {user.last_name}".strip() or user.username

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


def _reversal_log(value):
    """Subquery: `value` of the outer claim's move to Reversed in its transition history."""
    return Subquery(
        StateLog.objects.filter(
            content_type__app_label=RetroClaim._meta.app_label,
            content_type__model=RetroClaim._meta.model_name,
            object_id=OuterRef("pk"),
            state=RetroClaimStatus.REVERSED,
        )
        .annotate(value=value)
        .order_by("-timestamp", "-id")
        .values("value")[:1]
    )


def reversal_annotations():
    """reversed_at and reversed_by_name of Reversed claims, read from their history (None for the others).

    A list shows a reversal without a query per row; the CASE keeps the lookup to reversed rows.
    """
    is_reversed = Q(status=RetroClaimStatus.REVERSED)
    # As the templates name a person: full name, else username.
    full_name = NullIf(Trim(Concat("by__first_name", Value(" "), "by__last_name")), Value(""))
    by_name = Coalesce(full_name, "by__username", output_field=CharField())
    return {
        "reversed_at": Case(When(is_reversed, then=_reversal_log(F("timestamp"))), output_field=DateTimeField()),
        "reversed_by_name": Case(When(is_reversed, then=_reversal_log(by_name)), output_field=CharField()),
    }


def retro_claims_pending_approval(user):
    """The approvers' queue: Pending Approval claims this user may see, each with its transaction's location name."""
    return (
        retro_claims_visible_to(user)
        .filter(status=RetroClaimStatus.PENDING_APPROVAL)
        .annotate(
            location_name=Subquery(
                Location.objects.filter(
                    program_id=OuterRef("program_id"), code=OuterRef("matched_transaction__location_code")
                ).values("name")[:1]
            )
        )
    )


def program_locations(program):
    """The program's locations, by code: what a location field offers instead of free text."""
    return list(Location.objects.filter(program=program).order_by("code"))


def location_name(program, code):
    """The name of a program's location code, or "" when the code is not one of its locations."""
    if not code:
        return ""
    return Location.objects.filter(program=program, code=code).values_list("name", flat=True).first() or ""


def claimable_dates(membership, today):
    """(earliest, latest) transaction dates a claim for this membership may have today.

    The same limits submission applies (retro.services: the age limit, and the enrolment date
    less the buffer), read without creating the settings row (a screen only reads).
    """
    retro_settings = RetroSettings.objects.filter(program_id=membership.program_id).first()
    retro_settings = retro_settings or RetroSettings(program_id=membership.program_id)
    by_age, by_enrolment = bounds.claim_date_limits(
        retro_settings=retro_settings, joined_on=membership.joined_on, today=today
    )
    return max(by_age, by_enrolment, bounds.EARLIEST_DATE), today


def retro_pool_for_claims(*, membership, today):
    """Pool transactions of the membership's program that a claim for it could still take, newest first.

    Not expired and dated inside claimable_dates(); claimed ones included (the screen says by
    which claim). The date range keeps the search on the (program, occurred_on) index however
    large the pool. Each row has location_name and its claiming claim preloaded.
    """
    earliest, latest = claimable_dates(membership, today)
    return (
        RetroTransaction.objects.filter(
            program_id=membership.program_id,
            occurred_on__gte=earliest,
            occurred_on__lte=latest,
            expires_on__gte=today,
        )
        .select_related("claimed_by")
        .annotate(
            location_name=Subquery(
                Location.objects.filter(program_id=OuterRef("program_id"), code=OuterRef("location_code")).values(
                    "name"
                )[:1]
            )
        )
        .order_by("-occurred_at", "-id")
    )


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
