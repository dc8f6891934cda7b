"""Issue 13's access matrix: every URL of the URLconf, asked by each persona, answers as this table says.

A new URL without a row fails the test: decide who may open it and add the row. The answers are what the
product should give: "login" is a 302 to the sign-in page, "admin-login" to Django admin's, "redirect" any
other 302; the `post` answers are those of an empty POST, sent only where it changes nothing (a refusal, a
write without its Idempotency-Key, a read): the world stays as built for every URL.
"""

import pytest
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from exchanges.models import Redemption
from retro.models import RetroClaim
from tests.access_world import (
    ADMIN_LOGIN,
    LOGIN,
    PERSONAS,
    REDIRECT,
    Row,
    answer_of,
    build_world,
    clients,
    url_patterns,
)
from tests.exchanges.conftest import client_of

R = REDIRECT
# Answer tuples in PERSONAS' order: anonymous, member, csr, supervisor, admin, partner (a booking engine's token,
# which the screens do not read: there it is anonymous).
STAFF = (LOGIN, 403, 200, 200, 200, LOGIN)
SUPERVISORS = (LOGIN, 403, 403, 200, 200, LOGIN)
STAFF_POST = (LOGIN, 403, 405, 405, 405, LOGIN)  # a POST-only screen a CSR may use: GET is 405
SUPERVISORS_POST = (LOGIN, 403, 403, 405, 405, LOGIN)
REFUSED_BUT_STAFF = (LOGIN, 403, None, None, None, LOGIN)
REFUSED_BUT_SUPERVISORS = (LOGIN, 403, 403, None, None, LOGIN)
# require_POST comes first on the exchanges case actions: any GET is 405, whoever asks; the POST is refused.
CASE_ACTION = (405, 405, 405, 405, 405, 405)
API_STAFF = (401, 403, 200, 200, 200, 403)
API_STAFF_POST = (401, 403, 405, 405, 405, 403)
API_SUPERVISORS_POST = (401, 403, 403, 405, 405, 403)
API_REFUSED_BUT_STAFF = (401, 403, None, None, None, 403)
API_REFUSED_BUT_SUPERVISORS = (401, 403, 403, None, None, 403)
# The booking engine's API: partner clients only; an empty POST misses its Idempotency-Key or fields (400).
PARTNER_POST = (401, 405, 405, 405, 405, 405)
PARTNER_REFUSED = (401, 403, 403, 403, 403, 400)
ADMIN_ONLY = (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, ADMIN_LOGIN)


def claim(w):
    return {"number": w.other_claim.number}


def other_member(w):
    return {"member_number": w.other.member.member_number}


def flyer(w):
    return {"member_number": w.flight_claim.membership.member.member_number}


def flight(w):
    return {"number": w.flight_claim.number}


def redemption(w):
    return {"redemption_id": str(w.redemption.pk)}


def case(w):
    return {"pk": w.case.pk}


def membership_claim(w):
    return {"pk": w.membership_claim.pk}


def batch(w):
    return {"pk": w.batch.pk}


