"""Small builders for loyalty-core tests: programs with tiers, rule sets and members."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from loyalty.models import EarningRule, EarningRuleSet
from tests.factories import MembershipFactory, ProgramFactory, TierFactory, TierPeriodFactory

D = dt.date
PROCESSED = dt.datetime(2023, 8, 17, 10, 0, tzinfo=dt.UTC)


def freeze(monkeypatch, moment=PROCESSED):
    """Make timezone.now() return `moment` everywhere it is called through the module."""
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def shop(**kwargs):
    return ProgramFactory(**kwargs)


def tiers(program):
    return {
        code: TierFactory(program=program, code=code, name=code.title(), rank=rank)
        for rank, code in enumerate(["bronze", "silver", "gold"], start=1)
    }


def rule_set(program, name, valid_from, valid_to=None, rules=()):
    rs = EarningRuleSet.objects.create(program=program, name=name, valid_from=valid_from, valid_to=valid_to)
    for spec in rules:
        spec = dict(spec)
        spec.setdefault("name", f"{spec['calculation']} rule")
        if "rate" in spec and spec["rate"] is not None:
            spec["rate"] = Decimal(str(spec["rate"]))
        EarningRule.objects.create(rule_set=rs, **spec)
    return rs


def fixed(points, **kwargs):
    return {"calculation": EarningRule.Calculation.FIXED, "points": points, **kwargs}


def member(program, tier=None, since=None):
    since = since or D(2022, 1, 1)
    membership = MembershipFactory(program=program)
    if tier is not None:
        TierPeriodFactory(membership=membership, tier=tier, valid_from=since)
    return membership


def seed_003_sets(program):
    """Seed 003's worked example: set A allocates 98 points, set B 89."""
    a = rule_set(program, "Set 2 (H1 2023)", D(2023, 1, 1), D(2023, 6, 30), [fixed(98, name="Allocate 98")])
    b = rule_set(program, "Set 3 (summer 2023)", D(2023, 7, 1), D(2023, 8, 31), [fixed(89, name="Allocate 89")])
    return a, b
