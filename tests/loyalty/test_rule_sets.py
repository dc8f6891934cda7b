"""Effective-dated rule sets: no overlap, and a used set is never edited (model level; admin in test_loyalty_admin)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from loyalty import services
from loyalty.models import EarningRule, EarningRuleSet
from tests.loyalty._builders import D, fixed, freeze, member, rule_set, seed_003_sets, shop

pytestmark = pytest.mark.django_db


def test_an_overlapping_set_is_refused_with_a_readable_message():
    program = shop()
    seed_003_sets(program)
    clash = EarningRuleSet(program=program, name="Summer promo", valid_from=D(2023, 6, 15), valid_to=D(2023, 7, 15))

    with pytest.raises(ValidationError) as caught:
        clash.full_clean()

    assert "overlaps" in caught.value.messages[0]
    assert "end the earlier set the day before" in caught.value.messages[0]


def test_adjacent_sets_and_other_programs_do_not_clash():
    program = shop()
    seed_003_sets(program)
    after = EarningRuleSet(program=program, name="Autumn", valid_from=D(2023, 9, 1))
    elsewhere = EarningRuleSet(program=shop(code="air", name="Sky"), name="All year", valid_from=D(2023, 1, 1))

    after.full_clean()
    elsewhere.full_clean()


def test_an_open_ended_set_overlaps_everything_after_it():
    program = shop()
    rule_set(program, "Forever", D(2023, 1, 1))

    with pytest.raises(ValidationError, match="overlaps"):
        EarningRuleSet(program=program, name="Later", valid_from=D(2030, 1, 1)).full_clean()


def test_postgres_refuses_overlapping_sets_even_without_validation():
    program = shop()
    seed_003_sets(program)

    with pytest.raises(IntegrityError, match="rule_sets_do_not_overlap"), transaction.atomic():
        EarningRuleSet.objects.create(program=program, name="Sneaky", valid_from=D(2023, 8, 31))


@pytest.fixture
def used_set(monkeypatch):
    program = shop()
    set_a, _ = seed_003_sets(program)
    freeze(monkeypatch)
    services.post_activity(membership=member(program), kind="purchase", occurred_on=D(2023, 5, 20), source="pos")
    return set_a


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Renamed"), ("valid_from", D(2023, 2, 1)), ("valid_to", D(2023, 6, 29))],
)
def test_a_used_set_cannot_be_edited(used_set, field, value):
    setattr(used_set, field, value)

    with pytest.raises(ValidationError, match="Create a new rule set for the new period"):
        used_set.save()

    used_set.refresh_from_db()
    assert used_set.name == "Set 2 (H1 2023)" and used_set.valid_to == D(2023, 6, 30)


def test_the_rules_of_a_used_set_cannot_be_added_changed_or_deleted(used_set):
    rule = used_set.rules.get()

    rule.points = 1000
    with pytest.raises(ValidationError, match="can no longer be edited"):
        rule.save()
    with pytest.raises(ValidationError, match="can no longer be edited"):
        rule.delete()
    with pytest.raises(ValidationError, match="can no longer be edited"):
        EarningRule.objects.create(rule_set=used_set, **fixed(5))
    assert used_set.rules.get().points == 98


def test_a_used_set_cannot_be_deleted(used_set):
    with pytest.raises(ValidationError, match="can no longer be edited or deleted"):
        used_set.delete()
    assert EarningRuleSet.objects.filter(pk=used_set.pk).exists()


def test_an_open_ended_used_set_may_only_be_closed_after_its_last_valued_date(monkeypatch):
    program = shop()
    open_set = rule_set(program, "Since 2023", D(2023, 1, 1), None, [fixed(10)])
    freeze(monkeypatch)
    services.post_activity(membership=member(program), kind="purchase", occurred_on=D(2023, 5, 20), source="pos")

    open_set.valid_to = D(2023, 5, 19)
    with pytest.raises(ValidationError):
        open_set.save()
    open_set.valid_to = D(2023, 6, 30)
    open_set.save()

    open_set.refresh_from_db()
    assert open_set.valid_to == D(2023, 6, 30)


def test_an_unused_set_can_still_be_corrected():
    program = shop()
    _, set_b = seed_003_sets(program)
    set_b.name = "Summer 2023"
    set_b.valid_to = D(2023, 9, 30)
    set_b.save()
    rule = set_b.rules.get()
    rule.points = 90
    rule.save()

    assert EarningRule.objects.get(pk=rule.pk).points == 90


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"calculation": "fixed"}, "points"),
        ({"calculation": "percent"}, "rate"),
        ({"calculation": "fixed", "points": 5, "tracker": "award_balance"}, "tracker_min"),
        ({"calculation": "distance", "class_multipliers": {"J": "lots"}}, "class_multipliers"),
    ],
)
def test_an_incomplete_rule_is_a_form_error(spec, field):
    program = shop()
    rs = rule_set(program, "Draft", D(2024, 1, 1))

    with pytest.raises(ValidationError) as caught:
        EarningRule(rule_set=rs, name="Draft rule", **spec).full_clean()

    assert field in caught.value.message_dict


def test_the_database_itself_refuses_queryset_updates_of_a_used_sets_rules_and_dates(used_set):
    # Issue 9: the guard lived in save() only; an update() changed what past postings said they earned.
    with pytest.raises(IntegrityError, match="can no longer be edited"), transaction.atomic():
        EarningRule.objects.filter(rule_set=used_set).update(points=500)
    with pytest.raises(IntegrityError, match="can no longer be edited"), transaction.atomic():
        EarningRuleSet.objects.filter(pk=used_set.pk).update(valid_from=D(2023, 1, 2))
    with pytest.raises(IntegrityError, match="can no longer be edited"), transaction.atomic():
        EarningRule.objects.filter(rule_set=used_set).delete()
    assert used_set.rules.get().points == 98


def test_the_database_lets_an_unused_set_change_and_an_open_used_set_be_closed_after_its_last_date():
    program = shop()
    unused = rule_set(program, "Before launch", D(2020, 1, 1), D(2022, 12, 31), rules=[fixed(5)])
    EarningRule.objects.filter(rule_set=unused).update(points=6)
    open_set = rule_set(program, "Open", D(2023, 1, 1), rules=[fixed(10)])
    services.post_activity(membership=member(program), kind="purchase", source="pos", occurred_on=D(2023, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        EarningRuleSet.objects.filter(pk=open_set.pk).update(valid_to=D(2023, 2, 1))  # before its last valued date
    EarningRuleSet.objects.filter(pk=open_set.pk).update(valid_to=D(2023, 12, 31))
    assert unused.rules.get().points == 6
