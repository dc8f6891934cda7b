"""Points that expired while they were spent on a booking: re-credited or forfeited by the program's refund policy."""

import datetime as dt

import pytest
from django.utils import timezone

from exchanges.models import PointsOperation, Redemption, RefundPolicy
from loyalty import selectors
from tests.exchanges.conftest import booking

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    return redemption["id"]


def spent_ago(pk, days):
    Redemption.objects.filter(pk=pk).update(captured_at=timezone.now() - dt.timedelta(days=days))


def refund(calls, pk, payer, **body):
    return calls.post(f"{BASE}/redemptions/{pk}/refunds/", {"membership_number": payer.membership_number, **body})


def test_without_a_policy_points_never_expire(calls, payer, captured):
    spent_ago(captured, 2000)
    answer = refund(calls, captured, payer).data
    assert (answer["points_credited"], answer["points_expired"], answer["points_forfeited"]) == (16_000, 0, 0)


def test_expired_points_are_forfeited_when_the_program_does_not_recredit_them(calls, payer, captured, program):
    RefundPolicy.objects.create(program=program, points_validity_months=12, recredit_expired_points=False)
    spent_ago(captured, 400)
    answer = refund(calls, captured, payer, points=6_000).data
    assert answer["points_refunded"] == 6_000 and answer["points_credited"] == 0
    assert answer["points_expired"] == 6_000 and answer["points_forfeited"] == 6_000
    assert answer["redemption"]["points_refundable"] == 10_000
    assert selectors.award_balance(payer) == 34_000  # nothing credited
    operation = PointsOperation.objects.get(kind="refund")
    assert operation.activity is None and operation.points_forfeited == 6_000


def test_expired_points_are_credited_when_the_program_recredits_them(calls, payer, captured, program):
    RefundPolicy.objects.create(program=program, points_validity_months=12, recredit_expired_points=True)
    spent_ago(captured, 400)
    answer = refund(calls, captured, payer).data
    assert (answer["points_credited"], answer["points_expired"], answer["points_forfeited"]) == (16_000, 16_000, 0)
    assert selectors.award_balance(payer) == 50_000


def test_points_still_within_their_validity_are_credited_whatever_the_policy(calls, payer, captured, program):
    RefundPolicy.objects.create(program=program, points_validity_months=12, recredit_expired_points=False)
    spent_ago(captured, 300)
    answer = refund(calls, captured, payer).data
    assert (answer["points_credited"], answer["points_forfeited"]) == (16_000, 0)
    assert selectors.award_balance(payer) == 50_000
