"""Posting one activity, adjustments and reversals: valued as of the original date, idempotent."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from loyalty import sql, valuation
from loyalty.exceptions import AlreadyReversed
from loyalty.models import Activity, LedgerEntry, Metric
from loyalty.services import context
from loyalty.services import posting_statements as statements

GIVEN_KINDS = {Activity.Kind.ADJUSTMENT, Activity.Kind.REDEMPTION, Activity.Kind.REFUND}
POSTABLE_KINDS = frozenset(Activity.Kind.values) - {Activity.Kind.REVERSAL}
METRICS = frozenset(Metric.values)


@dataclass
class ActivityRequest:
    """One activity to post: the keyword arguments of post_activity(), for post_activities()."""

    membership: object
    kind: str
    source: str
    occurred_on: dt.date | None = None
    external_reference: str = ""
    amount: Decimal | None = None
    currency: str = ""
    location: object = None
    attributes: dict | None = None
    occurred_at: dt.datetime | None = None
    caused_by: object = None
    description: str = ""
    entries: dict | None = None  # post exactly these quantities, no rules (redemptions, refunds, adjustments)

    def __post_init__(self):
        self.external_reference = self.external_reference or ""
        self.currency = self.currency or ""
        self.description = self.description or ""

    @property
    def key(self):
        return (self.membership.pk, self.source, self.external_reference) if self.external_reference else None


def post_activity(
    *,
    membership,
    kind,
    source,
    occurred_on=None,
    external_reference="",
    amount=None,
    currency="",
    location=None,
    attributes=None,
    occurred_at=None,
    caused_by=None,
    description="",
    entries=None,
):
    """Value an activity as of its original date and post it with its ledger entries.

    Returns the Activity (with `just_posted` False when the reference had
    already been posted). Raises NoRuleSetInForce when no earning rule set
    covers the date, ValidationError on bad input. `entries` (metric ->
    quantity) posts exactly those quantities without rules.
    """
    request = ActivityRequest(
        membership=membership,
        kind=kind,
        source=source,
        occurred_on=occurred_on,
        external_reference=external_reference,
        amount=amount,
        currency=currency,
        location=location,
        attributes=attributes,
        occurred_at=occurred_at,
        caused_by=caused_by,
        description=description,
        entries=entries,
    )
    _validate(request)
    now = timezone.now()
    day = _occurred_on(request, membership.program if request.occurred_on is None else None)
    if request.entries is None:
        # One query: the rules and tier of `day`, and whether this reference was already posted.
        loaded = context.posting_context(
            membership=membership, day=day, source=request.source, external_reference=request.external_reference
        )
        if loaded.existing_id is not None:
            return _existing_activity(request)
        activity, quantities = _prepare(request, day=day, now=now, in_force=loaded.in_force, tier=loaded.tier)
    else:
        # No read first: the insert itself finds an already posted reference (below), one round trip fewer
        # for every first post.
        activity, quantities = _prepare(request, day=day, now=now)
    try:
        _write(activity, quantities, now)
    except IntegrityError:
        if request.key and (existing := _existing_activity(request)) is not None:
            return existing
        raise
    activity.just_posted = True
    return activity


@dataclass
class PostedAlong:
    """An activity posted by another write's statement: `writes` go in that statement's `along`
    (loyalty.lifecycle.transition), `activity` has its pk once the statement ran, and `id_sql` is its id
    for the writes after them (sql.insert_along's expressions)."""

    activity: Activity
    writes: list
    id_sql: str = f"(SELECT id FROM {statements.POSTED_ALONG})"


def activity_along(**post):
    """post_activity's post of given `entries` (a refund's, a redemption's), made by the statement of a
    change of state it goes with, only when that change is made: one round trip for both.

    Takes post_activity's keyword arguments; validated and valued as it does. A reference already posted
    raises IntegrityError when the statement has run, and the transaction rolls back.
    """
    request = ActivityRequest(**post)
    _validate(request)
    if request.entries is None:
        raise ValidationError({"entries": "An activity posted along another write is given its entries."})
    now = timezone.now()
    day = _occurred_on(request, request.membership.program if request.occurred_on is None else None)
    activity, quantities = _prepare(request, day=day, now=now)
    rows = [(metric, quantity) for metric, quantity in quantities.items() if quantity]
    insert, entries = statements.activity_along_statements(len(rows))

    def made(pk):
        if pk is None:
            raise IntegrityError(f"An activity with the reference {activity.external_reference} is already posted.")
        activity.pk = pk
        activity._state.adding, activity._state.db = False, connection.alias
        activity.just_posted = True

    writes = [sql.Along(insert, sql.db_values(statements.ACTIVITY_FIELDS, activity, adding=True), returns="id",
                        then=made, name=statements.POSTED_ALONG)]  # fmt: skip
    if rows:
        writes.append(sql.Along(entries, [activity.membership_id, now] + [value for row in rows for value in row]))
    return PostedAlong(activity, writes)


def post_adjustment(
    *,
    membership,
    points,
    reason,
    source,
    bucket=Metric.MISC,
    external_reference="",
    caused_by=None,
    occurred_on=None,
    extra_entries=None,
):
    """A manual award (or tier) adjustment: no rules, exactly these quantities.

    `extra_entries` (metric -> quantity) adds other buckets to the same
    activity, e.g. base and bonus and tier nights of one limited adjustment.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason for this adjustment."})
    quantities = {}
    if points:
        quantities[str(bucket)] = points
    for metric, quantity in (extra_entries or {}).items():
        if quantity:
            quantities[str(metric)] = quantities.get(str(metric), 0) + quantity
    if not quantities:
        raise ValidationError({"points": "An adjustment must change at least one balance."})
    return post_activity(
        membership=membership,
        kind=Activity.Kind.ADJUSTMENT,
        source=source,
        occurred_on=occurred_on or membership.program.local_date(timezone.now()),
        external_reference=external_reference,
        caused_by=caused_by,
        description=reason.strip()[:200],
        entries=quantities,
    )


def reverse_activity(*, activity, reason, caused_by=None, source="reversal"):
    """Post the opposite entries of `activity`, linked to it; an activity is reversed at most once."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason for this reversal."})
    now = timezone.now()
    try:
        with transaction.atomic():
            original = Activity.objects.select_for_update().select_related("membership__program").get(pk=activity.pk)
            if original.kind == Activity.Kind.REVERSAL:
                raise ValidationError("A reversal cannot itself be reversed; post an adjustment instead.")
            if Activity.objects.filter(reverses=original).exists():
                raise AlreadyReversed(original)
            totals = {
                row["metric"]: -row["total"]
                for row in original.entries.order_by().values("metric").annotate(total=Sum("quantity"))
            }
            program = original.membership.program
            reversal = Activity(
                membership=original.membership,
                kind=Activity.Kind.REVERSAL,
                occurred_on=program.local_date(now),
                posted_at=now,
                source=source,
                caused_by=caused_by,
                description=reason.strip()[:200],
                amount=-original.amount if original.amount is not None else None,
                currency=original.currency,
                location=original.location,
                reverses=original,
                explanation={
                    "reverses": {
                        "id": original.pk,
                        "kind": original.kind,
                        "occurred_on": original.occurred_on.isoformat(),
                        "posted_at": original.posted_at.isoformat(),
                        "rule_set": (original.explanation or {}).get("rule_set"),
                    },
                    "reason": reason.strip(),
                    "processed_at": now.isoformat(),
                    "totals": {metric: valuation._fmt(qty) for metric, qty in totals.items()},
                    "points": int(sum(totals.get(m, 0) for m in Metric.award())),
                },
            )
            reversal.save(force_insert=True)
            LedgerEntry.objects.bulk_create(_entries(reversal, totals, now))
    except IntegrityError:
        # Two reversals raced: the one-to-one link let only one through.
        raise AlreadyReversed(activity)
    reversal.just_posted = True
    return reversal


