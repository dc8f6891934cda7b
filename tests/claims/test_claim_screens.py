"""The claim screens through the browser's requests: who may do what, entry, edit, notes, All Trx, queues."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from claims import services
from claims.models import AdjustmentBatch, ClaimStatus, MembershipClaim, Stay, StayException
from loyalty.models import Activity, LedgerEntry
from tests.claims.factories import (
    code,
    earning,
    hotel,
    membership_in,
    open_stay_claim,
    stay,
)
from tests.factories import MembershipFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(membership, csr):
    return open_stay_claim(membership, csr)


def user_with(*codenames, username="viewer"):
    user = UserFactory(username=username)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="claims", codename__in=codenames))
    return user


def form_data(claim, **changes):
    data = {
        "caller_name": claim.caller_name, "claim_type": claim.claim_type_id, "record_type": claim.record_type,
        "hotel": claim.hotel_id or "", "property_reservation_number": claim.property_reservation_number,
        "central_reservation_number": claim.central_reservation_number,
        "arrival_date": claim.arrival_date or "", "departure_date": claim.departure_date or "",
        "status": claim.status, "decision": claim.decision, "owner": claim.owner_id or "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_a_view_only_user_sees_a_read_only_claim_and_a_crafted_post_changes_nothing(client, claim, roles):
    viewer = user_with("view_membershipclaim")
    client.force_login(viewer)
    response = client.get(f"/claims/{claim.pk}/")
    text = response.content.decode()
    assert response.status_code == 200 and 'id="view-only"' in text and 'id="save-button"' not in text
    assert 'id="note-form"' not in text and "disabled" in text
    response = client.post(f"/claims/{claim.pk}/", form_data(claim, status="closed", caller_name="Hacked"))
    assert response.status_code == 403
    response = client.post(f"/claims/{claim.pk}/notes/", {"text": "sneaky"})
    assert response.status_code == 403
    claim.refresh_from_db()
    assert (claim.status, claim.caller_name, claim.notes.count()) == ("open", "Zoë Lefèvre", 1)


@pytest.mark.parametrize(
    "url",
    [
        "/claims/",
        "/claims/new/",
        "/claims/{pk}/",
        "/claims/{pk}/transactions/",
        "/claims/{pk}/notes/1/",
        "/claims/adjustment-files/",
        "/claims/stays/{stay}/card/",
    ],
)
def test_a_user_without_claims_rights_gets_403_and_anonymous_the_login(client, claim, outsider, program, url):
    url = url.format(pk=claim.pk, stay=stay(program).pk)
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_csr_enters_a_claim_and_its_number_is_given_on_save(client, csr, membership, program):
    client.force_login(csr)
    page = client.get(f"/claims/new/?membership={membership.membership_number}")
    assert page.status_code == 200 and "given on save" in page.content.decode()
    departure = timezone.localdate() - dt.timedelta(days=30)
    data = {"caller_name": "Zoë", "claim_type": services_type("STAY"), "record_type": "stay",
            "hotel": hotel(program).pk, "arrival_date": departure - dt.timedelta(days=1), "departure_date": departure,
            "owner": csr.pk}  # fmt: skip
    response = client.post(f"/claims/new/?membership={membership.membership_number}", data)
    claim = MembershipClaim.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    assert claim.notes.get().text == "Claim opened"


def services_type(code_name):
    from claims.models import ClaimType

    return ClaimType.objects.get(code=code_name).pk


def test_a_threshold_error_is_shown_on_the_field_and_nothing_is_saved(client, csr, membership, program):
    goodwill = code(program, points=(0, 5000))
    client.force_login(csr)
    data = {"claim_type": services_type("GOODWILL"), "record_type": "limited_adjustment",
            "adjustment_code": goodwill.pk, "base_points": "5001"}  # fmt: skip
    response = client.post(f"/claims/new/?membership={membership.membership_number}", data)
    text = response.content.decode()
    assert response.status_code == 400 and 'id="error-base_points"' in text and "between 0 and 5,000" in text
    assert not MembershipClaim.objects.exists()


def test_an_editor_saves_a_status_and_ok_returns_to_the_search(client, csr, claim):
    client.force_login(csr)
    response = client.post(f"/claims/{claim.pk}/", form_data(claim, status="pending", ok="1"))
    assert response.status_code == 302 and response["Location"] == "/claims/"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDING


def test_reopening_without_a_note_is_a_form_error(client, csr, claim):
    services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.CLOSED)
    claim.refresh_from_db()
    client.force_login(csr)
    response = client.post(f"/claims/{claim.pk}/", form_data(claim, status="open"))
    assert response.status_code == 400 and "Say why the claim is reopened" in response.content.decode()


def test_a_supervisor_approves_an_adjustment_on_the_screen_and_it_posts_once(client, csr, supervisor, membership,
                                                                              program):  # fmt: skip
    goodwill = code(program, points=(0, 5000))
    values = {"claim_type": MembershipClaim._meta.get_field("claim_type").related_model.objects.get(code="GOODWILL"),
              "record_type": "limited_adjustment", "adjustment_code": goodwill, "bonus_points": 700}  # fmt: skip
    claim = services.open_claim(membership=membership, by=csr, values=values)
    client.force_login(supervisor)
    data = form_data(claim, decision="approved", adjustment_code=goodwill.pk, bonus_points=700)
    for _ in range(2):  # a second save (a double click) posts nothing more
        assert client.post(f"/claims/{claim.pk}/", data).status_code == 302
    assert list(LedgerEntry.objects.filter(membership=membership).values_list("metric", "quantity")) == [("bonus", 700)]
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert 'id="posted-activity"' in page and "Claim approved: 700 points posted" in page


def test_the_submitter_approving_their_own_adjustment_gets_a_form_error(client, supervisor, membership, program):
    goodwill = code(program, points=(0, 5000))
    values = {"claim_type": MembershipClaim._meta.get_field("claim_type").related_model.objects.get(code="GOODWILL"),
              "record_type": "limited_adjustment", "adjustment_code": goodwill, "bonus_points": 700}  # fmt: skip
    claim = services.open_claim(membership=membership, by=supervisor, values=values)
    client.force_login(supervisor)
    response = client.post(f"/claims/{claim.pk}/", form_data(claim, decision="approved", adjustment_code=goodwill.pk,
                                                             bonus_points=700))  # fmt: skip
    assert response.status_code == 400 and "another person must approve it" in response.content.decode()
    assert not Activity.objects.exists()


def test_a_note_is_added_with_htmx_and_viewed_whole(client, csr, claim):
    client.force_login(csr)
    response = client.post(f"/claims/{claim.pk}/notes/", {"text": "Called the property " * 20},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200 and 'id="note-2"' in response.content.decode()
    whole = client.get(f"/claims/{claim.pk}/notes/2/").content.decode()
    assert whole.count("Called the property") == 20
    assert client.post(f"/claims/{claim.pk}/notes/", {"text": ""}, HTTP_HX_REQUEST="true").status_code == 400


def test_submitting_for_a_primary_and_a_non_primary_membership_are_separate_rights(client, program, roles):
    first = membership_in(program)
    second = MembershipFactory(member=first.member, program=ProgramFactory(code="second"),
                               joined_on=first.joined_on + dt.timedelta(days=30))  # fmt: skip
    primary_only = user_with("view_membershipclaim", "submit_primary_claim", username="primary")
    client.force_login(primary_only)
    assert client.get(f"/claims/new/?membership={first.membership_number}").status_code == 200
    assert client.get(f"/claims/new/?membership={second.membership_number}").status_code == 403
    other_only = user_with("view_membershipclaim", "submit_nonprimary_claim", username="other")
    client.force_login(other_only)
    assert client.get(f"/claims/new/?membership={first.membership_number}").status_code == 403
    assert client.get(f"/claims/new/?membership={second.membership_number}").status_code == 200


def test_new_without_a_member_opens_a_member_search_first(client, csr, membership):
    client.force_login(csr)
    page = client.get("/claims/new/", {"q": membership.member.member_number}).content.decode()
    assert 'id="member-choices"' in page and f"membership={membership.membership_number}" in page


def test_the_profile_shows_the_lamp_and_the_claims_tab(client, csr, claim, membership):
    client.force_login(csr)
    profile = client.get(membership.member.get_absolute_url()).content.decode()
    assert 'class="claims-lamp on"' in profile and "1 open claim" in profile
    tab = client.get(f"/members/{membership.member.member_number}/tabs/claims/", HTTP_HX_REQUEST="true")
    assert f'href="/claims/{claim.pk}/"' in tab.content.decode()


def test_the_lamp_is_shown_to_a_user_with_only_a_claims_permission(client, claim, membership, roles):
    user = user_with("add_claimnote", username="noter")
    user.user_permissions.add(Permission.objects.get(codename="view_member", content_type__app_label="loyalty"))
    client.force_login(user)
    assert 'id="claims-lamp"' in client.get(membership.member.get_absolute_url()).content.decode()


def test_the_home_page_lists_my_claims_due_today_or_overdue(client, csr, membership):
    today = timezone.localdate()
    open_stay_claim(membership, csr, reply_by=today - dt.timedelta(days=2), property_reservation_number="LATE")
    open_stay_claim(membership, csr, reply_by=today, property_reservation_number="TODAY")
    open_stay_claim(membership, csr, reply_by=today + dt.timedelta(days=3), property_reservation_number="LATER")
    client.force_login(csr)
    page = client.get("/").content.decode()
    assert 'id="claims-due"' in page and "1 overdue" in page and "1 today" in page


def test_all_trx_lists_stays_and_adjustments_and_flags_exceptions(client, csr, claim, membership, program):
    earning(program)
    stay(program, membership=membership, number="DONE", departure=timezone.localdate() - dt.timedelta(days=20))
    from claims.stays import calculate_due_stays

    calculate_due_stays()
    stay(program, membership=None, guest=membership.member, number="NOCARD", exception=StayException.NO_CARD)
    client.force_login(csr)
    page = client.get(f"/claims/{claim.pk}/transactions/").content.decode()
    assert "DONE" in page and "NOCARD" in page and "Enrolment" in page and "trx-pending" in page
    only = client.get(f"/claims/{claim.pk}/transactions/", {"exception": "no_card"}).content.decode()
    assert "NOCARD" in only and "DONE" not in only


def test_options_attaches_a_card_and_est_points_shows_both_values(client, csr, claim, membership, program):
    earning(program, points=120)
    orphan = stay(program, membership=None, guest=membership.member, number="ORPHAN", exception=StayException.NO_CARD)
    client.force_login(csr)
    back = f"/claims/{claim.pk}/transactions/"
    data = {"membership_number": membership.membership_number, "back": back}
    response = client.post(f"/claims/stays/{orphan.pk}/card/", data)
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/transactions/"
    assert Stay.objects.get(pk=orphan.pk).membership == membership
    estimate = client.get(f"/claims/stays/{orphan.pk}/estimate/").content.decode()
    assert 'id="estimate-today"' in estimate and 'id="estimate-posting"' in estimate and "120" in estimate
    bad = client.post(f"/claims/stays/{orphan.pk}/card/", {"membership_number": "NOPE"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "NOPE" in bad.content.decode()


def test_the_adjustment_files_queue_approves_a_file_sent_by_someone_else(client, supervisor, program, roles):
    from tests.claims.test_imports import ADJ_HEADER, run_import

    code(program, "GOODWILL", points=(0, 5000))
    member = membership_in(program)
    row = {"membership_number": member.membership_number, "adjustment_code": "GOODWILL", "bonus_points": "100",
           "reason": "Goodwill"}  # fmt: skip
    batch = run_import(program, "adjustments", ADJ_HEADER, [row], by=supervisor)
    adjustments = AdjustmentBatch.objects.get(import_batch=batch)
    checker = UserFactory(username="checker", role="Supervisor")
    client.force_login(checker)
    assert "File #" in client.get("/claims/adjustment-files/").content.decode()
    client.post("/claims/adjustment-files/", {"decision": "approve", "selected": [adjustments.pk]})
    adjustments.refresh_from_db()
    assert adjustments.status == "approved"
    assert LedgerEntry.objects.get(membership=member).quantity == 100


def test_the_notes_list_shortens_long_notes_escapes_them_and_names_their_author(client, csr, claim):
    services.add_note(claim=claim, by=csr, activity_type=None, text="<b>Folio</b> " + "x" * 200)
    client.force_login(csr)
    html = client.get(f"/claims/{claim.pk}/").content.decode()
    row = html[html.index('<tr id="note-2">') : html.index("</tr>", html.index('<tr id="note-2">'))]
    assert "&lt;b&gt;Folio&lt;/b&gt; " + "x" * 126 + "…</td>" in row and "<b>" not in row
    assert "Casey" in row  # the CSR's first name (loyalty_format.person)
    assert f'href="/claims/{claim.pk}/notes/2/"' in row and f'hx-get="/claims/{claim.pk}/notes/2/"' in row
    first = html[html.index('<tr id="note-1">') : html.index("</tr>", html.index('<tr id="note-1">'))]
    assert "<td>Claim opened</td><td>Casey</td>" in first  # written for the CSR who opened the claim
