"""Limited adjustments: each threshold at its edge and one past it, totals, and approval that posts once."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from claims import services
from claims.models import ClaimDecision, MembershipClaim
from loyalty.lifecycle.decisions import NotAllowedToDecide, OverApprovalLimit
from loyalty.models import Activity, ApprovalLimit, LedgerEntry
from tests.claims.factories import adjustment_values, code
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def goodwill(program):
    return code(program, points=(-1000, 5000), stays=(0, 2), nights=(0, 10), revenue=(0, 2000))


def enter(membership, by, adjustment_code, **values):
    return services.open_claim(membership=membership, by=by, values=adjustment_values(adjustment_code, **values))


def refusal(membership, by, adjustment_code, **values):
    with pytest.raises(ValidationError) as error:
        enter(membership, by, adjustment_code, **values)
    return error.value.message_dict


def ledger(membership):
    rows = LedgerEntry.objects.filter(membership=membership).values_list("metric", "quantity")
    totals = {}
    for metric, quantity in rows:
        totals[metric] = totals.get(metric, 0) + quantity
    return totals


@pytest.mark.parametrize(
    ("field", "edge", "past", "range_text"),
    [
        ("base_points", 5000, 5001, "between -1,000 and 5,000"),
        ("bonus_points", -1000, -1001, "between -1,000 and 5,000"),
        ("misc_points", 5000, 5001, "between -1,000 and 5,000"),
        ("base_stays", 2, 3, "between 0 and 2"),
        ("bonus_nights", 10, 11, "between 0 and 10"),
        ("base_revenue", Decimal("2000.00"), Decimal("2000.01"), "between 0.00 and 2,000.00"),
    ],
)
def test_each_value_is_accepted_at_its_threshold_and_refused_one_past_it(
    csr, membership, goodwill, field, edge, past, range_text
):
    errors = refusal(membership, csr, goodwill, **{field: past})
    message = errors[field][0]
    assert range_text in message and "GOODWILL" in message
    assert not MembershipClaim.objects.exists()
    claim = enter(membership, csr, goodwill, **{field: edge})
    assert getattr(claim, field) == edge


def test_a_total_past_its_threshold_is_refused_though_each_part_is_within(csr, membership, goodwill):
    errors = refusal(membership, csr, goodwill, base_points=3000, bonus_points=3000)
    assert "between -1,000 and 5,000" in errors["total_points"][0]


def test_an_empty_total_is_its_parts_and_a_wrong_total_is_refused(csr, membership, goodwill):
    claim = enter(membership, csr, goodwill, base_points=100, bonus_points=50, misc_points=25)
    assert claim.total_points == 175
    errors = refusal(membership, csr, goodwill, base_points=100, total_points=90)
    assert errors["total_points"] == [
        "The total points (90) must equal base points + bonus points + misc points (100)."
    ]


def test_an_adjustment_needs_its_code_and_must_change_something(csr, membership, goodwill):
    assert "adjustment code" in refusal(membership, csr, None, base_points=10)["adjustment_code"][0]
    assert refusal(membership, csr, goodwill)["total_points"] == ["An adjustment must change at least one balance."]


def test_approval_by_a_supervisor_posts_the_adjustment_once(csr, supervisor, membership, goodwill):
    claim = enter(membership, csr, goodwill, base_points=200, bonus_points=100, base_nights=2, base_revenue=150)
    assert ledger(membership) == {}
    claim = services.update_claim(claim=claim, by=supervisor, values={}, decision=ClaimDecision.APPROVED)
    assert claim.decision == ClaimDecision.APPROVED and claim.decided_by == supervisor
    assert ledger(membership) == {"base": 200, "bonus": 100, "nights": 2, "revenue": Decimal("150.00")}
    activity = Activity.objects.get(membership=membership)
    assert activity.kind == "adjustment" and activity.external_reference == f"claim:{claim.pk}"
    assert "GOODWILL" in activity.description
    # Saving again, or asking to approve again, posts nothing more.
    services.update_claim(claim=claim, by=supervisor, values={}, decision=ClaimDecision.APPROVED)
    with pytest.raises(ValidationError):
        services.update_claim(claim=claim, by=supervisor, values={}, decision=ClaimDecision.REJECTED)
    assert Activity.objects.filter(membership=membership).count() == 1


def test_the_submitter_cannot_approve_their_own_adjustment(supervisor, membership, goodwill):
    claim = enter(membership, supervisor, goodwill, base_points=200)
    with pytest.raises(NotAllowedToDecide, match="another person"):
        services.update_claim(claim=claim, by=supervisor, values={}, decision=ClaimDecision.APPROVED)
    claim.refresh_from_db()
    assert claim.decision == ClaimDecision.NONE and ledger(membership) == {}


def test_a_csr_without_the_approval_right_cannot_approve_points(csr, membership, goodwill, roles):
    other = UserFactory(username="csr2", role="CSR")
    claim = enter(membership, other, goodwill, base_points=200)
    with pytest.raises(NotAllowedToDecide, match="may not approve"):
        services.update_claim(claim=claim, by=csr, values={}, decision=ClaimDecision.APPROVED)
    assert ledger(membership) == {}


def test_approval_above_the_role_limit_is_refused_and_saves_nothing(csr, supervisor, membership, goodwill, program):
    ApprovalLimit.objects.create(program=program, lifecycle="membership_claim",
                                 role=Group.objects.get(name="Supervisor"), max_value=250)  # fmt: skip
    claim = enter(membership, csr, goodwill, base_points=300)
    with pytest.raises(OverApprovalLimit, match="approval limit is 250"):
        services.update_claim(claim=claim, by=supervisor, values={"comments": "approving"}, decision="approved")
    claim.refresh_from_db()
    assert claim.decision == "none" and claim.comments == "" and ledger(membership) == {}


def test_the_daily_cap_counts_every_adjustment_one_person_approved_today(csr, supervisor, membership, goodwill,
                                                                         program):  # fmt: skip
    ApprovalLimit.objects.create(program=program, lifecycle="membership_claim",
                                 role=Group.objects.get(name="Supervisor"), max_value=1000, daily_max=1500)  # fmt: skip
    first = enter(membership, csr, goodwill, base_points=900)
    second = enter(membership, csr, goodwill, bonus_points=-700)  # a deduction counts by its size
    services.update_claim(claim=first, by=supervisor, values={}, decision="approved")
    with pytest.raises(OverApprovalLimit, match="daily cap is 1,500"):
        services.update_claim(claim=second, by=supervisor, values={}, decision="approved")
    assert ledger(membership) == {"base": 900}


def test_a_decided_adjustment_can_no_longer_change(csr, supervisor, membership, goodwill):
    claim = enter(membership, csr, goodwill, base_points=200)
    services.update_claim(claim=claim, by=supervisor, values={}, decision="approved")
    with pytest.raises(ValidationError, match="can no longer change"):
        services.update_claim(claim=claim, by=supervisor, values={"base_points": 999, "total_points": 999})
    claim.refresh_from_db()
    assert claim.base_points == 200


def test_rejecting_posts_nothing_and_a_rejected_claim_stays_rejected(csr, supervisor, membership, goodwill):
    claim = enter(membership, csr, goodwill, base_points=200)
    claim = services.update_claim(claim=claim, by=supervisor, values={}, decision="rejected")
    assert claim.decision == "rejected" and ledger(membership) == {}
    with pytest.raises(ValidationError):
        services.update_claim(claim=claim, by=supervisor, values={}, decision="approved")


def test_a_stay_claim_is_approved_by_its_own_editor_and_posts_nothing(csr, membership):
    from tests.claims.factories import open_stay_claim

    claim = open_stay_claim(membership, csr)
    claim = services.update_claim(claim=claim, by=csr, values={}, decision="approved")
    assert claim.decision == "approved" and claim.activity is None and ledger(membership) == {}


def test_the_database_refuses_totals_that_are_not_their_parts(csr, membership, goodwill):
    from django.db import IntegrityError, transaction

    claim = enter(membership, csr, goodwill, base_points=200)
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipClaim.objects.filter(pk=claim.pk).update(total_points=5)
