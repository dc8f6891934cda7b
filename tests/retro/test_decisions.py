"""Retro decisions on the shared decision service: maker/checker, approval limits, races, the API's 403 and 409."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.lifecycle.decisions import NoLongerPending, NotAllowedToDecide, OverApprovalLimit, decide_many
from loyalty.models import Activity, ApprovalLimit
from retro.decisions import RETRO_CLAIM_APPROVALS
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings
from retro.services import approve_retro_claim, reject_retro_claim, submit_retro_claim
from tests.concurrency import race
from tests.factories import UserFactory
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

S = RetroClaimStatus


@pytest.fixture
def program(db):
    program = retro_program()
    RetroSettings.objects.filter(program=program).update(approval_required=True)
    return program


def pending(program, by=None):
    """A Pending Approval claim worth 420 points (42.00 at 10 per unit)."""
    txn = RetroTransactionFactory(program=program)
    membership = member_in(program)
    claim = submit_retro_claim(membership=membership, channel="csr", submitted_by=by, key_values=key_values_of(txn))
    assert claim.status == S.PENDING_APPROVAL and claim.estimated_points == 420
    return claim


def limit(program, role, value):
    ApprovalLimit.objects.create(
        program=program, lifecycle="retro_claim", role=Group.objects.get(name=role), max_value=Decimal(value)
    )


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_the_submitter_may_not_approve_or_reject_their_own_claim(program, supervisor):
    claim = pending(program, by=supervisor)
    with pytest.raises(NotAllowedToDecide, match="You submitted claim .*; another person must approve it"):
        approve_retro_claim(claim=claim, by=supervisor)
    with pytest.raises(NotAllowedToDecide, match="another person must reject it"):
        reject_retro_claim(claim=claim, by=supervisor, reason="mine")
    assert RetroClaim.objects.get(pk=claim.pk).status == S.PENDING_APPROVAL
    response = api(supervisor).post(reverse("api-retro-claim-approve", args=[claim.number]), {}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.data["code"] == "maker_is_checker"
    assert not Activity.objects.filter(source="retro").exists()


@pytest.mark.django_db
def test_another_supervisor_may_approve_what_a_supervisor_submitted(program, supervisor):
    claim = pending(program, by=supervisor)
    other = UserFactory(username="supervisor2", role="Supervisor")
    assert approve_retro_claim(claim=claim, by=other).status == S.MATCHED


@pytest.mark.django_db
def test_a_claim_above_the_roles_limit_is_refused_and_one_within_it_is_approved(program, supervisor):
    limit(program, "Supervisor", "400.00")
    claim = pending(program)
    with pytest.raises(OverApprovalLimit, match="worth 420 points; your approval limit is 400 points"):
        approve_retro_claim(claim=claim, by=supervisor)
    response = api(supervisor).post(reverse("api-retro-claim-approve", args=[claim.number]), {}, format="json")
    assert response.status_code == 403 and response.data["code"] == "over_approval_limit"
    # Rejecting is not approving: no limit applies.
    assert reject_retro_claim(claim=claim, by=supervisor, reason="too much").status == S.REJECTED
    ApprovalLimit.objects.update(max_value=Decimal("500.00"))
    assert approve_retro_claim(claim=pending(program), by=supervisor).status == S.MATCHED


@pytest.mark.django_db
def test_a_limit_applies_to_its_own_program_only_and_not_to_superusers(program, supervisor, admin_user):
    other = retro_program("other")
    limit(other, "Supervisor", "10")
    assert approve_retro_claim(claim=pending(program), by=supervisor).status == S.MATCHED
    limit(program, "Supervisor", "10")
    assert approve_retro_claim(claim=pending(program), by=admin_user).status == S.MATCHED


@pytest.mark.django_db
def test_the_largest_limit_of_the_users_roles_counts(program):
    both = UserFactory(username="lead", role="Supervisor")
    both.groups.add(Group.objects.get(name="Admin"))
    limit(program, "Supervisor", "100")
    limit(program, "Admin", "1000")
    assert approve_retro_claim(claim=pending(program), by=both).status == S.MATCHED


@pytest.mark.django_db
def test_a_csr_may_not_decide_even_through_the_service(program, csr):
    with pytest.raises(NotAllowedToDecide, match="may not approve claims"):
        approve_retro_claim(claim=pending(program), by=csr)


@pytest.mark.django_db
def test_deciding_many_reports_each_refusal_and_decides_the_rest(program, supervisor):
    mine, first, second = pending(program, by=supervisor), pending(program), pending(program)
    approve_retro_claim(claim=second, by=UserFactory(username="quick", role="Supervisor"))
    outcomes = decide_many(RETRO_CLAIM_APPROVALS, [mine.pk, first.pk, second.pk], "approve", by=supervisor)
    errors = {o.pk: o.error for o in outcomes}
    assert isinstance(errors[mine.pk], NotAllowedToDecide)
    assert errors[first.pk] is None and RetroClaim.objects.get(pk=first.pk).status == S.MATCHED
    assert isinstance(errors[second.pk], NoLongerPending)
    assert Activity.objects.filter(source="retro").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_approving_at_once_post_the_points_once(program, roles):
    claim = pending(program)
    deciders = [UserFactory(username=f"sup{i}", role="Supervisor") for i in range(2)]
    results = race([lambda user=user: approve_retro_claim(claim=claim, by=user) for user in deciders])
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], NoLongerPending), results
    assert RetroClaim.objects.get(pk=claim.pk).status == S.MATCHED
    assert Activity.objects.filter(source="retro").count() == 1
