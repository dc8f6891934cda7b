"""Posting many activities at once (daily jobs): a handful of queries per batch, same results."""

import copy
import json
from dataclasses import fields
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from psycopg import errors as psycopg_errors

from loyalty import valuation
from loyalty.models import Activity, LedgerEntry, Metric, Program, Tier, TierPeriod
from loyalty.services import posting_statements as statements
from loyalty.services.posting import ActivityRequest, _occurred_on, _prepare, _validate, post_activity


def post_activities(*, requests):
    """Post many ActivityRequests with a handful of queries per batch (daily jobs).

    Same valuation, explanations and idempotency as post_activity(). Returns
    one result per request, in order: the Activity (`just_posted` False when
    its reference was already posted, in the database or earlier in this
    batch), or, when that item could not be posted, the ValidationError
    (NoRuleSetInForce, bad input) describing why. A failed item never stops
    the batch: callers mark those items failed with `str(error.messages[0])`.
    """
    requests = list(requests)
    results = [None] * len(requests)
    now = timezone.now()
    programs = Program.objects.in_bulk({r.membership.program_id for r in requests})
    days = {}
    for index, request in enumerate(requests):
        try:
            _validate(request)
            days[index] = _occurred_on(request, programs.get(request.membership.program_id))
        except ValidationError as error:
            results[index] = error
    valid = list(days)
    if not valid:
        return results

    existing = _existing_activities([requests[i] for i in valid])
    first, last = min(days.values()), max(days.values())
    membership_ids = {requests[i].membership.pk for i in valid}
    rule_sets = valuation.rule_sets_between({requests[i].membership.program_id for i in valid}, first, last)
    # Periods as plain rows and each program's few tiers once: no model per period.
    tiers = {tier.pk: tier for tier in Tier.objects.filter(program_id__in=programs)}
    periods = {}
    rows = (
        TierPeriod.objects.filter(membership_id__in=membership_ids, valid_from__lte=last)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
        .values_list("membership_id", "valid_from", "valid_to", "tier_id")
    )
    for membership_id, valid_from, valid_to, tier_id in rows:
        periods.setdefault(membership_id, []).append(valuation.Period(valid_from, valid_to, tiers[tier_id]))
    uses_trackers = any(rule.tracker for sets in rule_sets.values() for item in sets for rule in item.rules)
    running = _balances_by_membership(membership_ids) if uses_trackers else {}

    pending, posted_now, repeats = [], {}, []
    for index in valid:
        request = requests[index]
        key = request.key
        if key in existing:
            results[index] = existing[key]
            continue
        if key in posted_now:
            repeats.append((index, posted_now[key]))
            continue
        day = days[index]
        try:
            activity, quantities = _prepare(
                request,
                day=day,
                now=now,
                program=programs[request.membership.program_id],
                in_force=valuation.pick_rule_set(rule_sets.get(request.membership.program_id), day),
                tier=valuation.tier_from_periods(periods.get(request.membership.pk, ()), day),
                current_balances=running.setdefault(request.membership.pk, _zero_balances()),
            )
        except ValidationError as error:
            results[index] = error
            continue
        if uses_trackers:
            for metric, quantity in quantities.items():
                running[request.membership.pk][metric] += quantity
        activity.just_posted = True
        results[index] = activity
        pending.append((activity, quantities))
        if key:
            posted_now[key] = activity

    if pending:
        try:
            with transaction.atomic():
                _insert(pending, now)
        except IntegrityError:
            # A concurrent poster took one of these references: redo this batch
            # one by one, each item idempotent and race-safe on its own.
            return _post_one_by_one(requests)
    for index, first in repeats:
        # A repeat inside the batch is the first one's Activity, but not posted again.
        results[index] = copy.copy(first)
        results[index].just_posted = False
    return results


def _insert(pending, now):
    """Write the batch with COPY, its activity ids taken from the sequence first."""
    for (activity, _), pk in zip(pending, statements.take_activity_ids(len(pending)), strict=True):
        activity.pk = pk
        activity._state.adding, activity._state.db = False, connection.alias
    fields = Activity._meta.concrete_fields
    rows = ([_copy_value(activity, field) for field in fields] for activity, _ in pending)
    entries = (
        [activity.pk, activity.membership_id, metric, quantity, now]
        for activity, quantities in pending
        for metric, quantity in quantities.items()
        if quantity
    )
    try:
        statements.copy_activities(rows, entries)
    except psycopg_errors.IntegrityError as error:
        raise IntegrityError(str(error)) from error


def _copy_value(activity, field):
    value = getattr(activity, field.attname)
    if field.attname in ("attributes", "explanation"):
        return json.dumps(value)
    return value


def _existing_activities(requests):
    keyed = [r for r in requests if r.key]
    if not keyed:
        return {}
    wanted = {r.key for r in keyed}
    existing = {}
    for activity in statements.activities_by_reference(wanted):
        key = (activity.membership_id, activity.source, activity.external_reference)
        if key in wanted:
            activity.just_posted = False
            existing[key] = activity
    return existing


def _zero_balances():
    return {metric.value: Decimal(0) for metric in Metric}


def _balances_by_membership(membership_ids):
    running = {}
    rows = (
        LedgerEntry.objects.filter(membership_id__in=membership_ids)
        .order_by()
        .values_list("membership_id", "metric")
        .annotate(total=Sum("quantity"))
    )
    for membership_id, metric, total in rows:
        running.setdefault(membership_id, _zero_balances())[metric] = total
    return running


def _post_one_by_one(requests):
    results = []
    for request in requests:
        try:
            results.append(post_activity(**{f.name: getattr(request, f.name) for f in fields(ActivityRequest)}))
        except ValidationError as error:
            results.append(error)
    return results
