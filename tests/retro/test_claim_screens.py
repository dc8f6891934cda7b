"""Retro Claim Activity: filters, sorting, paging, CSV export, claim detail and supervisor decisions."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from loyalty.models import ApprovalLimit
from loyalty.spreadsheets import safe_cell
from retro import services
from retro.models import RetroClaim, RetroSettings
from tests.factories import LocationFactory, MemberFactory, MembershipFactory, UserFactory
from tests.retro.factories import RetroClaimFactory, RetroTransactionFactory, key_values_of, member_in, retro_program

pytestmark = pytest.mark.django_db
ACTIVITY = "/retro/claims/"
HX = {"HX-Request": "true"}


@pytest.fixture
def program():
    return retro_program()


def grid_numbers(response):
    return [c.number for c in response.context["page"].object_list]


def submitted(program, *, by=None, approval=False, membership=None):
    """A claim submitted through the service against a real pool transaction."""
    if approval:
        RetroSettings.objects.filter(program=program).update(approval_required=True, auto_approve_max_points=None)
    txn = RetroTransactionFactory(program=program)
    return services.submit_retro_claim(
        membership=membership or member_in(program),
        channel=RetroClaim.Channel.CSR,
        submitted_by=by,
        key_values=key_values_of(txn),
    )


def test_the_activity_screen_lists_claims_program_wide(client, csr, program):
    a = RetroClaimFactory(membership=member_in(program))
    b = RetroClaimFactory(membership=member_in(retro_program("travel")))
    client.force_login(csr)
    response = client.get(ACTIVITY)
    assert response.status_code == 200
    assert set(grid_numbers(response)) == {a.number, b.number}
    assert reverse("retro-claim-activity") == ACTIVITY


def test_filters_narrow_the_grid(client, csr, program):
    zoe = member_in(program, first_name="Maëlle", last_name="Dupont")
    matched = RetroClaimFactory(membership=zoe, status="matched", channel="portal")
    old = RetroClaimFactory(
        membership=member_in(program), submitted_at=timezone.now() - dt.timedelta(days=40), channel="api"
    )
    other_program = RetroClaimFactory(membership=member_in(retro_program("travel")))
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"status": "matched"})) == [matched.number]
    assert grid_numbers(client.get(ACTIVITY, {"channel": "api"})) == [old.number]
    assert grid_numbers(client.get(ACTIVITY, {"member": "maelle dupont"})) == [matched.number]
    assert grid_numbers(client.get(ACTIVITY, {"member": zoe.member.member_number})) == [matched.number]
    assert grid_numbers(client.get(ACTIVITY, {"program": other_program.program.pk})) == [other_program.number]
    cutoff = (timezone.now() - dt.timedelta(days=10)).date().isoformat()
    assert grid_numbers(client.get(ACTIVITY, {"submitted_to": cutoff})) == [old.number]
    assert old.number not in grid_numbers(client.get(ACTIVITY, {"submitted_from": cutoff}))


def test_bad_filter_values_are_errors_not_crashes(client, csr, program):
    RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    response = client.get(ACTIVITY, {"status": "bogus", "submitted_from": "yesterday", "sort": "password"})
    assert response.status_code == 200


def test_the_grid_sorts_by_whitelisted_columns(client, csr, program):
    for number in ["RC3", "RC1", "RC2"]:
        RetroClaimFactory(membership=member_in(program), number=number)
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"sort": "number"})) == ["RC1", "RC2", "RC3"]
    assert grid_numbers(client.get(ACTIVITY, {"sort": "-number"})) == ["RC3", "RC2", "RC1"]
    # An unknown sort key is ignored: newest first.
    assert grid_numbers(client.get(ACTIVITY, {"sort": "membership__member__user__password"})) == ["RC2", "RC1", "RC3"]


def test_sorting_by_member_and_status(client, csr, program):
    RetroClaimFactory(membership=member_in(program, first_name="Zed", last_name="Z"), number="RCZ", status="matched")
    RetroClaimFactory(membership=member_in(program, first_name="Amy", last_name="A"), number="RCA")
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"sort": "member"})) == ["RCA", "RCZ"]
    assert grid_numbers(client.get(ACTIVITY, {"sort": "status"})) == ["RCZ", "RCA"]  # matched < outstanding


def test_an_htmx_filter_change_returns_only_the_grid(client, csr, program):
    RetroClaimFactory(membership=member_in(program), status="matched")
    client.force_login(csr)
    html = client.get(ACTIVITY, {"status": "matched"}, headers=HX).content.decode()
    assert "<html" not in html and 'id="retro-claim-grid"' in html


def test_page_links_keep_the_filters(client, csr, program):
    membership = member_in(program)
    RetroClaimFactory.create_batch(25, membership=membership, status="matched")
    client.force_login(csr)
    response = client.get(ACTIVITY, {"status": "matched", "sort": "number"})
    html = response.content.decode()
    assert "Page 1 of 2" in html
    assert "status=matched&amp;sort=number&amp;page=2" in html
    assert len(grid_numbers(client.get(ACTIVITY, {"status": "matched", "sort": "number", "page": 2}))) == 5


def test_the_csv_export_streams_the_filtered_list(client, csr, program):
    matched = RetroClaimFactory(membership=member_in(program, first_name="=cmd"), status="matched")
    RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    response = client.get(reverse("retro-claim-export"), {"status": "matched"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r["claim"] for r in rows] == [matched.number]
    assert rows[0]["status"] == "Matched"
    assert rows[0]["member_name"].startswith("'=")  # no formula injection into spreadsheets


def test_the_detail_shows_keys_transaction_points_and_history(client, csr, program):
    claim = submitted(program, by=csr)
    client.force_login(csr)
    response = client.get(reverse("retro-claim-detail", args=[claim.number]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Reference / receipt number" in html
    assert claim.matched_transaction.source_id in html
    assert "420 Points" in html
    history = response.context["history"]
    assert [(log.source_state, log.state) for log in history] == [("outstanding", "matched")]
    assert 'id="reverse-form"' not in html  # a CSR may not reverse


def test_an_unknown_claim_is_a_404(client, csr):
    client.force_login(csr)
    assert client.get(reverse("retro-claim-detail", args=["RC-NOPE"])).status_code == 404


def test_a_supervisor_approves_a_pending_claim(client, supervisor, program):
    claim = submitted(program, approval=True)
    assert claim.status == "pending_approval"
    client.force_login(supervisor)
    detail = client.get(reverse("retro-claim-detail", args=[claim.number])).content.decode()
    assert "Approve" in detail and "Reject" in detail
    response = client.post(
        reverse("retro-claim-approve", args=[claim.number]), {"reason": "Receipt checked"}, follow=True
    )
    assert f"Claim {claim.number} approved" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "matched" and claim.activity_id
    history = response.context["history"]
    assert history.last().by == supervisor


def test_a_rejection_needs_a_reason(client, supervisor, program):
    claim = submitted(program, approval=True)
    client.force_login(supervisor)
    response = client.post(reverse("retro-claim-reject", args=[claim.number]), {"reason": " "}, follow=True)
    assert "Give a reason" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "pending_approval"
    client.post(reverse("retro-claim-reject", args=[claim.number]), {"reason": "Duplicate receipt"})
    claim.refresh_from_db()
    assert claim.status == "rejected"


def test_a_supervisor_reverses_a_matched_claim(client, supervisor, program):
    claim = submitted(program)
    client.force_login(supervisor)
    assert 'id="reverse-form"' in client.get(reverse("retro-claim-detail", args=[claim.number])).content.decode()
    client.post(reverse("retro-claim-reverse", args=[claim.number]), {"reason": "Claimed by mistake"})
    claim.refresh_from_db()
    assert claim.status == "reversed"


def test_a_decision_the_status_does_not_allow_is_a_message_not_a_500(client, supervisor, program):
    claim = RetroClaimFactory(membership=member_in(program), status="outstanding")
    client.force_login(supervisor)
    response = client.post(reverse("retro-claim-approve", args=[claim.number]), follow=True)
    assert response.status_code == 200
    assert "only Pending Approval claims can be approved" in response.content.decode()
    response = client.post(reverse("retro-claim-reverse", args=[claim.number]), {"reason": "x"}, follow=True)
    assert "only Matched claims can be reversed" in response.content.decode()


def test_decisions_are_post_only(client, supervisor, program):
    claim = submitted(program, approval=True)
    client.force_login(supervisor)
    assert client.get(reverse("retro-claim-approve", args=[claim.number])).status_code == 405


def test_a_csr_may_not_decide(client, csr, program):
    pending = submitted(program, approval=True)
    client.force_login(csr)
    html = client.get(reverse("retro-claim-detail", args=[pending.number])).content.decode()
    assert 'id="decision-form"' not in html
    assert client.post(reverse("retro-claim-approve", args=[pending.number])).status_code == 403
    assert client.post(reverse("retro-claim-reject", args=[pending.number]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("retro-claim-reverse", args=[pending.number]), {"reason": "x"}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending_approval"


def test_the_pending_queue_button_leads_approvers_to_retro_approvals(client, supervisor, csr, program):
    # Issue 9 item 18: it was a status preset of this grid, where nothing can be decided.
    pending = submitted(program, approval=True)
    RetroClaimFactory(membership=member_in(program))
    client.force_login(supervisor)
    html = client.get(ACTIVITY).content.decode()
    assert f'href="{reverse("retro-approval-queue")}" id="pending-queue-link"' in html
    assert grid_numbers(client.get(ACTIVITY, {"status": "pending_approval"})) == [pending.number]
    client.force_login(csr)  # may not approve: no button leading to a 403
    assert 'id="pending-queue-link"' not in client.get(ACTIVITY).content.decode()


@pytest.mark.parametrize(
    "url",
    [ACTIVITY, "/retro/claims/export.csv", "/retro/claims/RC1/"],
)
def test_it_requires_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_it_is_refused_to_users_without_the_permission(client, request, persona, program):
    claim = RetroClaimFactory(membership=member_in(program))
    client.force_login(request.getfixturevalue(persona))
    for url in [ACTIVITY, reverse("retro-claim-export"), reverse("retro-claim-detail", args=[claim.number])]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("retro-claim-approve", args=[claim.number])).status_code == 403


def test_anonymous_decisions_go_to_login(client, program):
    claim = RetroClaimFactory(membership=MembershipFactory(program=program, member=MemberFactory()))
    response = client.post(reverse("retro-claim-approve", args=[claim.number]))
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_screens_issue_a_fixed_number_of_queries(client, supervisor, program):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    membership = member_in(program)
    submitted(program, membership=membership)
    claim = submitted(program, membership=membership)

    def count(url, **params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return len(queries)

    client.force_login(supervisor)
    tab = reverse("member-retro-claims", args=[membership.member.member_number])
    before = [count(ACTIVITY), count(tab), count(reverse("retro-claim-detail", args=[claim.number]))]
    for _ in range(8):
        submitted(program, membership=membership)
    RetroClaimFactory.create_batch(5, membership=member_in(program))
    after = [count(ACTIVITY), count(tab), count(reverse("retro-claim-detail", args=[claim.number]))]
    assert after == before


# --- Issue 9: decisions on the detail page, the new statuses, what approvers see ------------------


def detail(client, claim):
    return client.get(reverse("retro-claim-detail", args=[claim.number])).content.decode()


def form_html(html, form_id):
    start = html.index(f'id="{form_id}"')
    return html[start : html.index("</form>", start)]


def test_approving_needs_no_reason_and_rejecting_one(client, supervisor, program):
    claim = submitted(program, approval=True)
    client.force_login(supervisor)
    html = detail(client, claim)
    # The browser would refuse to submit a form with an empty required box: approving has none.
    assert "required" not in form_html(html, "approve-form")
    assert "required" in form_html(html, "reject-form")
    response = client.post(reverse("retro-claim-approve", args=[claim.number]), {}, follow=True)
    assert f"Claim {claim.number} approved" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "matched"


def test_a_rejection_keeps_the_reason_internal_and_the_message_for_the_member(client, supervisor, program):
    claim = submitted(program, approval=True)
    client.force_login(supervisor)
    assert "Message to the member (optional)" in form_html(detail(client, claim), "reject-form")
    data = {"reason": "Receipt is from another store", "member_message": "Please send us the original receipt."}
    client.post(reverse("retro-claim-reject", args=[claim.number]), data)
    claim.refresh_from_db()
    assert claim.status == "rejected"
    assert claim.failure_reason == "Receipt is from another store"
    assert claim.member_message == "Please send us the original receipt."


def test_a_rejected_claim_shows_as_rejected_with_the_supervisors_reason(client, supervisor, csr, program):
    claim = submitted(program, approval=True)
    services.reject_retro_claim(claim=claim, by=supervisor, reason="Duplicate receipt", member_message="Sorry!")
    client.force_login(csr)
    html = detail(client, claim)
    assert 'data-status="rejected">Rejected<' in html and "Not Matched" not in html
    assert "Matched transaction" not in html and 'id="matched-transaction"' not in html
    assert "returned to the pool by the rejection" in html
    outcome = html[html.index('id="claim-outcome"') : html.index("</section>", html.index('id="claim-outcome"'))]
    assert "alert-danger" not in html
    assert f"Rejected by {supervisor.first_name} on" in outcome
    assert "Supervisor&#x27;s reason (internal)" in outcome and "Duplicate receipt" in outcome
    assert "Message to the member" in outcome and "Sorry!" in outcome


def test_a_reversed_claim_shows_its_points_taken_back_in_the_grid_detail_and_export(client, supervisor, program):
    claim = submitted(program)
    client.force_login(supervisor)
    data = {"reason": "Claimed by mistake", "member_message": "The purchase was refunded."}
    client.post(reverse("retro-claim-reverse", args=[claim.number]), data)
    claim.refresh_from_db()
    assert (claim.status, claim.member_message) == ("reversed", "The purchase was refunded.")
    today = timezone.localdate().isoformat()
    reversal = f'Reversed on <span class="text-nowrap">{today}</span> by {supervisor.first_name}'
    grid = client.get(ACTIVITY).content.decode()
    assert '<s class="text-muted" title="Earned, then taken back">420</s> 0' in grid and reversal in grid
    html = detail(client, claim)
    assert "<s " in html and reversal in html and "Supervisor&#x27;s reason (internal)" in html
    export = client.get(reverse("retro-claim-export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [(r["status"], r["points"]) for r in rows] == [("Reversed", "0")]


def test_a_csr_withdraws_an_outstanding_claim_with_a_reason(client, csr, program):
    claim = RetroClaimFactory(membership=member_in(program), status="outstanding")
    client.force_login(csr)
    assert 'id="withdraw-form"' in detail(client, claim)
    url = reverse("retro-claim-withdraw", args=[claim.number])
    response = client.post(url, {"reason": " "}, follow=True)
    assert "Give a reason" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "outstanding"
    response = client.post(url, {"reason": "Typo in the receipt number; submitted again"}, follow=True)
    html = response.content.decode()
    assert f"Claim {claim.number} withdrawn" in html
    assert 'data-status="withdrawn">Withdrawn<' in html and f"Withdrawn by {csr.first_name}" in html
    assert 'id="withdraw-form"' not in html
    claim.refresh_from_db()
    assert claim.status == "withdrawn"


def test_withdraw_is_offered_only_on_outstanding_claims(client, csr, program):
    client.force_login(csr)
    for status in ["pending_approval", "matched", "not_matched"]:
        claim = RetroClaimFactory(membership=member_in(program), status=status)
        assert 'id="withdraw-form"' not in detail(client, claim)


@pytest.mark.parametrize("persona", ["outsider", "member_user", "viewer"])
def test_withdrawing_is_refused_without_the_permission(client, request, persona, program):
    if persona == "viewer":
        user = UserFactory(username="viewer")
        user.user_permissions.add(Permission.objects.get(codename="view_retroclaim"))
    else:
        user = request.getfixturevalue(persona)
    claim = RetroClaimFactory(membership=member_in(program), status="outstanding")
    client.force_login(user)
    assert client.post(reverse("retro-claim-withdraw", args=[claim.number]), {"reason": "x"}).status_code == 403
    if persona == "viewer":
        assert 'id="withdraw-form"' not in detail(client, claim)
    claim.refresh_from_db()
    assert claim.status == "outstanding"


def test_anonymous_withdrawals_go_to_login(client, program):
    claim = RetroClaimFactory(membership=member_in(program), status="outstanding")
    response = client.post(reverse("retro-claim-withdraw", args=[claim.number]), {"reason": "x"})
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_new_statuses_have_their_own_badges(client, csr, program):
    RetroClaimFactory(membership=member_in(program), status="rejected")
    RetroClaimFactory(membership=member_in(program), status="withdrawn")
    client.force_login(csr)
    grid = client.get(ACTIVITY).content.decode()
    assert 'text-danger-emphasis border border-danger-subtle" data-status="rejected">Rejected<' in grid
    assert 'bg-light text-secondary border" data-status="withdrawn">Withdrawn<' in grid


def test_a_pending_claim_shows_its_transaction_and_estimated_points(client, supervisor, program):
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    claim = submitted(program, approval=True)
    client.force_login(supervisor)
    html = detail(client, claim)
    assert "No activity was posted" not in html
    assert "Estimated <strong>420 Points</strong>" in html
    txn = claim.matched_transaction
    assert f"{txn.occurred_on:%Y-%m-%d}" in html and "42.00 EUR" in html and "PAR01 · Paris Opéra" in html


def test_a_refusal_is_said_once_and_disables_the_buttons_it_concerns(client, supervisor, program):
    own = submitted(program, by=supervisor, approval=True)
    client.force_login(supervisor)
    html = detail(client, own)
    refusal = f"You submitted claim {own.number}; another person must approve it."
    assert html.count(refusal) == 1 and "alert-danger" not in html
    assert 'id="approve-button" disabled' in html and 'id="reject-button" disabled' in html
    assert 'aria-describedby="decision-refusal"' in html  # the buttons point at the one explanation
    ApprovalLimit.objects.create(
        program=program, lifecycle="retro_claim", role=Group.objects.get(name="Supervisor"), max_value=400
    )
    html = detail(client, submitted(program, approval=True))
    assert html.count("your approval limit is 400 points") == 1
    assert 'id="approve-button" disabled' in html and 'id="reject-button">' in html  # rejecting has no limit


def test_the_breadcrumb_leads_back_to_retro_approvals_while_the_claim_waits(client, supervisor, csr, program):
    claim = submitted(program, approval=True)
    client.force_login(supervisor)
    assert f'href="{reverse("retro-approval-queue")}" id="back-to-approvals">Back to Retro approvals<' in detail(
        client, claim
    )
    client.force_login(csr)
    html = detail(client, claim)
    assert 'id="back-to-approvals"' not in html and "Retro claim activity</a>" in html


def export_rows(client, **params):
    body = b"".join(client.get(reverse("retro-claim-export"), params).streaming_content)
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_export_starts_with_a_bom_so_spreadsheets_read_utf8(client, csr, program):
    RetroClaimFactory(membership=member_in(program, first_name="Zoë", last_name="Lefèvre-Martin"))
    client.force_login(csr)
    body, rows = export_rows(client)
    assert body.startswith(b"\xef\xbb\xbfclaim,")
    assert rows[0]["member_name"] == "Zoë Lefèvre-Martin"


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+cmd", "'+cmd"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Receipt unreadable", "Receipt unreadable"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-420, -420),
        (0, 0),
        (None, ""),
    ],
)
def test_export_cells_quote_formulas_and_keep_numbers(value, cell):
    assert safe_cell(value) == cell


def test_the_csv_export_escapes_formula_text_but_not_numbers(client, csr, program):
    RetroClaimFactory(
        membership=member_in(program, first_name="@Zoë"),
        failure_reason="\t=IMPORTXML(A1)",
        key_values={"amount": "-12.50"},
        attempt_count=3,
    )
    client.force_login(csr)
    _, rows = export_rows(client)
    assert rows[0]["member_name"].startswith("'@Zoë")
    assert rows[0]["failure_reason"] == "'\t=IMPORTXML(A1)"
    assert rows[0]["key_values"] == "amount=-12.50"
    assert rows[0]["attempts"] == "3"

