"""manage.py seed_demo: a realistic, deterministic demo that a second run leaves unchanged."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.http import HttpRequest
from django.test import Client

from loyalty.demo import seed_demo
from loyalty.models import (
    Activity,
    EarningRule,
    EarningRuleSet,
    LedgerEntry,
    Location,
    Member,
    Membership,
    Program,
    TierPeriod,
)
from retro.models import RetroClaim, RetroClaimKey, RetroSettings, RetroTransaction
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The demo hashes four passwords; PBKDF2 at full strength would dominate the test time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _counts():
    models = [
        Program, Location, EarningRuleSet, EarningRule, Member, Membership, TierPeriod, Activity, LedgerEntry, User,
        RetroClaimKey, RetroSettings, RetroTransaction, RetroClaim,
    ]  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


def test_a_small_run_builds_programs_members_logins_rules_and_activities():
    out = StringIO()
    call_command("seed_demo", members=20, stdout=out)

    programs = {p.code: p for p in Program.objects.all()}
    assert {p.kind for p in programs.values()} == {"airline", "hotel", "retail"}
    airline = programs["skyway"]
    assert (airline.currency_name, airline.time_zone) == ("Miles", "America/New_York")
    assert list(airline.tiers.values_list("name", flat=True)) == ["Blue", "Silver", "Gold", "Platinum"]
    assert list(programs["maison"].tiers.values_list("name", flat=True)) == ["Member", "Silver", "Gold", "Platinum"]
    assert list(programs["marche"].tiers.values_list("name", flat=True)) == ["Bronze", "Silver", "Gold"]
    assert airline.locations.filter(code="JFK", kind="airport").exists()

    assert Member.objects.count() == 20
    # Accents, hyphens and apostrophes, searchable without them.
    zoe = Member.objects.get(search_name__contains="zoe lefevre martin")
    assert zoe.full_name == "Zoë Lefèvre-Martin" and zoe.email and zoe.phone
    assert Member.objects.filter(last_name="O'Brien").exists()
    assert Member.objects.filter(first_name="José", last_name="Nuñez").exists()
    assert Member.objects.filter(last_name="Müller").exists()
    assert all(m.search_name == m.search_name.casefold() for m in Member.objects.all())
    assert not Membership.objects.filter(Q(membership_number="") | Q(card_level="")).exists()

    # The four demo logins work, each in its role.
    for username, password in [("csr", "csr-demo-pass"), ("supervisor", "supervisor-demo-pass"),
                               ("admin", "admin-demo-pass"), ("member", "member-demo-pass")]:  # fmt: skip
        # django-axes checks each sign-in against its request; the test client has none to give.
        assert Client().login(request=HttpRequest(), username=username, password=password), username
        assert f"{username} / {password}" in out.getvalue()
    assert User.objects.get(username="csr").groups.filter(name="CSR").exists()
    assert User.objects.get(username="supervisor").has_perm("retro.approve_retroclaim")
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.groups.filter(name="Admin").exists()
    member_user = User.objects.get(username="member")
    assert member_user.groups.filter(name="Member").exists() and member_user.member == zoe

    # Rule sets over several periods, with seed 003's figures for the retailer.
    assert EarningRuleSet.objects.filter(program=airline).count() == 3
    retail_rules = EarningRule.objects.filter(rule_set__program=programs["marche"])
    assert set(retail_rules.filter(calculation="fixed").values_list("points", flat=True)) == {98, 89}
    assert {(r.tier.name, int(r.rate)) for r in retail_rules.filter(calculation="percent")} == {
        ("Gold", 20), ("Silver", 15), ("Bronze", 10),
    }  # fmt: skip

    # A year of activities, every one with ledger entries and an explanation.
    activities = Activity.objects.exclude(source="retro")
    assert activities.count() > 40
    assert not activities.annotate(n=Count("entries")).filter(n=0).exists()
    assert not activities.filter(explanation={}).exists()
    assert LedgerEntry.objects.filter(metric="base", quantity__gt=0).exists()
    assert {"flight", "stay", "purchase"} <= set(activities.values_list("kind", flat=True))


def test_tier_histories_are_consistent_and_include_upgrades():
    seed_demo(members=30, skip={"retro"}, log=lambda message: None)
    for membership in Membership.objects.prefetch_related("tier_periods"):
        periods = sorted(membership.tier_periods.all(), key=lambda p: p.valid_from)
        assert periods[0].valid_from == membership.joined_on
        assert [p.valid_to for p in periods].count(None) == 1 and periods[-1].valid_to is None
        for before, after in zip(periods, periods[1:], strict=False):
            assert after.valid_from == before.valid_to + dt.timedelta(days=1)
            assert after.tier.rank > before.tier.rank
        assert membership.card_level == periods[-1].tier.name
    assert TierPeriod.objects.filter(valid_to__isnull=False).exists()


def test_activities_are_valued_with_the_rules_of_their_own_date():
    # Dated runs are reproducible: a year ending late February 2026 spans three rule sets.
    seed_demo(members=25, skip={"retro"}, log=lambda message: None, today=dt.date(2026, 3, 1))
    purchases = Activity.objects.filter(kind="purchase").select_related("rule_set")
    h1 = purchases.filter(occurred_on__lte=dt.date(2025, 6, 30))
    h2 = purchases.filter(occurred_on__range=(dt.date(2025, 7, 1), dt.date(2025, 12, 31)))
    assert h1.exists() and h2.exists() and purchases.filter(occurred_on__gte=dt.date(2026, 1, 1)).exists()
    assert all(a.explanation["points"] == 98 and "2025 H1" in a.rule_set.name for a in h1)
    assert all(a.explanation["points"] == 89 and "2025 H2" in a.rule_set.name for a in h2)
    # The featured member (Zoë) moved up during the year, so her activities straddle two tiers.
    zoe_tiers = set(Activity.objects.filter(membership__member__member_number="100000001").values_list("tier__name"))
    assert len(zoe_tiers) >= 2


def test_a_second_run_adds_nothing():
    call_command("seed_demo", members=12, quiet=True)
    before = _counts()
    out = StringIO()
    call_command("seed_demo", members=12, stdout=out)
    assert _counts() == before
    assert "0 members created, 0 activities posted" in out.getvalue()


def test_a_larger_run_adds_only_the_missing_members():
    seed_demo(members=10, skip={"retro"}, log=lambda message: None)
    first = {m.member_number: m.full_name for m in Member.objects.all()}
    seed_demo(members=15, skip={"retro"}, log=lambda message: None)
    assert Member.objects.count() == 15
    assert {m.member_number: m.full_name for m in Member.objects.filter(member_number__in=first)} == first


def test_if_empty_leaves_a_database_with_members_alone():
    MemberFactory()
    out = StringIO()
    call_command("seed_demo", members=5, if_empty=True, stdout=out)
    assert Member.objects.count() == 1
    assert not Program.objects.filter(code="skyway").exists()
    assert "not loaded" in out.getvalue()


def test_quiet_prints_nothing_and_a_tiny_demo_works():
    out = StringIO()
    call_command("seed_demo", members=3, quiet=True, stdout=out)
    assert out.getvalue() == ""
    assert Member.objects.count() == 3
    assert RetroClaim.objects.filter(status="matched").exists()


def test_members_must_be_positive():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_demo", members=0)


def test_retro_demo_has_keys_settings_a_pool_and_claims_in_every_status():
    call_command("seed_demo", members=10, quiet=True)
    assert RetroClaimKey.objects.count() == 3
    fields = RetroClaimKey.objects.get(program__code="skyway").fields.values_list("field", flat=True)
    assert list(fields) == ["reference", "transaction_date"]
    assert RetroSettings.objects.get(program__code="maison").approval_required
    assert RetroTransaction.objects.count() >= 300
    statuses = set(RetroClaim.objects.values_list("status", flat=True))
    assert statuses == {
        "matched", "already_claimed", "outstanding", "not_matched", "transaction_failed", "pending_approval",
        "reversed",
    }  # fmt: skip
    assert RetroClaim.objects.filter(channel="portal", membership__member__user__username="member").exists()
    matched = RetroClaim.objects.filter(status="matched").select_related("activity")
    assert all(claim.activity and claim.activity.entries.exists() for claim in matched)
