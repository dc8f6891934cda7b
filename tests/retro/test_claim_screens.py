"""Retro Claim Activity: filters, sorting, paging, CSV export, claim detail and supervisor decisions."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from retro import services
from retro.models import RetroClaim, RetroSettings
from tests.factories import MemberFactory, MembershipFactory
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
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
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


def test_the_pending_queue_is_a_status_preset(client, supervisor, program):
    pending = submitted(program, approval=True)
    RetroClaimFactory(membership=member_in(program))
    client.force_login(supervisor)
    html = client.get(ACTIVITY).content.decode()
    assert "?status=pending_approval" in html
    assert grid_numbers(client.get(ACTIVITY, {"status": "pending_approval"})) == [pending.number]


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