def _validate(request):
    if request.kind not in POSTABLE_KINDS:
        raise ValidationError({"kind": f"“{request.kind}” is not a kind of activity that can be posted."})
    if not request.source or len(request.source) > 30:
        raise ValidationError({"source": "Give the channel that caused this activity (at most 30 characters)."})
    if len(request.external_reference) > 100:
        raise ValidationError({"external_reference": "The reference is longer than 100 characters."})
    if len(request.currency) > 3:
        raise ValidationError({"currency": "Use a three-letter currency code."})
    if request.occurred_on is None and request.occurred_at is None:
        raise ValidationError({"occurred_on": "Give the date the activity took place."})
    if request.occurred_at is not None and timezone.is_naive(request.occurred_at):
        raise ValidationError({"occurred_at": "The time must carry its time zone."})
    if request.location is not None and request.location.program_id != request.membership.program_id:
        raise ValidationError({"location": f"{request.location} is not a location of this program."})
    if request.entries is None and request.kind in GIVEN_KINDS:
        raise ValidationError({"entries": f"A {request.kind} posts the quantities it is given: none were given."})
    if request.entries is not None:
        for metric, quantity in request.entries.items():
            if metric not in METRICS:
                raise ValidationError({"entries": f"“{metric}” is not a points bucket or tier metric."})
            if isinstance(quantity, bool) or not isinstance(quantity, int | Decimal):
                raise ValidationError({"entries": f"The quantity of {metric} must be a whole number."})
            if metric != Metric.REVENUE and quantity != int(quantity):
                raise ValidationError({"entries": f"Points are whole numbers: {metric} {quantity} is not."})


