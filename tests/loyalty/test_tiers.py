"""Tier history: change_tier closes the open period and opens the next; partials show history and balances."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from loyalty import selectors, services
from loyalty.models import TierPeriod
from tests.loyalty._builders import D, freeze, member, seed_003_sets, shop, tiers

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return shop()


@pytest.fixture
def tier(program):
    return tiers(program)


def test_change_tier_closes_the_open_period_the_day_before(program, tier, supervisor):
    membership = member(program, tier["silver"], since=D(2023, 1, 1))

    gold = services.change_tier(
        membership=membership,
        tier=tier["gold"],
        effective_on=D(2023, 8, 10),
        reason="big purchase",
        changed_by=supervisor,
    )

    history = list(selectors.tier_history(membership))
    assert [(p.tier.name, p.valid_from, p.valid_to) for p in history] == [
        ("Gold", D(2023, 8, 10), None),
        ("Silver", D(2023, 1, 1), D(2023, 8, 9)),
    ]
    assert gold.changed_by == supervisor and gold.reason == "big purchase"


def test_a_first_tier_opens_a_period(program, tier):
    membership = member(program)

    services.change_tier(membership=membership, tier=tier["bronze"], effective_on=D(2023, 3, 1))

    assert TierPeriod.objects.get(membership=membership).valid_to is None


@pytest.mark.parametrize(
    ("effective_on", "message"),
    [
        (D(2022, 12, 31), "started on 2023-01-01; a change must take effect after that date"),
        (D(2023, 1, 1), "started on 2023-01-01"),
    ],
)
def test_a_change_before_the_open_period_starts_is_refused(program, tier, effective_on, message):
    membership = member(program, tier["silver"], since=D(2023, 1, 1))

    with pytest.raises(ValidationError, match=message):
        services.change_tier(membership=membership, tier=tier["gold"], effective_on=effective_on)

    assert TierPeriod.objects.get(membership=membership).valid_to is None


def test_the_same_tier_or_another_programs_tier_is_refused(program, tier):
    membership = member(program, tier["silver"], since=D(2023, 1, 1))
    foreign = tiers(shop(code="air", name="Sky Miles"))["gold"]

    with pytest.raises(ValidationError, match="already holds Silver"):
        services.change_tier(membership=membership, tier=tier["silver"], effective_on=D(2023, 5, 1))
    with pytest.raises(ValidationError, match="not a tier of Shop Rewards"):
        services.change_tier(membership=membership, tier=foreign, effective_on=D(2023, 5, 1))


def test_postgres_refuses_overlapping_tier_periods(program, tier):
    membership = member(program, tier["silver"], since=D(2023, 1, 1))
    services.change_tier(membership=membership, tier=tier["gold"], effective_on=D(2023, 8, 10))

    with pytest.raises(IntegrityError, match="tier_periods_do_not_overlap"), transaction.atomic():
        TierPeriod.objects.create(
            membership=membership, tier=tier["bronze"], valid_from=D(2023, 3, 1), valid_to=D(2023, 3, 31)
        )


def test_tier_history_partial_lists_periods_newest_first(program, tier, supervisor):
    membership = member(program, tier["silver"], since=D(2023, 1, 1))
    services.change_tier(
        membership=membership, tier=tier["gold"], effective_on=D(2023, 8, 10), reason="Upgrade", changed_by=supervisor
    )

    html = render_to_string("loyalty/partials/tier_history.html", {"tier_periods": selectors.tier_history(membership)})

    assert html.index("Gold") < html.index("Silver")
    assert "2023-08-09" in html and "Upgrade" in html and "current" in html


def test_balances_partial_shows_award_balance_and_the_programs_tier_metrics(monkeypatch):
    hotel = shop(code="inn", name="Inn Club", kind="hotel", currency_name="Points")
    seed_003_sets(hotel)
    membership = member(hotel)
    freeze(monkeypatch)
    services.post_activity(
        membership=membership,
        kind="stay",
        occurred_on=D(2023, 5, 20),
        amount=Decimal("1234.50"),
        attributes={"nights": 2},
        source="pms",
    )
    services.post_adjustment(membership=membership, points=1000, bucket="bonus", reason="welcome", source="csr")

    html = render_to_string(
        "loyalty/partials/balances.html", {"balances": selectors.balances(membership), "program": hotel}
    )

    assert "1,098 Points" in html
    assert "Nights" in html and "Revenue" in html and "1,234.50" in html
    assert "Qualifying miles" not in html
