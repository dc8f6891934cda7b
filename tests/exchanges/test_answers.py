"""The API's redemption and refund answers are built without serializer instances (the refund's hot path); they
must say exactly what the documented serializers say, in every state a redemption passes through."""

from decimal import Decimal

import pytest

from exchanges import services
from exchanges.api import redemption_of
from exchanges.serializers import (
    RedemptionSerializer,
    RefundRequestSerializer,
    RefundSerializer,
    full_refund_request,
    redemption_answer,
    refund_answer,
)
from tests.exchanges.conftest import TICKET_A, TICKET_B

pytestmark = pytest.mark.django_db


def authorized(partner, program, payer, *, cash):
    return services.authorize(
        partner=partner, program=program, membership=payer, pnr="ANS123", currency="EUR", cash_amount=cash,
        tickets=[(TICKET_A, 3_000), (TICKET_B, 2_000)],
    )  # fmt: skip


def answers_agree(partner, pk):
    redemption = redemption_of(partner, pk)
    assert redemption_answer(redemption) == dict(RedemptionSerializer(redemption).data)
    return redemption


@pytest.mark.parametrize("cash", [Decimal("0"), Decimal("120.5"), Decimal("9999999999.99")])
def test_a_redemption_answers_as_its_serializer_in_every_state(partner, program, payer, cash):
    redemption = authorized(partner, program, payer, cash=cash)
    answers_agree(partner, redemption.pk)  # held: no capture time yet
    services.capture(partner=partner, redemption_id=redemption.pk)
    answers_agree(partner, redemption.pk)
    services.refund(partner=partner, redemption_id=redemption.pk, membership_number=payer.membership_number,
                    points=1_000, key="part")  # fmt: skip
    assert answers_agree(partner, redemption.pk).status == "partly_refunded"
    released = authorized(partner, program, payer, cash=cash)
    services.release(partner=partner, redemption_id=released.pk)
    answers_agree(partner, released.pk)


def test_a_refund_answers_as_its_serializer(partner, program, payer):
    redemption = authorized(partner, program, payer, cash=Decimal("75.10"))
    services.capture(partner=partner, redemption_id=redemption.pk)
    result = services.refund(partner=partner, redemption_id=redemption.pk,
                             membership_number=payer.membership_number, ticket_numbers=[TICKET_B], key="k")  # fmt: skip
    documented = RefundSerializer({
        "points_refunded": result.points_refunded, "points_credited": result.points_credited,
        "points_expired": result.points_expired, "points_forfeited": result.points_forfeited,
        "tickets": result.operation.tickets, "cash_amount": result.cash_amount,
        "currency": result.redemption.currency, "redemption": result.redemption,
    }).data  # fmt: skip
    answer = refund_answer(result)
    assert answer == {**documented, "redemption": dict(documented["redemption"])}
    assert answer["tickets"] == {TICKET_B: 2_000} and answer["cash_amount"] == "75.10"



CLEAN = [{"membership_number": "M000123"}, {"membership_number": "M" * 30}, {"membership_number": "Müller-7"}]
LEFT_TO_THE_SERIALIZER = [
    {"membership_number": "M" * 31}, {"membership_number": " M000123 "}, {"membership_number": ""},
    {"membership_number": "   "}, {"membership_number": "M\x00123"}, {"membership_number": "M\t123"},
    {"membership_number": "M\ud800"}, {"membership_number": 123}, {"membership_number": None},
    {"membership_number": ["M1"]}, {"membership_number": "M1", "points": 5},
    {"membership_number": "M1", "ticket_numbers": [TICKET_A]}, {"member": "M1"}, ["M1"], "M1",
]  # fmt: skip


@pytest.mark.parametrize("body", CLEAN + LEFT_TO_THE_SERIALIZER)
def test_a_full_refund_body_is_read_quickly_only_where_its_serializer_reads_it_the_same(body):
    read = full_refund_request(body)
    assert (read is not None) == (body in CLEAN)
    if read is not None:
        documented = RefundRequestSerializer(data=body)
        assert documented.is_valid() and dict(documented.validated_data) == read
