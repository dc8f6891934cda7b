"""Read queries shared by the member screens and the feature apps: members, balances, activities, tier history.

Feature apps read members, memberships and balances through here, never from the models directly.
"""

from decimal import Decimal

from django.db.models import DecimalField, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce

from loyalty.models import Activity, LedgerEntry, Member, Membership, Metric, TierPeriod, normalise_search_text


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


def activity_award_totals(activity_ids):
    """{activity id: the award points it posted} for several activities, in one query (absent: none)."""
    rows = (
        LedgerEntry.objects.filter(activity_id__in=activity_ids, metric__in=Metric.award())
        .order_by()
        .values_list("activity_id")
        .annotate(total=Sum("quantity"))
    )
    return dict(rows)


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


def active_memberships_of(program):
    """The program's memberships whose member may earn, members preloaded, in member-number order."""
    return (
        Membership.objects.filter(program=program, member__status=Member.Status.ACTIVE)
        .select_related("member")
        .order_by("member__member_number")
    )


def memberships_by_number(numbers):
    """{membership number: membership} for these numbers, with program and member, in one query."""
    wanted = set(numbers)
    if not wanted:
        return {}
    found = Membership.objects.select_related("program", "member").filter(membership_number__in=wanted)
    return {membership.membership_number: membership for membership in found}


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


# Words shorter than this match the start of a word of the name, longer ones anywhere in it.
NAME_WORD_ANYWHERE = 3


def member_name_condition(text):
    """Q: every word of `text` is in the member's accent-free name; None when `text` has no letter or digit.

    "zoe lefev" finds Zoë Lefèvre-Martin. A word of three letters or more matches anywhere in the
    name; a shorter one the start of a word ("li" finds Li Wei, not Julie): the trigram index
    (member_name_trgm) answers both, and two letters anywhere would match most of the member base.
    """
    words = normalise_search_text(text).split()
    if not words:
        return None
    condition = Q()
    for word in words:
        if len(word) >= NAME_WORD_ANYWHERE:
            condition &= Q(search_name__contains=word)
        else:
            condition &= Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
    return condition


def membership_ids_named(text):
    """Ids of the memberships a CSR's "member" box names: the member or membership number (any case),
    or a member whose name has every word of `text`. A subquery, for `membership__in=`.

    A union rather than one OR, so each part reads its own index (numbers: the prefix indexes, names:
    trigrams) instead of a scan of every membership.
    """
    value = (text or "").strip()
    members = Q(member_number__iexact=value)
    name = member_name_condition(value)
    if name is not None:
        members |= name
    # order_by(): no Meta ordering (program name) inside the union's parts.
    by_member = Membership.objects.filter(member__in=Member.objects.filter(members).values("pk")).order_by()
    by_number = Membership.objects.filter(membership_number__iexact=value).order_by()
    return by_number.values("pk").union(by_member.values("pk"))


def membership_ids_named_at_most(text, *, cap):
    """The ids membership_ids_named() selects, as a list, or None when more than `cap` members match.

    Two short queries (members, then their memberships); a list's count and page then filter on the
    ids themselves instead of searching the names again.
    """
    value = (text or "").strip()
    members = Q(member_number__iexact=value)
    name = member_name_condition(value)
    if name is not None:
        members |= name
    member_ids = list(Member.objects.filter(members).order_by().values_list("pk", flat=True)[: cap + 1])
    if len(member_ids) > cap:
        return None
    named = Q(member_id__in=member_ids) | Q(membership_number__iexact=value)
    return list(Membership.objects.filter(named).order_by().values_list("pk", flat=True))



def activity_metric_totals(activity_ids):
    """{activity id: {metric: quantity}} for several activities, in one query."""
    totals = {}
    rows = (
        LedgerEntry.objects.filter(activity_id__in=activity_ids)
        .order_by()
        .values_list("activity_id", "metric")
        .annotate(total=Sum("quantity"))
    )
    for activity_id, metric, total in rows:
        totals.setdefault(activity_id, {})[metric] = total
    return totals


def activities_of_memberships(membership_ids, *, limit=500):
    """The newest activities of these memberships (a member's transactions), with what a grid row shows."""
    return list(
        Activity.objects.filter(membership_id__in=list(membership_ids))
        .select_related("membership__program", "tier", "location", "reverses")
        .order_by("-occurred_on", "-posted_at", "-id")[:limit]
    )


def activity_with_entries(pk):
    """One activity with its membership, rule set, tier and ledger entries; None when there is none."""
    return (
        Activity.objects.select_related("membership__member", "membership__program", "rule_set", "tier", "location",
                                        "caused_by", "reverses")  # fmt: skip
        .prefetch_related(Prefetch("entries", queryset=LedgerEntry.objects.order_by("id")))
        .filter(pk=pk)
        .first()
    )


def memberships_for_choice(ids, *, limit):
    """These memberships with their member and program, by member name: a list to pick one from."""
    return list(
        Membership.objects.filter(pk__in=ids)
        .select_related("member", "program")
        .order_by("member__last_name", "member__first_name", "membership_number")[:limit]
    )
