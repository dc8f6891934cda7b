"""Read queries shared by the member screens and the feature apps: members, balances, activities, tier history.

Feature apps read members, memberships and balances through here, never from the models directly.
"""

from decimal import Decimal

from django.db.models import DecimalField, IntegerField, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce

from loyalty.models import Activity, LedgerEntry, Member, Membership, Metric, TierPeriod


class Balances(dict):
    """metric -> Decimal, plus `award` (base + bonus + misc) for templates."""

    @property
    def award(self):
        return award_total(self)


def balances(membership):
    """Every metric's balance (zero when nothing was posted): one index-only sum."""
    totals = Balances({metric.value: Decimal(0) for metric in Metric})
    rows = (
        LedgerEntry.objects.filter(membership_id=_pk(membership))
        .order_by()
        .values_list("metric")
        .annotate(total=Sum("quantity"))
    )
    for metric, total in rows:
        totals[metric] = total
    return totals


def award_balance(membership):
    """Spendable points: the base, bonus and misc buckets together."""
    total = (
        LedgerEntry.objects.filter(membership_id=_pk(membership), metric__in=Metric.award())
        .order_by()
        .aggregate(total=Sum("quantity"))["total"]
    )
    return int(total or 0)


def award_total(totals):
    """Award points from a balances() dict, without another query."""
    return int(sum(totals.get(metric, Decimal(0)) for metric in Metric.award()))


def activity_award_total(activity="pk"):
    """Subquery: the award points (base + bonus + misc) the outer row's activity posted, None when none.

    `activity` names the outer row's activity id (its pk on Activity, e.g. "activity_id" elsewhere).
    A correlated subquery, not a join + GROUP BY, so a list's count stays a plain count.
    """
    return Subquery(
        LedgerEntry.objects.filter(activity=OuterRef(activity), metric__in=Metric.award())
        .order_by()
        .values("activity")
        .annotate(total=Sum("quantity"))
        .values("total")
    )


def activity_award_points(activity_id):
    """The award points one activity posted (0 for none)."""
    total = LedgerEntry.objects.filter(activity_id=activity_id, metric__in=Metric.award()).aggregate(
        total=Sum("quantity")
    )["total"]
    return int(total or 0)


def member_with_memberships(member_number):
    """The member with this number, memberships and programs preloaded; None when there is none."""
    return Member.objects.prefetch_related("memberships__program").filter(member_number=member_number).first()


def member_of_user(user):
    """The member a portal login belongs to, memberships and programs preloaded; None for staff and strangers."""
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user=user).prefetch_related("memberships__program").first()


def membership_by_number(membership_number):
    """The membership with this number, with its program and member; None when there is none."""
    return (
        Membership.objects.select_related("program", "member").filter(membership_number=membership_number).first()
    )


def memberships_by_id(ids):
    """{id: membership} for these ids, in one query."""
    return Membership.objects.in_bulk(set(ids))


def member_activities(membership):
    """The Activities tab: newest original date first, entries prefetched (fixed query count).

    Each activity carries `award_points` (base + bonus + misc it posted).
    """
    award = activity_award_total()
    return (
        Activity.objects.filter(membership_id=_pk(membership))
        .annotate(award_points=Cast(Coalesce(award, Value(0), output_field=DecimalField()), IntegerField()))
        .select_related("rule_set", "tier", "location", "reverses", "reversed_by", "caused_by")
        .prefetch_related(Prefetch("entries", queryset=LedgerEntry.objects.order_by("id")))
        .order_by("-occurred_on", "-posted_at", "-id")
    )


def tier_history(membership):
    """Tier periods, the newest first."""
    return (
        TierPeriod.objects.filter(membership_id=_pk(membership))
        .select_related("tier", "changed_by")
        .order_by("-valid_from")
    )


def _pk(membership):
    return getattr(membership, "pk", membership)
