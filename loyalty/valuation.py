"""Point-in-time valuation: the rule set and tier in force on a date, and the arithmetic, explained."""

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from loyalty.exceptions import NoRuleSetInForce
from loyalty.models import Activity, EarningRule, EarningRuleSet, Metric, TierPeriod
from loyalty.selectors import balances

Calc = EarningRule.Calculation
EARNING_KINDS = {Activity.Kind.FLIGHT, Activity.Kind.STAY, Activity.Kind.PURCHASE}
AWARD_METRICS = tuple(m.value for m in Metric.award())
BASIS_ORIGINAL = "the activity's original date"
BASIS_ESTIMATE = "today's rules and tier (estimate)"


@dataclass
class RuleSetInForce:
    """A rule set with its rules already loaded, so valuing issues no further query."""

    rule_set: EarningRuleSet
    rules: list = field(default_factory=list)


@dataclass
class Valuation:
    entries: dict  # metric -> signed Decimal quantity, zeros left out
    explanation: dict
    rule_set: EarningRuleSet | None = None
    tier: object = None
    date_used: dt.date | None = None

    @property
    def points(self):
        """Award points (base + bonus + misc) this valuation gives."""
        return int(sum(self.entries.get(metric, 0) for metric in Metric.award()))


# Lookups -------------------------------------------------------------------


