"""The exchanges back office: the manual-handling queue and its cases, the Redemptions tab, the Exchanges screen."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm_log.models import StateLog
from rest_framework.test import APIClient

from exchanges import services
from exchanges.models import ManualHandlingCase
from tests.exchanges.conftest import booking

BASE = "/api/exchanges"
QUEUE = "/exchanges/manual-handling/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def redemption(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    return redemption


@pytest.fixture
def case(redemption, partner):
    return services.report_failure(partner=partner, redemption_id=redemption["id"], step="emd_reassociation")


def _aged(case, **delta):
    ManualHandlingCase.objects.filter(pk=case.pk).update(opened_at=timezone.now() - dt.timedelta(**delta))


def test_the_queue_lists_open_and_in_progress_cases_oldest_first_with_their_age(client, csr, supervisor,
                                                                                 redemption, partner):  # fmt: skip
    older = services.report_failure(partner=partner, redemption_id=redemption["id"], step="ticketing")
    newer = services.report_failure(partner=partner, redemption_id=redemption["id"], step="aer")
    done = services.report_failure(partner=partner, redemption_id=redemption["id"], step="seats_4g")
    _aged(older, days=2, hours=3)
    _aged(newer, minutes=40)
    services.take_case(case=done, by=supervisor)
    services.close_case(case=done, by=supervisor, outcome="resolve", reason="Seats fixed")
    client.force_login(csr)
    page = client.get(QUEUE).content.decode()
    assert f'id="case-{older.pk}"' in page and f'id="case-{newer.pk}"' in page
    assert f'id="case-{done.pk}"' not in page
    assert page.index(f'id="case-{older.pk}"') < page.index(f'id="case-{newer.pk}"')
    assert "2 d 3 h" in page and "40 min" in page
    assert f'Oldest open case: <a href="/exchanges/manual-handling/{older.pk}/"' in page
    assert "take-" not in page  # a CSR sees the queue; a supervisor takes cases
    grid = client.get(QUEUE, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="case-grid"' in grid and "<html" not in grid
    assert "Oldest open case" not in grid


def test_a_supervisor_takes_notes_and_resolves_a_case_from_its_page(client, supervisor, case):
    client.force_login(supervisor)
    assert f'id="take-{case.pk}"' in client.get(QUEUE).content.decode()
    assert client.post(f"{QUEUE}{case.pk}/take/").status_code == 302
    panel = client.post(f"{QUEUE}{case.pk}/notes/", {"text": "Called the desk."}, HTTP_HX_REQUEST="true")
    assert "Called the desk." in panel.content.decode() and 'id="case-done"' in panel.content.decode()
    empty = client.post(f"{QUEUE}{case.pk}/notes/", {"text": " "}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="case-error"' in empty and "Write the note." in empty
    response = client.post(f"{QUEUE}{case.pk}/close/", {"outcome": "resolve", "reason": "EMD reassociated."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "resolved" and case.assigned_to == supervisor
    assert [n.text for n in case.notes.order_by("sequence")] == ["Called the desk.", "EMD reassociated."]
    log = StateLog.objects.filter(object_id=case.pk, content_type__model="manualhandlingcase").order_by("id")
    assert [(s.transition, s.by) for s in log] == [("take", supervisor), ("resolve", supervisor)]
    detail = client.get(f"{QUEUE}{case.pk}/").content.decode()
    assert "Resolved" in detail and 'id="case-actions"' not in detail
    assert f'id="case-{case.pk}"' not in client.get(QUEUE).content.decode()


def test_a_case_is_cancelled_only_with_a_reason_and_resolved_only_once_taken(client, supervisor, case):
    client.force_login(supervisor)
    refused = client.post(f"{QUEUE}{case.pk}/close/", {"outcome": "cancel", "reason": ""})
    assert refused.status_code == 400 and "Give the reason." in refused.content.decode()
    early = client.post(f"{QUEUE}{case.pk}/close/", {"outcome": "resolve", "reason": "Done"})
    assert early.status_code == 400 and "cannot be changed that way" in early.content.decode()
    client.post(f"{QUEUE}{case.pk}/close/", {"outcome": "cancel", "reason": "Duplicate report"})
    case.refresh_from_db()
    assert case.status == "cancelled" and case.notes.get().text == "Duplicate report"


@pytest.mark.parametrize(
    "method,url",
    [("get", QUEUE), ("get", "{queue}{pk}/"), ("post", "{queue}{pk}/take/"), ("post", "{queue}{pk}/notes/"),
     ("post", "{queue}{pk}/close/"), ("get", "/exchanges/")],
)  # fmt: skip
def test_outsiders_get_403_and_anonymous_visitors_the_login_page(client, outsider, case, method, url):
    url = url.format(queue=QUEUE, pk=case.pk)
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    client.force_login(outsider)
    assert getattr(client, method)(url).status_code == 403
    case.refresh_from_db()
    assert case.status == "open" and not case.notes.exists()


@pytest.mark.parametrize("url", ["{queue}{pk}/take/", "{queue}{pk}/notes/", "{queue}{pk}/close/"])
def test_a_csr_sees_cases_but_does_not_handle_them(client, csr, case, url):
    client.force_login(csr)
    assert client.get(f"{QUEUE}{case.pk}/").status_code == 200
    response = client.post(url.format(queue=QUEUE, pk=case.pk), {"text": "x", "outcome": "cancel", "reason": "x"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "open"


def test_the_redemptions_tab_shows_bookings_points_paid_refunds_and_what_remains(client, csr, outsider, calls,
                                                                                 payer, redemption):  # fmt: skip
    calls.post(f"{BASE}/redemptions/{redemption['id']}/refunds/",
               {"membership_number": payer.membership_number, "ticket_numbers": ["0571234567891"]})  # fmt: skip
    url = f"/members/{payer.member.member_number}/tabs/redemptions/"
    client.force_login(csr)
    tab = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="tab-redemptions"' in tab and "ABC123" in tab
    assert "Points paid: <strong>16000</strong>" in tab and "refunded: <strong>6000</strong>" in tab
    assert "still refundable: <strong>10000</strong>" in tab
    profile = client.get(f"/members/{payer.member.member_number}/").content.decode()
    assert "Redemptions" in profile
    client.force_login(outsider)
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 403


def test_the_exchanges_screen_filters_points_operations(client, csr, calls, payer, redemption, partner):
    other = calls.post(f"{BASE}/redemptions/", booking(payer, pnr="XYZ789", tickets=(("0579999999999", 1000),))).data
    client.force_login(csr)
    page = client.get("/exchanges/").content.decode()
    assert "ABC123" in page and "XYZ789" in page
    by_pnr = client.get("/exchanges/", {"pnr": "xyz789"}, HTTP_HX_REQUEST="true").content.decode()
    assert "XYZ789" in by_pnr and "ABC123" not in by_pnr and 'id="operations-grid"' in by_pnr
    captures = client.get("/exchanges/", {"kind": "capture", "partner": partner.pk}).content.decode()
    assert captures.count('class="operation-row"') == 1 and f"<td>{other['id']}</td>" not in captures
    held = client.get("/exchanges/", {"status": "authorized"}).content.decode()
    assert held.count('class="operation-row"') == 1 and "XYZ789" in held
    today = timezone.localdate().isoformat()
    assert client.get("/exchanges/", {"date_from": today, "date_to": today}).content.decode().count(
        'class="operation-row"') == 3  # fmt: skip
    assert client.get("/exchanges/", {"date_to": "2020-01-01"}).content.decode().count('class="operation-row"') == 0


def test_the_queue_and_the_exchanges_screen_issue_a_fixed_number_of_queries(client, supervisor, redemption, partner):
    client.force_login(supervisor)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    services.report_failure(partner=partner, redemption_id=redemption["id"], step="aer")
    few = queries(QUEUE), queries("/exchanges/")
    for _ in range(4):
        case = services.report_failure(partner=partner, redemption_id=redemption["id"], step="ticketing")
        services.take_case(case=case, by=supervisor)
    assert (queries(QUEUE), queries("/exchanges/")) == few


def _issued(response):
    """The token the admin's message shows, once."""
    return re.search(r"new token (\w+) \(shown once", response.content.decode()).group(1)


