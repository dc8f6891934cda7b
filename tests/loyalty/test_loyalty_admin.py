"""Django admin for the loyalty core: every model listed, rule sets guarded, the ledger read-only."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty import services
from loyalty.models import EarningRuleSet, TierPeriod
from tests.factories import LocationFactory, UserFactory
from tests.loyalty._builders import D, fixed, freeze, member, rule_set, seed_003_sets, shop, tiers

pytestmark = pytest.mark.django_db

MODELS = [
    "program",
    "tier",
    "tierperiod",
    "member",
    "membership",
    "location",
    "activity",
    "ledgerentry",
    "earningruleset",
    "earningrule",
]


@pytest.fixture
def world(monkeypatch):
    program = shop()
    tier = tiers(program)
    set_a, set_b = seed_003_sets(program)
    LocationFactory(program=program, code="PARIS1")
    membership = member(program, tier["silver"], since=D(2023, 1, 1))
    freeze(monkeypatch)
    activity = services.post_activity(
        membership=membership, kind="purchase", occurred_on=D(2023, 5, 20), source="pos", external_reference="R1"
    )
    return {
        "program": program,
        "tier": tier,
        "set_a": set_a,
        "set_b": set_b,
        "membership": membership,
        "activity": activity,
    }


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def url(model, action="changelist", *args):
    return reverse(f"admin:loyalty_{model}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS)
def test_every_loyalty_model_has_a_searchable_list(admin_client, world, model):
    response = admin_client.get(url(model), {"q": "S"})

    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_it_requires_staff_for_the_admin(client, csr, model):
    client.force_login(csr)

    response = client.get(url(model))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_it_refuses_a_staff_user_without_the_permission(client, db):
    client.force_login(UserFactory(username="clerk", is_staff=True))

    assert client.get(url("earningruleset")).status_code == 403


def test_it_sends_anonymous_users_to_the_login(client, db):
    response = client.get(url("activity"))

    assert response.status_code == 302 and reverse("admin:login") in response.url


def test_an_overlapping_rule_set_is_a_form_error(admin_client, world):
    response = admin_client.post(
        url("earningruleset", "add"),
        {
            "program": world["program"].pk,
            "name": "Summer promo",
            "valid_from": "2023-06-15",
            "valid_to": "2023-07-15",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "overlaps" in response.content.decode()
    assert not EarningRuleSet.objects.filter(name="Summer promo").exists()


def test_a_new_set_with_inline_rules_is_created(admin_client, world):
    response = admin_client.post(
        url("earningruleset", "add"),
        {
            "program": world["program"].pk,
            "name": "Autumn 2023",
            "valid_from": "2023-09-01",
            "valid_to": "",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-name": "Welcome back",
            "rules-0-activity_kind": "purchase",
            "rules-0-calculation": "fixed",
            "rules-0-metric": "base",
            "rules-0-points": "75",
            "rules-0-class_multipliers": "{}",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert EarningRuleSet.objects.get(name="Autumn 2023").rules.get().points == 75


def test_a_used_set_is_shown_read_only_with_the_reason(admin_client, world):
    set_a = world["set_a"]

    response = admin_client.get(url("earningruleset", "change", set_a.pk))
    html = response.content.decode()

    assert response.status_code == 200
    assert "can no longer be edited or deleted" in html
    assert "create a new rule set for the new period" in html
    assert 'name="name"' not in html and 'name="rules-0-points"' not in html
    assert admin_client.get(url("earningruleset", "delete", set_a.pk)).status_code == 403
    admin_client.post(url("earningruleset", "change", set_a.pk), {"name": "Hacked", "valid_to": "2023-12-31"})
    set_a.refresh_from_db()
    assert set_a.name == "Set 2 (H1 2023)" and set_a.valid_to == D(2023, 6, 30)


def test_an_unused_set_stays_editable(admin_client, world):
    html = admin_client.get(url("earningruleset", "change", world["set_b"].pk)).content.decode()

    assert 'name="name"' in html and "can no longer be edited" not in html


def test_an_open_ended_used_set_may_be_given_an_end_after_its_last_use(admin_client, monkeypatch):
    program = shop()
    open_set = rule_set(program, "Since 2023", D(2023, 1, 1), None, [fixed(10)])
    freeze(monkeypatch)
    services.post_activity(membership=member(program), kind="purchase", occurred_on=D(2023, 5, 20), source="pos")
    form = {"valid_to": "2023-05-01", "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "1"}

    too_early = admin_client.post(url("earningruleset", "change", open_set.pk), form)
    assert "must stay in force until then" in too_early.content.decode()
    admin_client.post(url("earningruleset", "change", open_set.pk), {**form, "valid_to": "2023-06-30"})

    open_set.refresh_from_db()
    assert open_set.valid_to == D(2023, 6, 30)


def test_the_list_shows_which_set_is_in_force_today(admin_client, db):
    program = shop()
    today = timezone.localdate()
    rule_set(program, "Last year", today - dt.timedelta(days=400), today - dt.timedelta(days=1))
    rule_set(program, "Current rules", today)

    html = admin_client.get(url("earningruleset"), {"period": "today"}).content.decode()

    assert "Current rules" in html and "Last year" not in html
    full = admin_client.get(url("earningruleset")).content.decode()
    assert "In force today" in full and 'alt="True"' in full


def test_copy_as_next_set_copies_the_rules_into_a_new_period(admin_client, world):
    response = admin_client.post(
        url("earningruleset"),
        {"action": "copy_as_next_set", "_selected_action": [world["set_b"].pk]},
        follow=True,
    )

    copy = EarningRuleSet.objects.get(valid_from=D(2023, 9, 1))
    assert copy.rules.get().points == 89
    assert "edit its rules before it comes into force" in response.content.decode()


def test_the_ledger_is_read_only_in_admin(admin_client, world):
    activity = world["activity"]
    entry = activity.entries.get()

    assert admin_client.get(url("activity", "add")).status_code == 403
    assert admin_client.get(url("activity", "delete", activity.pk)).status_code == 403
    assert admin_client.get(url("ledgerentry", "add")).status_code == 403
    assert admin_client.get(url("ledgerentry", "delete", entry.pk)).status_code == 403
    html = admin_client.get(url("activity", "change", activity.pk)).content.decode()
    assert "fixed 98 points" in html  # the explanation, shown
    assert 'name="_save"' not in html


def test_tier_periods_show_read_only_on_the_membership(admin_client, world):
    html = admin_client.get(url("membership", "change", world["membership"].pk)).content.decode()

    assert "Silver" in html and "Award points: 98" in html
    assert "tier_periods-0-tier" not in html


def test_adding_a_tier_period_changes_the_tier_through_the_service(admin_client, world, admin_user):
    membership, gold = world["membership"], world["tier"]["gold"]

    refused = admin_client.post(
        url("tierperiod", "add"),
        {"membership": membership.pk, "tier": gold.pk, "valid_from": "2022-06-01", "reason": "typo"},
    )
    assert "a change must take effect after that date" in refused.content.decode()
    admin_client.post(
        url("tierperiod", "add"),
        {"membership": membership.pk, "tier": gold.pk, "valid_from": "2023-08-10", "reason": "upgrade"},
    )

    periods = TierPeriod.objects.filter(membership=membership).order_by("valid_from")
    assert [(p.tier.name, p.valid_to) for p in periods] == [("Silver", D(2023, 8, 9)), ("Gold", None)]
    assert periods.last().changed_by == admin_user
