"""Point-in-time valuation: seed 003's examples, each calculation, conditions, trackers, estimates."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from loyalty import selectors, services, valuation
from loyalty.models import Activity, EarningRule
from tests.factories import LocationFactory
from tests.loyalty._builders import D, fixed, freeze, member, rule_set, seed_003_sets, shop, tiers

pytestmark = pytest.mark.django_db
Calc = EarningRule.Calculation


def test_seed_003_retro_transaction_earns_under_the_set_of_its_original_date(monkeypatch):
    program = shop()
    set_a, _set_b = seed_003_sets(program)
    membership = member(program)
    now = freeze(monkeypatch)  # processed on 2023-08-17, while set B is in force

    activity = services.post_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), source="retro", external_reference="R-1"
    )

    assert selectors.award_balance(membership) == 98
    assert activity.rule_set == set_a
    assert activity.occurred_on == D(2023, 5, 20)
    assert activity.posted_at == now
    explanation = activity.explanation
    assert explanation["rule_set"]["name"] == "Set 2 (H1 2023)"
    assert explanation["date_used"] == "2023-05-20"
    assert explanation["rules"] == [
        {
            "id": set_a.rules.get().pk,
            "name": "Allocate 98",
            "metric": "base",
            "points": 98,
            "arithmetic": "fixed 98 points",
        }
    ]


def test_seed_003_tier_example_earns_the_tier_of_the_original_date(monkeypatch):
    program = shop()
    tier = tiers(program)
    rule_set(
        program,
        "2023 tier percentages",
        D(2023, 1, 1),
        D(2023, 12, 31),
        [
            {"calculation": Calc.PERCENT_OF_AMOUNT, "rate": 20, "tier": tier["gold"], "name": "Gold 20%"},
            {"calculation": Calc.PERCENT_OF_AMOUNT, "rate": 15, "tier": tier["silver"], "name": "Silver 15%"},
            {"calculation": Calc.PERCENT_OF_AMOUNT, "rate": 10, "tier": tier["bronze"], "name": "Bronze 10%"},
        ],
    )
    membership = member(program, tier["silver"], since=D(2023, 1, 1))
    services.change_tier(membership=membership, tier=tier["gold"], effective_on=D(2023, 8, 10), reason="big purchase")
    freeze(monkeypatch)

    activity = services.post_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), amount=Decimal("200.00"), source="retro"
    )

    assert selectors.award_balance(membership) == 30  # 15 % of 200, not Gold's 20 %
    assert activity.tier == tier["silver"]
    assert activity.explanation["tier"]["name"] == "Silver"
    assert [r["arithmetic"] for r in activity.explanation["rules"]] == ["floor(200 × 15%) = 30"]
    reasons = {r["name"]: r["reason"] for r in activity.explanation["not_applied"]}
    assert reasons["Gold 20%"] == "needs tier Gold; the member held Silver on 2023-05-20"
    # Today's estimate uses today's tier and says which date it used.
    estimate = valuation.estimate_points(membership=membership, kind="purchase", amount=Decimal("200.00"))
    assert estimate.points == 40
    assert estimate.explanation["date_used"] == "2023-08-17"
    assert estimate.explanation["date_basis"] == valuation.BASIS_ESTIMATE


def test_no_rule_set_in_force_is_refused_with_a_readable_message(monkeypatch):
    program = shop()
    seed_003_sets(program)
    membership = member(program)
    freeze(monkeypatch)

    with pytest.raises(services.NoRuleSetInForce) as caught:
        services.post_activity(membership=membership, kind="purchase", occurred_on=D(2021, 3, 4), source="pos")

    assert caught.value.messages == [
        "No earning rule set is in force on 2021-03-04 for Shop Rewards; points cannot be calculated."
    ]
    assert isinstance(caught.value, ValidationError)
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("occurred_at", "expected_points"),
    [
        (dt.datetime(2023, 6, 30, 21, 30, tzinfo=dt.UTC), 98),  # 23:30 in Paris on 30 June: set A's last day
        (dt.datetime(2023, 6, 30, 22, 30, tzinfo=dt.UTC), 89),  # 00:30 on 1 July in Paris: set B
    ],
)
def test_a_purchase_late_on_the_last_local_day_earns_under_that_set(monkeypatch, occurred_at, expected_points):
    program = shop(time_zone="Europe/Paris")
    seed_003_sets(program)
    membership = member(program)
    freeze(monkeypatch)

    activity = services.post_activity(membership=membership, kind="purchase", occurred_at=occurred_at, source="pos")

    assert activity.occurred_on == program.local_date(occurred_at)
    assert selectors.award_balance(membership) == expected_points


def test_each_calculation_shows_its_arithmetic():
    program = shop(code="air", name="Sky Miles", kind="airline", currency_name="Miles")
    tier = tiers(program)
    rule_set(
        program,
        "Air 2023",
        D(2023, 1, 1),
        None,
        [
            {"calculation": Calc.DISTANCE, "activity_kind": "flight", "class_multipliers": {"J": 1.5}, "name": "Miles"},
            {
                "calculation": Calc.PERCENT_OF_BASE,
                "rate": 25,
                "metric": "bonus",
                "tier": tier["gold"],
                "name": "Gold bonus",
            },
            {"calculation": Calc.PER_CURRENCY_UNIT, "rate": "0.5", "metric": "tier_points", "name": "Tier points"},
            fixed(100, activity_kind="flight", booking_class="J", metric="misc", name="Business welcome"),
            fixed(7, activity_kind="stay", name="Never for flights"),
        ],
    )
    membership = member(program, tier["gold"])

    result = valuation.value_activity(
        membership=membership,
        kind="flight",
        occurred_on=D(2023, 3, 1),
        amount=Decimal("401.99"),
        attributes={"distance": 1234, "booking_class": "J", "cabin": "business"},
    )

    assert result.entries == {
        "base": Decimal(1851),
        "bonus": Decimal(462),
        "misc": Decimal(100),
        "tier_points": Decimal(200),
        "qualifying_miles": Decimal(1234),
        "qualifying_segments": Decimal(1),
    }
    assert result.points == 1851 + 462 + 100
    texts = [rule["arithmetic"] for rule in result.explanation["rules"]]
    assert "floor(1234 miles × 1.5 (booking class J)) = 1851" in texts
    assert "floor(1851 base × 25%) = 462" in texts
    assert "floor(401.99 × 0.5 per unit) = 200" in texts


def test_conditions_on_location_cabin_and_minimum_amount():
    program = shop()
    store, other = LocationFactory(program=program, code="PARIS1"), LocationFactory(program=program, code="LYON1")
    rule_set(
        program,
        "2023",
        D(2023, 1, 1),
        None,
        [
            fixed(50, location=store, name="Paris flagship"),
            fixed(20, min_amount=Decimal("100"), name="Big basket", metric="bonus"),
        ],
    )
    membership = member(program)

    small_elsewhere = valuation.value_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 2, 1), amount=Decimal("99.99"), location=other
    )
    big_in_paris = valuation.value_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 2, 1), amount=Decimal("100"), location=store
    )

    assert small_elsewhere.points == 0
    assert {r["reason"] for r in small_elsewhere.explanation["not_applied"]} == {
        "only at PARIS1",
        "needs an amount of at least 100 (amount: 99.99)",
    }
    assert big_in_paris.entries == {"base": Decimal(50), "bonus": Decimal(20)}


def test_trackers_are_read_at_processing_time_not_on_the_original_date(monkeypatch):
    program = shop()
    seed_003_sets(program)
    rule_set(
        program,
        "Autumn",
        D(2023, 9, 1),
        None,
        [
            fixed(
                500,
                tracker=EarningRule.Tracker.AWARD_BALANCE,
                tracker_min=Decimal(150),
                metric="bonus",
                name="Loyal shopper",
            )
        ],
    )
    membership = member(program)
    freeze(monkeypatch, dt.datetime(2023, 9, 20, 9, 0, tzinfo=dt.UTC))
    services.post_activity(membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), source="pos")  # 98
    below = services.post_activity(membership=membership, kind="purchase", occurred_on=D(2023, 9, 5), source="pos")
    services.post_activity(membership=membership, kind="purchase", occurred_on=D(2023, 7, 5), source="pos")  # 89
    # Dated before the other two were posted, but processed now: the tracker reads today's 187 (+ earlier).
    met = services.post_activity(membership=membership, kind="purchase", occurred_on=D(2023, 9, 2), source="pos")

    assert below.explanation["trackers"][0]["met"] is False
    assert below.explanation["trackers"][0]["value"] == "98"
    assert met.explanation["trackers"][0] == {
        "rule": "Loyal shopper",
        "tracker": "Award balance",
        "value": "187",
        "minimum": "150",
        "met": True,
        "note": "read at processing time (2023-09-20), not on the original date",
    }
    assert met.explanation["totals"] == {"bonus": "500"}


def test_stays_count_stays_nights_and_revenue():
    program = shop(code="inn", name="Inn Club", kind="hotel")
    rule_set(program, "Stays", D(2023, 1, 1), None, [{"calculation": Calc.PER_CURRENCY_UNIT, "rate": 10}])
    membership = member(program)

    result = valuation.value_activity(
        membership=membership,
        kind="stay",
        occurred_on=D(2023, 4, 2),
        amount=Decimal("310.50"),
        attributes={"nights": 3},
    )

    assert result.entries == {
        "base": Decimal(3105),
        "stays": Decimal(1),
        "nights": Decimal(3),
        "revenue": Decimal("310.50"),
    }


def test_a_malformed_distance_is_a_validation_error_not_a_crash():
    program = shop(code="air", name="Sky Miles", kind="airline")
    rule_set(program, "Air", D(2023, 1, 1), None, [{"calculation": Calc.DISTANCE}])
    membership = member(program)

    with pytest.raises(ValidationError, match="is not a number"):
        valuation.value_activity(
            membership=membership, kind="flight", occurred_on=D(2023, 1, 2), attributes={"distance": "far"}
        )


def test_tier_on_answers_for_any_date():
    program = shop()
    tier = tiers(program)
    membership = member(program, tier["silver"], since=D(2023, 1, 1))
    services.change_tier(membership=membership, tier=tier["gold"], effective_on=D(2023, 8, 10))

    assert valuation.tier_on(membership, D(2022, 12, 31)) is None
    assert valuation.tier_on(membership, D(2023, 8, 9)) == tier["silver"]
    assert valuation.tier_on(membership, D(2023, 8, 10)) == tier["gold"]
    assert valuation.tier_on(membership, D(2030, 1, 1)) == tier["gold"]