def _occurred_on(request, program):
    """The program-local date decides rules and tier: 23:30 local on the last day is that day."""
    if request.occurred_on is not None:
        return request.occurred_on
    return program.local_date(request.occurred_at)


def _prepare(request, *, day, now, program=None, in_force=..., tier=..., current_balances=None):
    """The unsaved Activity and its quantities per metric, valued as of `day`."""
    if request.entries is not None:
        quantities = {metric: Decimal(q) for metric, q in request.entries.items() if q}
        explanation = {
            "rule_set": None,
            "date_used": day.isoformat(),
            "given": True,
            "note": f"Posted as given by {request.source}: no earning rules apply to a {request.kind}.",
            "reason": request.description,
            "processed_at": now.isoformat(),
            "totals": {metric: valuation._fmt(q) for metric, q in quantities.items()},
            "points": int(sum(quantities.get(m, 0) for m in Metric.award())),
        }
        rule_set = tier = None
    else:
        result = valuation.value_activity(
            membership=request.membership,
            kind=request.kind,
            occurred_on=day,
            amount=request.amount,
            attributes=request.attributes,
            location=request.location,
            program=program,
            in_force=in_force,
            tier=tier,
            current_balances=current_balances,
            now=now,
        )
        quantities, explanation, rule_set, tier = result.entries, result.explanation, result.rule_set, result.tier
    activity = Activity(
        membership=request.membership,
        kind=request.kind,
        occurred_on=day,
        occurred_at=request.occurred_at,
        posted_at=now,
        source=request.source,
        external_reference=request.external_reference,
        description=request.description[:200],
        amount=request.amount,
        currency=request.currency,
        attributes=request.attributes or {},
        explanation=explanation,
    )
    # Related objects only when present: assigning None through the descriptors costs batches time.
    for name, value in (
        ("caused_by", request.caused_by),
        ("location", request.location),
        ("rule_set", rule_set),
        ("tier", tier),
    ):
        if value is not None:
            setattr(activity, name, value)
    return activity, quantities


def _write(activity, quantities, now):
    """Insert the activity and its entries atomically, in one statement (one round trip).

    If its reference was already posted (a retry, or a concurrent post that committed first),
    nothing is written and IntegrityError is raised; the caller's transaction stays usable.
    """
    rows = [(metric, quantity) for metric, quantity in quantities.items() if quantity]
    params = sql.db_values(statements.ACTIVITY_FIELDS, activity, adding=True)
    if rows:
        params += [activity.membership_id, now] + [value for row in rows for value in row]
    inserted = sql.run(statements.insert_activity_statement(len(rows)), params)
    if not inserted:
        raise IntegrityError(f"An activity with the reference {activity.external_reference} is already posted.")
    activity.pk = inserted[0][0]
    activity._state.adding, activity._state.db = False, connection.alias


def _entries(activity, quantities, now):
    return [
        LedgerEntry(
            activity=activity, membership_id=activity.membership_id, metric=metric, quantity=qty, created_at=now
        )
        for metric, qty in quantities.items()
        if qty
    ]


def _existing_activity(request):
    activity = Activity.objects.filter(
        membership_id=request.membership.pk, source=request.source, external_reference=request.external_reference
    ).first()
    if activity is not None:
        activity.just_posted = False
    return activity
