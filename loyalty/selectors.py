"""Read queries shared by the member screens: balances, the activity timeline, tier history."""

from decimal import Decimal

from django.db.models import DecimalField, IntegerField, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce

from loyalty.models import Activity, LedgerEntry, Metric, TierPeriod


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


def activity_award_total():
    """Subquery: the award points (base + bonus + misc) the outer Activity posted, None when none.

    A correlated subquery, not a join + GROUP BY, so a list's count stays a plain count.
    """
    return Subquery(
        LedgerEntry.objects.filter(activity=OuterRef("pk"), metric__in=Metric.award())
        .order_by()
        .values("activity")
        .annotate(total=Sum("quantity"))
        .values("total")
    )


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
