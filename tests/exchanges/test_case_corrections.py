"""A manual-handling case resolved with points: re-credited or reversed through loyalty.services, at once within
the agent's approval limit, by another person above it (maker/checker)."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from exchanges import corrections, services
from exchanges.errors import BadRequest
from exchanges.models import CaseCorrection, ManualHandlingCase, PointsOperation, Redemption
from loyalty import selectors
from loyalty.lifecycle.decisions import NotAllowedToDecide, OverApprovalLimit
from loyalty.models import ApprovalLimit
from tests.exchanges.conftest import TICKET_A, TICKET_B
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LIMIT = 5_000


@pytest.fixture
def limits(program, roles):
    ApprovalLimit.objects.create(
        program=program, lifecycle=corrections.LIFECYCLE, role=Group.objects.get(name="Supervisor"), max_value=LIMIT
    )


@pytest.fixture
def redemption(partner, payer, program):
    """A captured booking of two tickets (10,000 + 6,000 points): 34,000 points left on the payer."""
    held = services.authorize(
        partner=partner, program=program, membership=payer, pnr="ABC123", currency="EUR", cash_amount=0,
        tickets=[(TICKET_A, 10_000), (TICKET_B, 6_000)],
    )  # fmt: skip
    return services.capture(partner=partner, redemption_id=held.pk)


@pytest.fixture
def case(redemption, partner, supervisor, limits):
    case = services.report_failure(partner=partner, redemption_id=redemption.pk, step="refund_points")
    return services.take_case(case=case, by=supervisor)


@pytest.fixture
def checker(roles):
    return UserFactory(username="checker", role="Supervisor")


def propose(case, by, points, direction="recredit", reason="The booking engine's refund call failed."):
    return corrections.propose_correction(case=case, direction=direction, points=points, reason=reason, by=by)


def test_a_recredit_within_the_agents_limit_posts_at_once_and_resolves_the_case(case, supervisor, payer):
    correction = propose(case, supervisor, 3_000)
    assert correction.status == "approved" and not correction.needs_checker
    assert selectors.award_balance(payer) == 34_000 + 3_000
    redemption = Redemption.objects.get()
    assert (redemption.points_refunded, redemption.status) == (3_000, "partly_refunded")
    operation = PointsOperation.objects.get(kind="refund")
    assert operation.created_by == supervisor and operation.correction == correction
    case = ManualHandlingCase.objects.get()
    assert case.status == "resolved" and "Re-credited 3,000 points" in case.notes.last().text


def test_a_recredit_above_the_limit_waits_for_another_person_whose_limit_covers_it(
    case, supervisor, checker, admin_user, payer
):
    correction = propose(case, supervisor, 8_000)
    assert correction.status == "pending" and correction.needs_checker
    assert selectors.award_balance(payer) == 34_000
    assert ManualHandlingCase.objects.get().status == "in_progress"
    with pytest.raises(NotAllowedToDecide, match="another person must approve"):
        corrections.decide_correction(correction=correction, decision="approve", by=supervisor)
    with pytest.raises(OverApprovalLimit, match="approval limit is 5,000 points"):
        corrections.decide_correction(correction=correction, decision="approve", by=checker)
    corrections.decide_correction(correction=correction, decision="approve", by=admin_user)
    assert selectors.award_balance(payer) == 42_000
    assert ManualHandlingCase.objects.get().status == "resolved"
    assert "(approved by admin)" in ManualHandlingCase.objects.get().notes.last().text


def test_a_rejected_correction_leaves_the_case_in_progress_for_another_try(case, supervisor, checker, payer):
    correction = propose(case, supervisor, 8_000)
    with pytest.raises(ValidationError):
        corrections.decide_correction(correction=correction, decision="reject", by=checker, reason=" ")
    corrections.decide_correction(correction=correction, decision="reject", by=checker, reason="Too many points.")
    assert CaseCorrection.objects.get().status == "rejected"
    assert ManualHandlingCase.objects.get().status == "in_progress"
    propose(case, supervisor, 2_000)
    assert selectors.award_balance(payer) == 36_000


def test_only_one_correction_waits_per_case(case, supervisor):
    propose(case, supervisor, 8_000)
    with pytest.raises(BadRequest, match="already waits for a checker"):
        propose(case, supervisor, 9_000)


def test_a_recredit_never_exceeds_what_remains_refundable(case, supervisor, admin_user, partner, redemption, payer):
    services.refund(partner=partner, redemption_id=redemption.pk, membership_number=payer.membership_number,
                    points=12_000)  # fmt: skip
    with pytest.raises(ValidationError, match="4000 remain refundable"):
        propose(case, admin_user, 5_000)
    assert not CaseCorrection.objects.exists() and ManualHandlingCase.objects.get().status == "in_progress"


def test_a_reversal_takes_back_a_refund_and_makes_the_booking_refundable_again(
    case, supervisor, partner, redemption, payer
):
    services.refund(partner=partner, redemption_id=redemption.pk, membership_number=payer.membership_number,
                    ticket_numbers=[TICKET_B])  # fmt: skip
    assert selectors.award_balance(payer) == 40_000
    propose(case, supervisor, 4_000, direction="reverse", reason="Ticketing failed after the refund.")
    redemption = Redemption.objects.get()
    assert selectors.award_balance(payer) == 36_000
    assert (redemption.points_refunded, redemption.status) == (2_000, "partly_refunded")
    assert redemption.tickets.get(ticket_number=TICKET_B).points_refunded == 2_000
    assert PointsOperation.objects.filter(kind="reversal", points=4_000).exists()


def test_a_reversal_is_refused_beyond_the_points_refunded_or_the_members_balance(
    case, supervisor, admin_user, partner, redemption, payer
):
    with pytest.raises(ValidationError, match="no more can be reversed"):
        propose(case, admin_user, 100, direction="reverse")
    services.refund(partner=partner, redemption_id=redemption.pk, membership_number=payer.membership_number)
    services.authorize(partner=partner, program=payer.program, membership=payer, pnr="OTHER1", currency="EUR",
                       cash_amount=0, tickets=[("0570000000001", 48_000)])  # fmt: skip
    capture = services.capture(partner=partner, redemption_id=Redemption.objects.get(pnr="OTHER1").pk)
    assert capture.status == "captured" and selectors.award_balance(payer) == 2_000
    with pytest.raises(ValidationError, match="would leave a negative balance"):
        propose(case, admin_user, 16_000, direction="reverse")
    assert selectors.award_balance(payer) == 2_000


def test_a_case_not_taken_cannot_be_resolved_with_points(redemption, partner, supervisor):
    case = services.report_failure(partner=partner, redemption_id=redemption.pk, step="refund_points")
    with pytest.raises(BadRequest, match="take it first"):
        propose(case, supervisor, 100)


def test_without_an_approval_limit_for_the_role_the_agent_posts_any_amount(redemption, partner, supervisor, payer):
    case = services.take_case(
        case=services.report_failure(partner=partner, redemption_id=redemption.pk, step="refund_points"),
        by=supervisor,
    )
    assert propose(case, supervisor, 16_000).status == "approved"
    assert Redemption.objects.get().status == "refunded"


# The screens: the case page's Resolve with points, the checker's decision there, the Points corrections queue.


def test_an_agent_resolves_a_case_with_points_from_its_page(client, supervisor, case, payer):
    client.force_login(supervisor)
    page = client.get(f"/exchanges/manual-handling/{case.pk}/").content.decode()
    assert 'id="resolve-with-points"' in page
    url = f"/exchanges/manual-handling/{case.pk}/correct/"
    bad = client.post(url, {"direction": "recredit", "points": "lots", "reason": "x"})
    assert bad.status_code == 400 and "whole number above zero" in bad.content.decode()
    response = client.post(url, {"direction": "recredit", "points": "1,500", "reason": "Refund call failed"})
    assert response.status_code == 302
    assert selectors.award_balance(payer) == 35_500
    page = client.get(response.url).content.decode()
    assert "Re-credit of 1,500 points · case" in page and 'id="case-corrections"' in page


def test_a_checker_approves_a_waiting_correction_on_the_case_page_and_in_the_queue(
    client, supervisor, checker, admin_user, case, payer
):
    waiting = propose(case, supervisor, 8_000)
    client.force_login(checker)
    page = client.get(f"/exchanges/manual-handling/{case.pk}/").content.decode()
    assert 'id="correction-waiting"' in page and "approval limit is 5,000 points" in page
    assert 'id="approve-correction"' not in page
    queue = client.get("/exchanges/corrections/").content.decode()
    assert f'value="{waiting.pk}"' in queue and "8000" in queue
    client.force_login(admin_user)
    response = client.post("/exchanges/corrections/", {"decision": "approve", "selected": [waiting.pk]})
    assert response.status_code == 302
    assert selectors.award_balance(payer) == 42_000 and ManualHandlingCase.objects.get().status == "resolved"


def test_the_maker_rejects_nothing_and_approves_nothing_of_their_own_on_the_case_page(client, supervisor, case):
    waiting = propose(case, supervisor, 8_000)
    client.force_login(supervisor)
    response = client.post(f"/exchanges/manual-handling/{case.pk}/corrections/{waiting.pk}/",
                           {"decision": "approve"})  # fmt: skip
    assert response.status_code == 400 and "another person must approve" in response.content.decode()
    assert CaseCorrection.objects.get().status == "pending"


@pytest.mark.parametrize("who", ["csr", "outsider"])
def test_a_csr_or_outsider_may_not_correct_points_nor_open_the_corrections_queue(client, request, who, case):
    client.force_login(request.getfixturevalue(who))
    assert client.post(f"/exchanges/manual-handling/{case.pk}/correct/",
                       {"direction": "recredit", "points": "10", "reason": "x"}).status_code == 403  # fmt: skip
    assert client.get("/exchanges/corrections/").status_code == 403
    assert not CaseCorrection.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, case):
    assert client.get("/exchanges/corrections/").status_code == 302
    assert client.post(f"/exchanges/manual-handling/{case.pk}/correct/").status_code == 302


def test_a_case_whose_correction_waits_is_neither_resolved_nor_cancelled_until_it_is_decided(case, supervisor):
    propose(case, supervisor, 8_000)
    for outcome in ("resolve", "cancel"):
        with pytest.raises(BadRequest, match="waits for a checker"):
            services.close_case(case=case, by=supervisor, outcome=outcome, reason="Done")
    assert ManualHandlingCase.objects.get().status == "in_progress"