TABLE = {
    "home": Row((LOGIN, 200, 200, 200, 200, LOGIN)),
    "login": Row((200,) * 6),
    # Operations: the load balancer's probe needs no sign-in; metrics are for a scraper on loopback (the test
    # client's address) or with METRICS_TOKEN, whoever is signed in.
    "health": Row((200,) * 6),
    "metrics": Row((200,) * 6),
    "logout": Row((405,) * 6),  # signing out is a POST
    # The API's schema and its docs page are public: partners read them before they have a token.
    "api-schema": Row((200,) * 6),
    "api-docs": Row((200,) * 6),
    "member-search": Row(STAFF),
    "member-profile": Row(STAFF, other_member),
    # Opened outside htmx, a tab sends to the profile with the tab selected.
    "member-profile-tab": Row((LOGIN, 403, R, R, R, LOGIN), lambda w: {**other_member(w), "tab": "summary"}),
    # Retro claims (staff screens); the claim and member are another member's than the portal user's.
    "retro-claim-activity": Row(STAFF),
    "retro-approval-queue": Row(SUPERVISORS),
    "retro-claim-export": Row(STAFF),
    "retro-claim-detail": Row(STAFF, claim),
    "retro-claim-approve": Row(SUPERVISORS_POST, claim, REFUSED_BUT_SUPERVISORS),
    "retro-claim-reject": Row(SUPERVISORS_POST, claim, REFUSED_BUT_SUPERVISORS),
    "retro-claim-reverse": Row(SUPERVISORS_POST, claim, REFUSED_BUT_SUPERVISORS),
    "retro-claim-withdraw": Row(STAFF_POST, claim, REFUSED_BUT_STAFF),
    "member-retro-claims": Row(STAFF, other_member),
    "member-retro-pool": Row(STAFF, other_member),
    "retro-transaction-import": Row(SUPERVISORS, post=REFUSED_BUT_SUPERVISORS),
    "flight-import": Row(SUPERVISORS, post=REFUSED_BUT_SUPERVISORS),
    "retro-import-batch": Row(SUPERVISORS, batch),
    "import-upload": Row(SUPERVISORS, lambda w: {"kind": "stays"}, REFUSED_BUT_SUPERVISORS),
    "retro-import-errors": Row(SUPERVISORS, batch),
    "member-flight-claim-wizard": Row(STAFF, flyer, REFUSED_BUT_STAFF),
    "member-manual-flight": Row(STAFF, flyer, REFUSED_BUT_STAFF),
    "flight-approval-queue": Row(SUPERVISORS, post=REFUSED_BUT_SUPERVISORS),
    # The member portal: members only (the admin holds every permission but is no member: 403 too).
    "portal-home": Row((LOGIN, 200, 403, 403, 403, LOGIN)),
    "portal-claim-detail": Row((LOGIN, 200, 403, 403, 403, LOGIN), lambda w: {"number": w.own_claim.number}),
    # Membership claims.
    "claim-search": Row(STAFF),
    "claim-export": Row(STAFF),
    "claim-new": Row(STAFF),
    "claim-new-for-member": Row((LOGIN, 403, R, R, R, LOGIN), lambda w: {"member_number": w.guest_number}),
    "claim-detail": Row(STAFF, membership_claim, REFUSED_BUT_STAFF),
    "claim-note-add": Row((LOGIN, 403, R, R, R, LOGIN), membership_claim, REFUSED_BUT_STAFF),
    "claim-note-view": Row(STAFF, lambda w: {"pk": w.membership_claim.pk, "sequence": w.note.sequence}),
    "claim-transactions": Row(STAFF, membership_claim),
    "adjustment-code-thresholds": Row(STAFF),
    "stay-detail": Row(STAFF, lambda w: {"pk": w.stay.pk}),
    "stay-attach-card": Row(STAFF, lambda w: {"pk": w.stay.pk}, REFUSED_BUT_STAFF),
    "stay-estimate": Row(STAFF, lambda w: {"pk": w.stay.pk}),
    "claim-activity-detail": Row(STAFF, lambda w: {"pk": w.activity.pk}),
    "adjustment-batch-queue": Row(SUPERVISORS, post=REFUSED_BUT_SUPERVISORS),
    "stay-import": Row((LOGIN, 403, 403, R, R, LOGIN)),
    "adjustment-import": Row((LOGIN, 403, 403, R, R, LOGIN)),
    # Exchanges back office.
    "exchanges-operations": Row(STAFF),
    "exchanges-manual-handling": Row(STAFF),
    "exchanges-case": Row(STAFF, case),
    "exchanges-case-take": Row(CASE_ACTION, case, REFUSED_BUT_SUPERVISORS),
    "exchanges-case-note": Row(CASE_ACTION, case, REFUSED_BUT_SUPERVISORS),
    "exchanges-case-close": Row(CASE_ACTION, case, REFUSED_BUT_SUPERVISORS),
    "exchanges-case-correct": Row(CASE_ACTION, case, REFUSED_BUT_SUPERVISORS),
    "exchanges-correction-decide": Row(
        CASE_ACTION, lambda w: {**case(w), "correction_pk": w.correction.pk}, REFUSED_BUT_SUPERVISORS
    ),
    "exchanges-corrections": Row(SUPERVISORS, post=REFUSED_BUT_SUPERVISORS),
    # Retro API (staff and partner systems with the permissions; the booking engine has none of them).
    "api-retro-claim-submit": Row(API_STAFF_POST, post=API_REFUSED_BUT_STAFF),
    "api-retro-claim-detail": Row(API_STAFF, claim),
    "api-retro-claim-approve": Row(API_SUPERVISORS_POST, claim, API_REFUSED_BUT_SUPERVISORS),
    "api-retro-claim-reject": Row(API_SUPERVISORS_POST, claim, API_REFUSED_BUT_SUPERVISORS),
    "api-retro-member-claims": Row(API_STAFF, lambda w: {"membership_number": w.other.membership_number}),
    "api-retro-transactions": Row(API_STAFF, query=lambda w: {"program": "shop"}),
    "api-retro-transactions-batch": Row(API_SUPERVISORS_POST, post=API_REFUSED_BUT_SUPERVISORS),
    "api-flight-search": Row(API_STAFF, query=lambda w: {"ticket": w.flight_claim.ticket_number}),
    "api-flight-batch": Row(API_SUPERVISORS_POST, post=API_REFUSED_BUT_SUPERVISORS),
    "api-flight-claim-submit": Row(API_STAFF_POST, post=API_REFUSED_BUT_STAFF),
    "api-flight-claim-detail": Row(API_STAFF, flight),
    "api-flight-claim-approve": Row(API_SUPERVISORS_POST, flight, API_REFUSED_BUT_SUPERVISORS),
    "api-flight-claim-reject": Row(API_SUPERVISORS_POST, flight, API_REFUSED_BUT_SUPERVISORS),
    # The booking engine's API: its own program's booking.
    "api-exchanges-quote": Row(PARTNER_POST, post=PARTNER_REFUSED),
    "api-exchanges-eligibility": Row(PARTNER_POST, post=(401, 403, 403, 403, 403, 200)),  # a read: defaults answer
    "api-exchanges-authorize": Row(PARTNER_POST, post=PARTNER_REFUSED),
    "api-exchanges-redemption": Row((401, 403, 403, 403, 403, 200), redemption),
    "api-exchanges-capture": Row(PARTNER_POST, redemption, PARTNER_REFUSED),
    "api-exchanges-release": Row(PARTNER_POST, redemption, PARTNER_REFUSED),
    "api-exchanges-refund": Row(PARTNER_POST, redemption, PARTNER_REFUSED),
    "api-exchanges-failure": Row(PARTNER_POST, redemption, PARTNER_REFUSED),
    # Django admin: rows for its door and a model page stand for its ~290 patterns (see excluded()).
    "admin:index": Row(ADMIN_ONLY),
    "admin:login": Row((200, 200, 200, 200, R, 200)),  # a signed-in admin is sent on to the index
    "admin:loyalty_member_changelist": Row(ADMIN_ONLY),
    "admin:retro_retroclaimkey_changelist": Row(ADMIN_ONLY),
}


