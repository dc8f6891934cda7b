"""Retro approvals, the supervisors' queue: see what waits, approve one or many, reject with a reason."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from loyalty.models import Activity
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings
from retro.services import submit_retro_claim
from tests.factories import LocationFactory
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program

S = RetroClaimStatus
QUEUE = reverse("retro-approval-queue")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def program(db):
    program = retro_program()
    RetroSettings.objects.filter(program=program).update(approval_required=True)
    return program


def pending(program, by=None, amount="42.00"):
    txn = RetroTransactionFactory(program=program, amount=Decimal(amount))
    membership = member_in(program)
    return submit_retro_claim(membership=membership, channel="csr", submitted_by=by, key_values=key_values_of(txn))


def status(claim):
    return RetroClaim.objects.get(pk=claim.pk).status


@pytest.mark.django_db
def test_the_queue_lists_only_pending_claims_oldest_first_with_their_points(client, supervisor, program):
    first, second = pending(program), pending(program, amount="99.00")
    RetroSettings.objects.filter(program=program).update(approval_required=False)
    matched = pending(program)
    client.force_login(supervisor)
    html = client.get(QUEUE).text
    assert html.index(first.number) < html.index(second.number)
    assert matched.number not in html
    assert ">990<" in html and "2 waiting" in html


@pytest.mark.django_db
def test_filters_narrow_the_queue_and_htmx_gets_the_grid_only(client, supervisor, program):
    small, large = pending(program), pending(program, amount="99.00")
    client.force_login(supervisor)
    response = client.get(QUEUE, {"min_points": "500"}, headers={"HX-Request": "true"})
    assert large.number in response.text and small.number not in response.text
    assert "<html" not in response.text and 'id="queue-grid"' in response.text


@pytest.mark.django_db
def test_approving_several_at_once_posts_each_and_says_so(client, supervisor, program):
    claims = [pending(program) for _ in range(3)]
    client.force_login(supervisor)
    response = client.post(
        QUEUE, {"decision": "approve", "selected": [c.pk for c in claims[:2]], "reason": ""}, follow=True
    )
    assert [status(c) for c in claims] == [S.MATCHED, S.MATCHED, S.PENDING_APPROVAL]
    assert "2 claims approved" in response.text
    assert Activity.objects.filter(source="retro").count() == 2


@pytest.mark.django_db
def test_rejecting_needs_a_reason_and_changes_nothing_without_one(client, supervisor, program):
    claim = pending(program)
    client.force_login(supervisor)
    response = client.post(QUEUE, {"decision": "reject", "selected": [claim.pk], "reason": " "}, follow=True)
    assert "Give a reason" in response.text and status(claim) == S.PENDING_APPROVAL
    client.post(QUEUE, {"decision": "reject", "selected": [claim.pk], "reason": "Not our store"})
    assert status(claim) == S.REJECTED
    assert RetroClaim.objects.get(pk=claim.pk).failure_reason == "Not our store"


@pytest.mark.django_db
def test_a_refusal_is_reported_beside_what_was_decided(client, supervisor, program):
    mine, other = pending(program, by=supervisor), pending(program)
    client.force_login(supervisor)
    response = client.post(QUEUE, {"decision": "approve", "selected": [mine.pk, other.pk]}, follow=True)
    assert "1 claim approved" in response.text
    assert f"You submitted claim {mine.number}; another person must approve it." in response.text
    assert (status(mine), status(other)) == (S.PENDING_APPROVAL, S.MATCHED)


@pytest.mark.django_db
def test_nothing_selected_or_an_unknown_decision_is_a_message_not_an_error(client, supervisor, program):
    client.force_login(supervisor)
    assert "Select the claims to approve first" in client.post(QUEUE, {"decision": "approve"}, follow=True).text
    assert "Choose Approve or Reject" in client.post(QUEUE, {"decision": "reverse"}, follow=True).text


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["csr", "member_user", "outsider"])
def test_it_requires_the_approve_permission(client, request, persona, program):
    claim = pending(program)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(QUEUE).status_code == 403
    assert client.post(QUEUE, {"decision": "approve", "selected": [claim.pk]}).status_code == 403
    assert status(claim) == S.PENDING_APPROVAL


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(QUEUE)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_the_navigation_offers_the_queue_to_supervisors_only(client, supervisor, csr):
    client.force_login(supervisor)
    assert "Retro approvals" in client.get(reverse("home")).text
    client.force_login(csr)
    assert "Retro approvals" not in client.get(reverse("home")).text


@pytest.mark.browser
def test_supervisor_selects_claims_in_the_queue_and_approves_them(supervisor, login, live_server, program):
    claims = [pending(program), pending(program, amount="99.00"), pending(program, amount="61.50")]
    page = login(supervisor)
    page.get_by_role("link", name="Retro approvals").first.click()
    page.wait_for_selector("#queue-table")
    assert page.locator("#queue-table tbody tr").count() == 3
    page.check(f"input[name=selected][value='{claims[0].pk}']")
    page.check(f"input[name=selected][value='{claims[1].pk}']")
    assert page.locator("#selected-count").inner_text() == "2 selected"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-approvals.png"), full_page=True)
    page.click("#approve-selected")
    page.wait_for_selector(".alert-success")
    assert "2 claims approved" in page.locator(".alert-success").inner_text()
    assert page.locator("#queue-table tbody tr").count() == 1
    assert [status(c) for c in claims] == [S.MATCHED, S.MATCHED, S.PENDING_APPROVAL]


# --- Issue 9 --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_row_shows_the_transactions_date_location_amount_and_points(client, supervisor, program):
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    claim = pending(program, amount="99.00")
    client.force_login(supervisor)
    html = client.get(QUEUE).text
    row = html[html.index(f">{claim.number}<") :]
    row = row[: row.index("</tr>")]
    txn = claim.matched_transaction
    assert f'{txn.occurred_on:%Y-%m-%d} · PAR01 <span class="text-muted">Paris Opéra</span>' in row
    assert f"Ref. {txn.reference}" in row
    assert '<td class="text-end approval-amount">99.00 EUR</td>' in row and ">990<" in row
    assert '<th class="text-end">Amount</th><th class="text-end">Est. points</th>' in html


@pytest.mark.django_db
def test_the_waiting_count_follows_the_filters(client, supervisor, program):
    pending(program)
    pending(program, amount="99.00")
    client.force_login(supervisor)
    response = client.get(QUEUE, {"min_points": "500"}, headers={"HX-Request": "true"})
    # The grid partial, which htmx swaps in, carries the count.
    assert 'id="queue-count">1 waiting<' in response.text


@pytest.mark.django_db
def test_the_order_menu_offers_each_order_once(client, supervisor, program):
    client.force_login(supervisor)
    response = client.get(QUEUE)
    choices = [label for value, label in response.context["filter"].form.fields["sort"].choices]
    assert choices == ["Oldest first", "Newest first", "Most points", "Fewest points"]
    first, second = pending(program), pending(program, amount="99.00")
    html = client.get(QUEUE, {"sort": "-submitted"}).text
    assert html.index(second.number) < html.index(first.number)
    html = client.get(QUEUE, {"sort": "points"}).text
    assert html.index(first.number) < html.index(second.number)
