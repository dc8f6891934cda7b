"""Any sequence of authorize, capture, release and refund keeps the member's balance equal to the ledger's sum
and to what a simple model of the bookings says (hypothesis state machine)."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from exchanges import services
from exchanges.errors import ExchangeRefused
from exchanges.models import Redemption
from loyalty import selectors
from tests.exchanges.conftest import give_points
from tests.factories import MembershipFactory

START = 20_000


@pytest.mark.django_db
def test_the_balance_is_always_the_ledger_sum_and_the_models(program, partner):
    class Bookings(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.membership = MembershipFactory(program=program)
            give_points(self.membership, START)
            self.held, self.captured, self.refunded = {}, {}, {}  # redemption id -> points

        @rule(points=st.integers(1, 12_000))
        def authorize(self, points):
            try:
                redemption = services.authorize(
                    partner=partner, program=program, membership=self.membership, pnr="PNR001", currency="EUR",
                    cash_amount=0, tickets=[("0570000000001", points)],
                )  # fmt: skip
            except ExchangeRefused as error:
                assert error.code == "insufficient_points"
                assert points > self.available()
            else:
                self.held[redemption.pk] = points

        @precondition(lambda self: self.held)
        @rule(data=st.data())
        def capture(self, data):
            pk = data.draw(st.sampled_from(sorted(self.held)))
            services.capture(partner=partner, redemption_id=pk)
            self.captured[pk] = self.held.pop(pk)
            self.refunded[pk] = 0

        @precondition(lambda self: self.held)
        @rule(data=st.data())
        def release(self, data):
            pk = data.draw(st.sampled_from(sorted(self.held)))
            services.release(partner=partner, redemption_id=pk)
            del self.held[pk]

        @precondition(lambda self: self.captured)
        @rule(data=st.data(), points=st.one_of(st.none(), st.integers(1, 12_000)))
        def refund(self, data, points):
            pk = data.draw(st.sampled_from(sorted(self.captured)))
            left = self.captured[pk] - self.refunded[pk]
            try:
                result = services.refund(
                    partner=partner, redemption_id=pk, membership_number=self.membership.membership_number,
                    points=points,
                )  # fmt: skip
            except ExchangeRefused as error:
                assert error.code == "over_refund" and (left == 0 or (points or 0) > left)
            else:
                assert result.points_refunded == (left if points is None else points)
                self.refunded[pk] += result.points_refunded

        def available(self):
            return self.balance() - sum(self.held.values())

        def balance(self):
            return START - sum(self.captured.values()) + sum(self.refunded.values())

        @invariant()
        def balances_agree(self):
            if not hasattr(self, "membership"):
                return
            assert selectors.award_balance(self.membership) == self.balance()
            assert services.available_points(self.membership) == self.available()
            for redemption in Redemption.objects.filter(membership=self.membership):
                assert redemption.points_refunded <= redemption.points_captured

    run_state_machine_as_test(
        Bookings,
        settings=settings(max_examples=25, stateful_step_count=12, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )  # fmt: skip