def excluded(route, name):
    """Patterns not ours to judge one by one.

    - favicon.ico: a permanent redirect to a static file, the same for everyone.
    - Django admin's own patterns (changelists, add/change/delete/history pages, autocomplete, jsi18n, the
      catch-all): admin.site guards them all with one check (active staff), which the admin rows above prove.
    """
    return route == "favicon.ico" or (route.startswith("admin/") and name not in TABLE)


def patterns_to_check():
    return [(route, name) for route, name in url_patterns() if not excluded(route, name)]


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    # One persona asks ~80 URLs in a second; the API's rate limits are tested in tests/loyalty.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"})


@pytest.fixture
def world(member_user, csr, supervisor, admin_user):
    world = build_world(member_user=member_user, csr=csr, supervisor=supervisor)
    users = {"member": member_user, "csr": csr, "supervisor": supervisor, "admin": admin_user}
    world.clients = clients(users, world.partner)
    return world


def test_every_url_has_a_row_and_every_row_a_url():
    names = [name or route for route, name in patterns_to_check()]
    missing = [name for name in names if name not in TABLE]
    assert not missing, "New URL without a row in the access matrix (tests/test_access_matrix.py TABLE): " + ", ".join(
        missing
    )
    stale = sorted(set(TABLE) - set(names))
    assert not stale, f"Rows for URLs that no longer exist: {', '.join(stale)}"
    assert len(names) == len(set(names)), "Two patterns share a name: the table cannot tell them apart"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(persona, world):
    index = PERSONAS.index(persona)
    client = world.clients[persona]
    mismatches = []
    for route, name in patterns_to_check():
        row = TABLE.get(name or route)
        if row is None:
            continue  # reported by test_every_url_has_a_row_and_every_row_a_url
        url = reverse(name, kwargs=row.kwargs(world) if row.kwargs else None)
        asks = [("GET", row.get[index])]
        if row.post is not None and row.post[index] is not None:
            asks.append(("POST", row.post[index]))
        for method, expected in asks:
            query = row.query(world) if row.query else None
            response = client.get(url, query) if method == "GET" else client.post(url)
            got = answer_of(response)
            if got != expected:
                mismatches.append(f"  {method} {url} ({name}): expected {expected}, got {got}")
    assert not mismatches, f"{persona}: {len(mismatches)} answers differ from the table:\n" + "\n".join(mismatches)


