"""The ledger: idempotent posting, reversals, adjustments, batches, and append-only entries."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string

from loyalty import selectors, services
from loyalty.models import Activity, EarningRule, LedgerEntry
from loyalty.services import context as posting_context
from tests.loyalty._builders import D, fixed, freeze, member, rule_set, seed_003_sets, shop, tiers

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership(monkeypatch):
    program = shop()
    seed_003_sets(program)
    freeze(monkeypatch)
    return member(program)


def purchase(membership, reference="", day=None, **kwargs):
    day = day or D(2023, 5, 20)
    return services.post_activity(
        membership=membership, kind="purchase", occurred_on=day, source="pos", external_reference=reference, **kwargs
    )


def test_the_same_external_reference_posts_once(membership):
    first = purchase(membership, "RCPT-1")
    again = purchase(membership, "RCPT-1", day=D(2023, 7, 3))

    assert again.pk == first.pk
    assert first.just_posted is True and again.just_posted is False
    assert selectors.award_balance(membership) == 98
    assert Activity.objects.count() == 1


def test_the_same_reference_from_another_source_or_member_is_another_activity(membership):
    purchase(membership, "RCPT-1")
    services.post_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), source="csr", external_reference="RCPT-1"
    )
    purchase(member(membership.program), "RCPT-1")

    assert Activity.objects.count() == 3


def test_a_concurrent_duplicate_is_caught_by_the_constraint_and_returns_the_first(membership, monkeypatch):
    first = purchase(membership, "RCPT-9")
    # Simulate losing the race: the look-up sees nothing, then the insert collides.
    real_context = posting_context.posting_context

    def blind(**kwargs):
        loaded = real_context(**kwargs)
        loaded.existing_id = None
        return loaded

    monkeypatch.setattr(posting_context, "posting_context", blind)
    with transaction.atomic():  # a caller's transaction stays usable: the insert ran in a savepoint
        again = purchase(membership, "RCPT-9")
        assert Activity.objects.count() == 1

    assert again.pk == first.pk
    assert selectors.award_balance(membership) == 98


def test_a_reversal_restores_the_balance_and_cannot_be_repeated(membership, csr):
    activity = purchase(membership, "RCPT-2")
    services.post_adjustment(membership=membership, points=10, reason="goodwill", source="csr")

    reversal = services.reverse_activity(activity=activity, reason="duplicate receipt", caused_by=csr)

    assert reversal.kind == Activity.Kind.REVERSAL
    assert reversal.reverses == activity
    assert selectors.award_balance(membership) == 10
    assert [(e.metric, e.quantity) for e in reversal.entries.all()] == [("base", Decimal(-98))]
    with pytest.raises(ValidationError, match="already reversed"):
        services.reverse_activity(activity=activity, reason="again")
    with pytest.raises(ValidationError, match="cannot itself be reversed"):
        services.reverse_activity(activity=reversal, reason="undo")
    assert selectors.award_balance(membership) == 10


def test_the_database_refuses_a_second_reversal_link(membership):
    activity = purchase(membership, "RCPT-3")
    services.reverse_activity(activity=activity, reason="wrong member")

    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(
            membership=membership,
            kind="reversal",
            occurred_on=D(2023, 8, 17),
            posted_at=activity.posted_at,
            source="sql",
            reverses=activity,
        )


def test_an_adjustment_posts_exactly_its_buckets(membership, csr):
    adjustment = services.post_adjustment(
        membership=membership,
        points=250,
        bucket="bonus",
        reason="Limited adjustment, claim C-1",
        source="claims",
        external_reference="C-1",
        caused_by=csr,
        extra_entries={"base": 100, "nights": 2},
    )
    services.post_adjustment(
        membership=membership, points=250, bucket="bonus", reason="retry", source="claims", external_reference="C-1"
    )

    balances = selectors.balances(membership)
    assert adjustment.kind == Activity.Kind.ADJUSTMENT
    assert adjustment.rule_set is None
    assert adjustment.occurred_on == D(2023, 8, 17)  # program-local today
    assert (balances["bonus"], balances["base"], balances["nights"]) == (250, 100, 2)
    assert selectors.award_balance(membership) == 350
    assert balances["qualifying_miles"] == 0


def test_a_redemption_posts_the_quantities_it_is_given_without_rules(membership):
    purchase(membership, "RCPT-7")

    redemption = services.post_activity(
        membership=membership,
        kind="redemption",
        occurred_on=D(2023, 8, 17),
        source="exchange",
        external_reference="BOOK-1",
        entries={"base": -60},
    )

    assert selectors.award_balance(membership) == 38
    assert redemption.rule_set is None and redemption.explanation["given"] is True
    with pytest.raises(ValidationError, match="none were given"):
        services.post_activity(membership=membership, kind="redemption", occurred_on=D(2023, 8, 17), source="x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": 0}, "at least one balance"),
        ({"points": 5, "reason": " "}, "reason"),
        ({"points": 5, "bucket": "gold"}, "not a points bucket"),
        ({"points": Decimal("2.5")}, "whole numbers"),
    ],
)
def test_a_bad_adjustment_is_refused(membership, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        services.post_adjustment(membership=membership, **{"reason": "why", "source": "csr", **kwargs})
    assert not Activity.objects.exists()


def test_post_activity_stays_within_six_queries(membership, django_assert_max_num_queries):
    purchase(membership, "warm-up")
    with django_assert_max_num_queries(5):  # 3 queries + the savepoint pair of the test's transaction
        purchase(membership, "RCPT-Q")
    with django_assert_max_num_queries(2):
        assert purchase(membership, "RCPT-Q").just_posted is False


def test_post_activities_gives_the_same_results_and_explanations_as_post_activity(monkeypatch):
    program = shop()
    tier = tiers(program)
    seed_003_sets(program)
    rule_set(
        program,
        "Autumn",
        D(2023, 9, 1),
        None,
        [
            {"calculation": EarningRule.Calculation.PERCENT_OF_AMOUNT, "rate": Decimal(15), "tier": tier["silver"]},
            fixed(5, tracker="award_balance", tracker_min=Decimal(100), metric="bonus", name="Tracker bonus"),
        ],
    )
    freeze(monkeypatch, dt.datetime(2023, 9, 20, 9, tzinfo=dt.UTC))
    one, two = member(program, tier["silver"]), member(program, tier["silver"])
    specs = [
        {"occurred_on": D(2023, 5, 20), "external_reference": "A"},
        {"occurred_on": D(2023, 9, 3), "amount": Decimal("80.00"), "external_reference": "B"},
        {"occurred_on": D(2023, 7, 1), "external_reference": "C"},
        {"occurred_on": D(2023, 9, 4), "amount": Decimal("10"), "external_reference": "D"},
        {"occurred_on": D(2021, 1, 1), "external_reference": "E"},  # no rule set in force
        {"occurred_on": D(2023, 5, 20), "external_reference": "A"},  # duplicate inside the batch
    ]

    singles = []
    for spec in specs:
        try:
            singles.append(services.post_activity(membership=one, kind="purchase", source="pos", **spec))
        except services.NoRuleSetInForce as error:
            singles.append(error)
    batch = services.post_activities(
        requests=[services.ActivityRequest(membership=two, kind="purchase", source="pos", **spec) for spec in specs]
    )

    assert len(batch) == len(specs)
    assert isinstance(batch[4], services.NoRuleSetInForce)
    assert batch[4].messages == singles[4].messages
    assert batch[5].pk == batch[0].pk and batch[5].just_posted is False
    for single, batched in zip(singles, batch, strict=True):
        if isinstance(single, Exception):
            continue
        assert batched.pk is not None
        assert _without_ids(batched.explanation) == _without_ids(single.explanation)
        assert _entries(batched) == _entries(single)
    assert selectors.balances(two) == selectors.balances(one)
    # Posting the batch again posts nothing.
    again = services.post_activities(
        requests=[services.ActivityRequest(membership=two, kind="purchase", source="pos", **spec) for spec in specs]
    )
    assert [a.pk for a in again if not isinstance(a, Exception)] == [
        a.pk for a in batch if not isinstance(a, Exception)
    ]
    assert selectors.balances(two) == selectors.balances(one)


def test_post_activities_uses_a_fixed_number_of_queries(membership, django_assert_max_num_queries):
    requests = [
        services.ActivityRequest(
            membership=member(membership.program), kind="purchase", source="pos", occurred_on=D(2023, 5, 1 + i % 28)
        )
        for i in range(60)
    ]
    with django_assert_max_num_queries(10):  # two COPY statements, the look-ups and a savepoint pair
        results = services.post_activities(requests=requests)
    assert all(r.just_posted for r in results)
    assert LedgerEntry.objects.count() == 60


def test_bad_items_fail_alone_in_a_batch(membership):
    results = services.post_activities(
        requests=[
            services.ActivityRequest(membership=membership, kind="teleport", source="pos", occurred_on=D(2023, 5, 1)),
            services.ActivityRequest(membership=membership, kind="purchase", source="pos"),
            services.ActivityRequest(membership=membership, kind="purchase", source="pos", occurred_on=D(2023, 5, 1)),
        ]
    )

    assert "not a kind of activity" in results[0].messages[0]
    assert "Give the date" in results[1].messages[0]
    assert results[2].just_posted
    assert selectors.award_balance(membership) == 98


def test_ledger_entries_cannot_be_updated_or_deleted(membership):
    purchase(membership, "RCPT-4")
    entry = LedgerEntry.objects.get()

    entry.quantity = 1000
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()
    with pytest.raises(RuntimeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).update(quantity=1000)
    with pytest.raises(RuntimeError, match="append-only"):
        LedgerEntry.objects.all().delete()
    assert selectors.award_balance(membership) == 98


def test_postgres_refuses_raw_updates_and_deletes_of_ledger_entries(membership):
    purchase(membership, "RCPT-5")
    for statement in ("UPDATE loyalty_ledgerentry SET quantity = 1", "DELETE FROM loyalty_ledgerentry"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert selectors.award_balance(membership) == 98


def test_postgres_refuses_an_entry_for_another_membership_than_its_activity(membership):
    activity = purchase(membership, "RCPT-6")
    other = member(membership.program)

    with pytest.raises(IntegrityError, match="ledger_entry_in_membership_of_its_activity"), transaction.atomic():
        LedgerEntry.objects.create(
            activity=activity, membership=other, metric="bonus", quantity=5, created_at=activity.posted_at
        )
    assert selectors.award_balance(other) == 0


@pytest.mark.django_db(transaction=True)
def test_racing_posts_of_one_reference_credit_once():
    program = shop()
    seed_003_sets(program)
    membership = member(program)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def post():
        try:
            barrier.wait()
            results.append(purchase(membership, "RACE-1").pk)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert selectors.award_balance(membership) == 98


def test_balances_list_every_metric_with_zero_when_none(membership):
    balances = selectors.balances(membership)

    assert set(balances) >= {"base", "bonus", "misc", "tier_points", "nights", "revenue"}
    assert all(value == 0 for value in balances.values())
    assert selectors.award_balance(membership) == 0


def _without_ids(explanation):
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "id"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(explanation)


def _entries(activity):
    return sorted((e.metric, e.quantity) for e in LedgerEntry.objects.filter(activity=activity))


def _render_activities_tab(membership, rf):
    page = Paginator(selectors.member_activities(membership), 25).get_page(1)
    request = rf.get("/members/x/tabs/activities/")
    request.user = AnonymousUser()
    context = {"membership": membership, "activities": page, "program": membership.program}
    return render_to_string("loyalty/partials/tab_activities.html", context, request=request)


@pytest.mark.parametrize("count", [1, 20])
def test_the_activities_tab_issues_a_fixed_number_of_queries(membership, rf, count, django_assert_max_num_queries):
    for i in range(count):
        activity = purchase(membership, f"R{i}")
    services.reverse_activity(activity=activity, reason="wrong card")
    services.post_adjustment(membership=membership, points=5, reason="sorry", source="csr")
    membership = type(membership).objects.select_related("program", "member").get(pk=membership.pk)

    with django_assert_max_num_queries(3):  # count, the page, its entries
        html = _render_activities_tab(membership, rf)

    assert html.count("<details") == count + 2


def test_the_activities_tab_explains_each_posting(membership, rf):
    purchase(membership, "R1")
    activity = services.post_adjustment(membership=membership, points=5, reason="Goodwill for the delay", source="csr")
    services.reverse_activity(activity=activity, reason="posted twice")

    html = _render_activities_tab(membership, rf)

    assert "2023-05-20" in html and "2023-08-17" in html  # original date beside posted date
    assert "Set 2 (H1 2023)" in html
    assert "Allocate 98: fixed 98 points → 98 base" in html
    assert "Goodwill for the delay" in html
    assert "Reverses the adjustment of 2023-08-17" in html and "posted twice" in html
    assert "reversed 2023-08-17" in html


@pytest.mark.django_db
def test_the_ledger_refuses_truncate_to_a_session_that_has_not_said_so():
    import psycopg

    params = connection.get_connection_params()
    params.pop("options", None)
    params.pop("prepare_threshold", None)
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        for table in ("loyalty_ledgerentry", "loyalty_activity"):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="cannot be truncated"):
                other.execute(f"TRUNCATE {table} CASCADE")
