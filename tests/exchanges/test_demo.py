"""The exchanges demo: a booking engine with a fixed token, ratios, redemptions in every state and cases to work,
made through the services (so the ledger agrees), and nothing more on a second run."""

import pytest
from django.db.models import Sum
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from exchanges.demo import DEMO_MEMBERSHIP, DEMO_TOKEN, PARTNER_NAME, SIMULATOR_MILES
from exchanges.models import AwardConversionRatio, ManualHandlingCase, PartnerClient, PointsOperation, Redemption
from loyalty import selectors
from loyalty.demo import seed_demo
from loyalty.models import Activity, LedgerEntry, Program

pytestmark = pytest.mark.django_db
OTHER_STEPS = {"retro", "flights", "claims"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed():
    seed_demo(members=12, skip=OTHER_STEPS, log=lambda message: None)


def test_the_demo_has_a_booking_engine_with_its_documented_token_in_every_program():
    _seed()
    partner = PartnerClient.objects.get(name=PARTNER_NAME)
    # Stored hashed like any token (knox's digest of the documented text), and it works.
    assert AuthToken.objects.get(user=partner.user).digest == hash_token(DEMO_TOKEN)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {DEMO_TOKEN}")
    redemption = Redemption.objects.get(pnr="SWDM01")
    assert api.get(f"/api/exchanges/redemptions/{redemption.pk}/").status_code == 200
    assert not partner.user.has_usable_password()
    assert set(partner.programs.values_list("code", flat=True)) == set(Program.objects.values_list("code", flat=True))
    assert AwardConversionRatio.objects.filter(program__code="skyway", market="US", currency="USD").exists()


def test_the_demo_has_redemptions_in_every_state_and_cases_in_the_queue():
    _seed()
    assert set(Redemption.objects.values_list("status", flat=True)) == {
        "captured", "partly_refunded", "refunded", "released",
    }  # fmt: skip
    # Spread over several airline members, not all on the simulator's.
    assert Redemption.objects.values("membership").distinct().count() > 1
    assert sorted(ManualHandlingCase.objects.values_list("status", flat=True)) == ["in_progress", "open"]
    assert ManualHandlingCase.objects.get(status="in_progress").notes.count() == 1


def test_the_demo_redemptions_are_in_the_ledger():
    _seed()
    captured = Redemption.objects.aggregate(total=Sum("points_captured"))["total"]
    refunded = Redemption.objects.aggregate(total=Sum("points_refunded"))["total"]
    posted = LedgerEntry.objects.filter(activity__source="exchanges").aggregate(total=Sum("quantity"))["total"]
    assert captured > 0 and refunded > 0 and posted == refunded - captured
    assert Activity.objects.filter(kind="refund").count() == PointsOperation.objects.filter(kind="refund").count()


def test_the_simulators_membership_has_the_miles_for_many_runs():
    _seed()
    membership = selectors.membership_by_number(DEMO_MEMBERSHIP)
    assert membership.program.code == "skyway"
    assert selectors.award_balance(membership) >= SIMULATOR_MILES


def test_a_second_run_adds_nothing():
    _seed()
    models = (Redemption, ManualHandlingCase, Activity, AuthToken, PartnerClient, AwardConversionRatio)
    counts = [model.objects.count() for model in models]
    _seed()
    assert [model.objects.count() for model in models] == counts


def test_the_demo_sets_skyways_refund_policy_and_the_supervisors_correction_limit():
    _seed()
    from exchanges.corrections import LIFECYCLE
    from exchanges.models import RefundPolicy
    from loyalty.models import ApprovalLimit

    policy = RefundPolicy.objects.get(program__code="skyway")
    assert (policy.points_validity_months, policy.recredit_expired_points) == (36, True)
    assert ApprovalLimit.objects.get(lifecycle=LIFECYCLE, role__name="Supervisor").max_value == 5000
