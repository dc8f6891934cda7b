"""post_activity's context: read from the database on every post, instances reused only for identical values."""

import pytest

from loyalty import services
from loyalty.models import EarningRule
from loyalty.services import context
from tests.loyalty._builders import D, fixed, freeze, member, rule_set, shop, tiers

pytestmark = pytest.mark.django_db


PURCHASE_DAY = D(2023, 5, 20)


def _context(membership, day=PURCHASE_DAY):
    return context.posting_context(membership=membership, day=day, source="pos", external_reference="ctx")


def test_a_rule_edited_between_two_posts_is_read_as_edited(monkeypatch):
    freeze(monkeypatch)
    program = shop()
    rules = rule_set(program, "Draft", D(2023, 1, 1), rules=[fixed(10, name="Welcome")])
    membership = member(program)
    assert _context(membership).in_force.rules[0].points == 10

    EarningRule.objects.filter(rule_set=rules).update(points=25)  # the set has valued nothing yet
    assert _context(membership).in_force.rules[0].points == 25
    posted = services.post_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), source="pos", external_reference="p1"
    )
    assert posted.explanation["points"] == 25


def test_a_tier_change_between_two_posts_values_the_second_with_the_new_tier(monkeypatch):
    freeze(monkeypatch)
    program = shop()
    levels = tiers(program)
    rule_set(program, "Rules", D(2023, 1, 1), rules=[fixed(100, name="Gold only", tier=levels["gold"])])
    silver, gold = member(program, tier=levels["silver"]), member(program, tier=levels["gold"])

    assert _context(silver).tier == levels["silver"]
    assert _context(gold).tier == levels["gold"]
    services.change_tier(membership=silver, tier=levels["gold"], effective_on=D(2023, 5, 1), reason="upgrade")
    assert _context(silver).tier == levels["gold"]
    assert _context(silver, day=D(2023, 4, 30)).tier == levels["silver"]


def test_members_on_the_same_rules_share_the_built_rule_instances(monkeypatch):
    freeze(monkeypatch)
    program = shop()
    rule_set(program, "Rules", D(2023, 1, 1), rules=[fixed(10, name="Welcome")])
    first, second = _context(member(program)), _context(member(program))
    assert first.in_force is second.in_force