def test_an_admin_issues_a_partner_a_new_token_and_the_old_one_stops_working(
    client, admin_user, partner, api, redemption
):
    from knox.crypto import hash_token
    from knox.models import AuthToken

    url = f"{BASE}/redemptions/{redemption['id']}/"
    client.force_login(admin_user)
    action = {"action": "issue_token", "_selected_action": [partner.pk]}
    response = client.post("/admin/exchanges/partnerclient/", action, follow=True)
    new = _issued(response)
    assert "the old ones no longer work" in response.content.decode()
    # Only the new token is left, stored as its digest; the old one is refused, the new one works.
    [row] = AuthToken.objects.filter(user=partner.user)
    assert row.digest == hash_token(new) and new not in str(AuthToken.objects.values_list().get())
    assert api.get(url).status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Token {new}").get(url).status_code == 200
    page = client.get("/admin/exchanges/partnerclient/").content.decode()
    assert "Token issued" in page and "Token expires" in page and f"{row.expiry:%Y-%m-%d %H:%M}" in page


def test_a_planned_rotation_lets_the_old_token_work_for_the_overlap_then_only_the_new_one(
    client, admin_user, partner, api, redemption, settings
):
    from knox.models import AuthToken

    settings.API_TOKEN_ROTATION_OVERLAP_DAYS = 3
    url = f"{BASE}/redemptions/{redemption['id']}/"
    client.force_login(admin_user)
    action = {"action": "issue_token_with_overlap", "_selected_action": [partner.pk]}
    response = client.post("/admin/exchanges/partnerclient/", action, follow=True)
    new = _issued(response)
    assert "the old ones work until" in response.content.decode()
    assert api.get(url).status_code == 200  # both work during the switch
    assert APIClient(HTTP_AUTHORIZATION=f"Token {new}").get(url).status_code == 200
    old = AuthToken.objects.filter(user=partner.user).order_by("created").first()
    assert old.expiry <= timezone.now() + dt.timedelta(days=3)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))  # 3 days later
    assert api.get(url).status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Token {new}").get(url).status_code == 200