@pytest.mark.django_db
def test_a_member_never_reads_another_members_data(world):
    member = world.clients["member"]
    other, claim = world.other, world.other_claim
    secrets = [claim.number, other.membership_number, other.member.member_number, other.member.last_name]

    def shows_nothing_of_the_other(response, statuses):
        text = response.content.decode()
        assert response.status_code in statuses, (response.request["PATH_INFO"], response.status_code)
        assert not [s for s in secrets if s in text], response.request["PATH_INFO"]

    shows_nothing_of_the_other(member.get(reverse("portal-claim-detail", args=[claim.number])), {404})
    shows_nothing_of_the_other(member.get(reverse("portal-home"), {"membership": other.membership_number}), {200})
    for name, args in [
        ("api-retro-claim-detail", [claim.number]),
        ("api-retro-member-claims", [other.membership_number]),
        ("api-flight-claim-detail", [world.flight_claim.number]),
        ("retro-claim-detail", [claim.number]),
        ("member-profile", [other.member.member_number]),
        ("member-retro-claims", [other.member.member_number]),
        ("claim-detail", [world.membership_claim.pk]),
    ]:
        shows_nothing_of_the_other(member.get(reverse(name, args=args)), {403, 404})
    # Naming the other's membership in a portal submission cannot put a claim on it.
    member.post(reverse("portal-home"), {"membership": other.membership_number, "transaction_type": "purchase",
                                         "location_code": "PAR01", "transaction_date": "2026-01-05",
                                         "reference": "R1", "amount": "10.00"})  # fmt: skip
    assert not RetroClaim.objects.filter(membership=other).exclude(pk=claim.pk).exists()


@pytest.mark.django_db
def test_a_partner_token_touches_only_its_own_programs_bookings(world):
    """The world's booking engine (Fly Miles) before another partner's Sea Miles booking: not found, untouched."""
    api = client_of(world.partner)
    theirs = f"/api/exchanges/redemptions/{world.other_redemption.pk}/"
    assert api.get(theirs).status_code == 404
    for step, body in [("capture", {}), ("release", {}), ("refunds", {"membership_number": "x"}),
                       ("failures", {"step": "aer"})]:  # fmt: skip
        response = api.post(f"{theirs}{step}/", body, format="json", headers={"Idempotency-Key": f"k-{step}"})
        assert response.status_code == 404 and response.data["code"] == "unknown_redemption", step
    booking = {"program": "sea", "membership_number": world.other_redemption.membership.membership_number,
               "pnr": "ZZZ111", "currency": "EUR", "cash_amount": "0",
               "tickets": [{"ticket_number": "0578888888880", "points": 2000}]}  # fmt: skip
    response = api.post("/api/exchanges/redemptions/", booking, format="json", headers={"Idempotency-Key": "k-a"})
    assert response.status_code == 403 and response.data["code"] == "program_not_allowed"
    assert Redemption.objects.get(pk=world.other_redemption.pk).status == "authorized"
    assert Redemption.objects.filter(program__code="sea").count() == 1