def tier_on(membership, day):
    """The tier the membership held on `day`, or None."""
    period = (
        TierPeriod.objects.select_related("tier")
        .filter(membership_id=membership.pk, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .first()
    )
    return period.tier if period else None


class Period(NamedTuple):
    valid_from: dt.date
    valid_to: dt.date | None
    tier: object


def tier_from_periods(periods, day):
    """tier_on() over periods already loaded (batch posting)."""
    for period in periods:
        if period.valid_from <= day and (period.valid_to is None or day <= period.valid_to):
            return period.tier
    return None


def rule_set_in_force(program_id, day):
    """The set covering `day` with its rules: one query (two when the set has no rules)."""
    covering = Q(rule_set__valid_to__isnull=True) | Q(rule_set__valid_to__gte=day)
    rules = list(
        EarningRule.objects.select_related("rule_set", "tier", "location")
        .filter(covering, rule_set__program_id=program_id, rule_set__valid_from__lte=day)
        .order_by("id")
    )
    if rules:
        return RuleSetInForce(rules[0].rule_set, rules)
    rule_set = (
        EarningRuleSet.objects.filter(program_id=program_id, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .first()
    )
    return RuleSetInForce(rule_set, []) if rule_set else None


def rule_sets_between(program_ids, first, last):
    """Every set of these programs touching [first, last], rules loaded: for batches. Two queries."""
    sets = (
        EarningRuleSet.objects.filter(program_id__in=program_ids, valid_from__lte=last)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
        .order_by("valid_from")
    )
    loaded = {rs.pk: RuleSetInForce(rs, []) for rs in sets}
    if loaded:
        for rule in (
            EarningRule.objects.select_related("tier", "location").filter(rule_set_id__in=loaded).order_by("id")
        ):
            rule.rule_set = loaded[rule.rule_set_id].rule_set
            loaded[rule.rule_set_id].rules.append(rule)
    by_program = {}
    for item in loaded.values():
        by_program.setdefault(item.rule_set.program_id, []).append(item)
    return by_program


def pick_rule_set(candidates, day):
    for item in candidates or ():
        if item.rule_set.covers(day):
            return item
    return None


# Valuation -----------------------------------------------------------------


def value_activity(
    *,
    membership,
    kind,
    occurred_on,
    amount=None,
    attributes=None,
    location=None,
    program=None,
    in_force=...,
    tier=...,
    current_balances: Callable | dict | None = None,
    now=None,
    basis=BASIS_ORIGINAL,
):
    """Value an activity with the rules and tier in force on `occurred_on`.

    `in_force` (None: no set in force), `tier` and `current_balances` may be
    passed already loaded (posting, batches); otherwise they are read. Trackers are the only input
    read as of processing time (`now`), as seed 003's callout requires.
    Raises NoRuleSetInForce when no set covers the date.
    """
    now = now or timezone.now()
    attributes = attributes or {}
    amount = _decimal(amount, "amount") if amount is not None else None
    if in_force is ...:
        in_force = rule_set_in_force(membership.program_id, occurred_on)
    if in_force is None:
        raise NoRuleSetInForce(program=program or membership.program, day=occurred_on)
    if tier is ...:
        tier = tier_on(membership, occurred_on)
    tracker_values = _TrackerReader(membership, current_balances)

    entries = {}
    applied, not_applied, trackers = [], [], []
    context = {
        "kind": kind,
        "day": occurred_on,
        "amount": amount,
        "attributes": attributes,
        "location": location,
        "tier": tier,
    }
    # Base-dependent rules (tier bonuses) run after the rest so "base" is complete.
    ordered = sorted(in_force.rules, key=lambda r: r.calculation == Calc.PERCENT_OF_BASE)
    for rule in ordered:
        if rule.activity_kind and rule.activity_kind != kind:
            continue
        reason = _condition_fails(rule, context)
        if reason is None and rule.tracker:
            value = tracker_values.read(rule.tracker)
            minimum = rule.tracker_min or Decimal(0)
            met = value >= minimum
            trackers.append(
                {
                    "rule": rule.name,
                    "tracker": rule.get_tracker_display(),
                    "value": _fmt(value),
                    "minimum": _fmt(minimum),
                    "met": met,
                    "note": f"read at processing time ({timezone.localtime(now).date().isoformat()}), "
                    "not on the original date",
                }
            )
            if not met:
                reason = f"{rule.get_tracker_display()} is {_fmt(value)} at processing time, below {_fmt(minimum)}"
        if reason is None:
            quantity, arithmetic, reason = _calculate(rule, amount, attributes, entries.get(Metric.BASE, Decimal(0)))
        if reason is not None:
            not_applied.append({"id": rule.pk, "name": rule.name, "reason": reason})
            continue
        entries[rule.metric] = entries.get(rule.metric, Decimal(0)) + quantity
        applied.append(
            {"id": rule.pk, "name": rule.name, "metric": rule.metric, "points": int(quantity), "arithmetic": arithmetic}
        )

    metrics = _tier_metrics(kind, amount, attributes)
    for item in metrics:
        entries[item["metric"]] = entries.get(item["metric"], Decimal(0)) + item["quantity"]
        item["quantity"] = _fmt(item["quantity"])
    entries = {metric: qty for metric, qty in entries.items() if qty != 0}

    rule_set = in_force.rule_set
    explanation = {
        "rule_set": {
            "id": rule_set.pk,
            "name": rule_set.name,
            "valid_from": rule_set.valid_from.isoformat(),
            "valid_to": rule_set.valid_to.isoformat() if rule_set.valid_to else None,
        },
        "date_used": occurred_on.isoformat(),
        "date_basis": basis,
        "tier": {"id": tier.pk, "name": tier.name} if tier else None,
        "tier_note": f"{tier.name if tier else 'No tier'} on {occurred_on.isoformat()}",
        "processed_at": now.isoformat(),
        "rules": applied,
        "not_applied": not_applied,
        "trackers": trackers,
        "metrics": metrics,
        "totals": {metric: _fmt(qty) for metric, qty in entries.items()},
        "points": int(sum(entries.get(m, 0) for m in AWARD_METRICS)),
    }
    return Valuation(entries=entries, explanation=explanation, rule_set=rule_set, tier=tier, date_used=occurred_on)


def estimate_points(*, membership, kind, amount=None, attributes=None, location=None, as_of=None):
    """Seed 002's "Est. Points": today's rules and tier (not the original date's); says which date it used."""
    program = membership.program
    day = as_of or program.local_date(timezone.now())
    return value_activity(
        membership=membership,
        kind=kind,
        occurred_on=day,
        amount=amount,
        attributes=attributes,
        location=location,
        program=program,
        basis=BASIS_ESTIMATE,
    )


# Helpers -------------------------------------------------------------------


class _TrackerReader:
    """Current balances, read once and only if a rule needs a tracker."""

    def __init__(self, membership, source):
        self.membership = membership
        self.source = source
        self.values = source if isinstance(source, dict) else None

    def read(self, tracker):
        if self.values is None:
            if callable(self.source):
                self.values = self.source()
            else:
                self.values = balances(self.membership)
        if tracker == EarningRule.Tracker.AWARD_BALANCE:
            return sum((self.values.get(m, Decimal(0)) for m in Metric.award()), Decimal(0))
        return self.values.get(Metric.TIER_POINTS, Decimal(0))


def _condition_fails(rule, ctx):
    """Why this rule does not apply, or None when every condition holds."""
    attrs = ctx["attributes"]
    day = ctx["day"].isoformat()
    if rule.tier_id is not None and (ctx["tier"] is None or ctx["tier"].pk != rule.tier_id):
        held = ctx["tier"].name if ctx["tier"] else "no tier"
        return f"needs tier {rule.tier.name}; the member held {held} on {day}"
    if rule.location_id is not None and (ctx["location"] is None or ctx["location"].pk != rule.location_id):
        return f"only at {rule.location.code}"
    if rule.cabin and str(attrs.get("cabin", "")).casefold() != rule.cabin.casefold():
        return f"only in cabin {rule.cabin}"
    if rule.booking_class and str(attrs.get("booking_class", "")).upper() != rule.booking_class.upper():
        return f"only in booking class {rule.booking_class}"
    if rule.min_amount is not None and (ctx["amount"] is None or ctx["amount"] < rule.min_amount):
        shown = _fmt(ctx["amount"]) if ctx["amount"] is not None else "none"
        return f"needs an amount of at least {_fmt(rule.min_amount)} (amount: {shown})"
    return None


def _calculate(rule, amount, attributes, base_so_far):
    """(quantity, arithmetic text, None) or (None, None, reason it could not apply)."""
    rate = rule.rate if rule.rate is not None else Decimal(0)
    if rule.calculation == Calc.FIXED:
        points = rule.points or 0
        return Decimal(points), f"fixed {points} points", None
    if rule.calculation in (Calc.PER_CURRENCY_UNIT, Calc.PERCENT_OF_AMOUNT):
        if amount is None:
            return None, None, "no amount was given"
        if rule.calculation == Calc.PER_CURRENCY_UNIT:
            result = _floor(amount * rate)
            return result, f"floor({_fmt(amount)} × {_fmt(rate)} per unit) = {result}", None
        result = _floor(amount * rate / 100)
        return result, f"floor({_fmt(amount)} × {_fmt(rate)}%) = {result}", None
    if rule.calculation == Calc.DISTANCE:
        if attributes.get("distance") in (None, ""):
            return None, None, "no distance was given"
        distance = _decimal(attributes["distance"], "distance")
        multiplier, label = _class_multiplier(rule, attributes)
        result = _floor(distance * multiplier)
        return result, f"floor({_fmt(distance)} miles × {_fmt(multiplier)} ({label})) = {result}", None
    if rule.calculation == Calc.PERCENT_OF_BASE:
        result = _floor(base_so_far * rate / 100)
        return result, f"floor({_fmt(base_so_far)} base × {_fmt(rate)}%) = {result}", None
    return None, None, f"unknown calculation “{rule.calculation}”"


def _class_multiplier(rule, attributes):
    multipliers = rule.class_multipliers or {}
    for key, name in ((attributes.get("booking_class"), "booking class"), (attributes.get("cabin"), "cabin")):
        if key and str(key) in multipliers:
            return Decimal(str(multipliers[str(key)])), f"{name} {key}"
    return Decimal(1), "no class multiplier"


def _tier_metrics(kind, amount, attributes):
    """Qualifying metrics an earning activity counts for, whatever the rules."""
    items = []
    if kind == Activity.Kind.FLIGHT:
        if attributes.get("distance") not in (None, ""):
            miles = _floor(_decimal(attributes["distance"], "distance"))
            items.append(
                {"metric": Metric.QUALIFYING_MILES.value, "quantity": miles, "arithmetic": f"distance {miles}"}
            )
        items.append({"metric": Metric.QUALIFYING_SEGMENTS.value, "quantity": Decimal(1), "arithmetic": "one segment"})
    elif kind == Activity.Kind.STAY:
        items.append({"metric": Metric.STAYS.value, "quantity": Decimal(1), "arithmetic": "one stay"})
        if attributes.get("nights") not in (None, ""):
            nights = _floor(_decimal(attributes["nights"], "nights"))
            words = f"{nights} night{'' if nights == 1 else 's'}"
            items.append({"metric": Metric.NIGHTS.value, "quantity": nights, "arithmetic": words})
        if amount is not None:
            items.append({"metric": Metric.REVENUE.value, "quantity": amount, "arithmetic": f"amount {_fmt(amount)}"})
    return [item for item in items if item["quantity"] != 0]


def _decimal(value, name):
    if isinstance(value, Decimal):
        return value
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({name: f"“{value}” is not a number."}) from None
    if not result.is_finite():
        raise ValidationError({name: f"“{value}” is not a number."})
    return result


def _floor(value):
    return Decimal(math.floor(value))


def _fmt(value):
    """Decimal as plain text without a useless exponent or trailing zeros (15.0000 -> 15)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")
