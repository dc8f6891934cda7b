"""The Membership Claims search: every Main and Advanced criterion, sort, pages, CSV, a fixed number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import services
from claims.models import ClaimOrigin, ClaimSource, ClaimStatus, ClaimType, MembershipClaim
from tests.claims.factories import claim_type, hotel, hotel_program, membership_in, open_stay_claim
from tests.factories import MemberFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(csr, supervisor):
    program = hotel_program()
    zoe = MembershipFactory(program=program, member=MemberFactory(first_name="Zoë", last_name="Lefèvre"))
    paul = MembershipFactory(program=program, member=MemberFactory(first_name="Paul", last_name="Martin"))
    lyon = hotel(program, "LYS-BELLECOUR")
    first = open_stay_claim(zoe, csr, property_reservation_number="PMS1", central_reservation_number="CRS1",
                            reply_by=timezone.localdate() - dt.timedelta(days=1))  # fmt: skip
    second = services.open_claim(membership=paul, by=supervisor, values={
        "claim_type": claim_type("NEWCARD"), "record_type": "other", "caller_name": "Paul",
        "origin": ClaimOrigin.objects.get(code="FAX"), "owner": supervisor, "hotel": lyon,
    })  # fmt: skip
    services.update_claim(claim=second, by=supervisor, values={}, status=ClaimStatus.CLOSED, decision="approved")
    return {"zoe": zoe, "paul": paul, "lyon": lyon, "first": first, "second": second, "program": program}


def found(client, user, **criteria):
    client.force_login(user)
    response = client.get("/claims/", criteria)
    assert response.status_code == 200
    return [claim.pk for claim in response.context["page"].object_list]


def test_every_basic_criterion_finds_its_claim(client, csr, supervisor, world):
    first, second = world["first"].pk, world["second"].pk
    cases = {
        "name": ("lefevre", [first]),
        "program": (world["program"].pk, [second, first]),
        "membership_number": (world["paul"].membership_number.lower(), [second]),
        "claim_type": (claim_type("NEWCARD").pk, [second]),
        "source": (ClaimSource.BACK_OFFICE, [second, first]),
        "owner": (supervisor.pk, [second]),
        "number": (first, [first]),
        "hotel": (world["lyon"].pk, [second]),
        "reservation": ("CRS1", [first]),
    }
    for criterion, (value, expected) in cases.items():
        assert found(client, csr, **{criterion: value}) == expected, criterion
    assert found(client, csr, reservation="PMS1") == [first]
    assert found(client, csr, source=ClaimSource.PROPERTY) == []


def test_every_advanced_criterion_finds_its_claim(client, csr, supervisor, world):
    first, second = world["first"].pk, world["second"].pk
    today = timezone.localdate()
    yesterday, departure = today - dt.timedelta(days=1), world["first"].departure_date
    cases = {
        "submitter": (supervisor.pk, [second]),
        "status": (ClaimStatus.CLOSED, [second]),
        "closed_on": (today, [second]),
        "claim_date_from": (today, [second, first]),
        "claim_date_to": (yesterday, []),
        "reply_by_from": (yesterday, [first]),
        "reply_by_to": (yesterday, [first]),
        "arrival_from": (departure - dt.timedelta(days=2), [first]),
        "arrival_to": (departure - dt.timedelta(days=3), []),
        "departure_from": (departure, [first]),
        "departure_to": (departure, [first]),
        "decision": ("approved", [second]),
        "origin": (ClaimOrigin.objects.get(code="FAX").pk, [second]),
    }
    for criterion, (value, expected) in cases.items():
        assert found(client, csr, **{criterion: str(value)}) == expected, criterion
    assert found(client, csr, decision="rejected") == []


def test_the_grid_flags_overdue_claims_and_sorts_both_ways(client, csr, world):
    client.force_login(csr)
    page = client.get("/claims/", {"all": 1}).context["page"]
    overdue = {claim.pk: claim.overdue for claim in page.object_list}
    assert overdue == {world["first"].pk: True, world["second"].pk: False}
    assert found(client, csr, all=1, sort="number") == [world["first"].pk, world["second"].pk]
    assert found(client, csr, all=1, sort="-number") == [world["second"].pk, world["first"].pk]
    assert "overdue" in client.get("/claims/", {"all": 1}).content.decode()


def test_each_sort_header_keeps_the_criteria_leaves_the_page_and_turns_the_current_sort_around(client, csr, world):
    client.force_login(csr)
    html = client.get("/claims/", {"all": 1, "caller_name": "<b>", "page": 1, "sort": "-claim_date"}).content.decode()
    assert ('<th><a href="?all=1&amp;caller_name=%3Cb%3E&amp;sort=claim_date" hx-get="?all=1&amp;caller_name=%3Cb%3E'
            '&amp;sort=claim_date" hx-target="#claim-grid" hx-swap="outerHTML" hx-push-url="true" '
            'class="text-decoration-none">Claim date ▼</a></th>') in html
    assert 'sort=-number" hx-target' not in html and 'sort=number" hx-target' in html  # newest first is the default
    assert ">Claim</a></th>" in html and "page=1" not in html.split('id="claims-table"')[1].split("</thead>")[0]


def test_bad_criteria_are_form_errors_not_failures(client, csr, world):
    client.force_login(csr)
    for criteria in ({"number": "abc"}, {"claim_date_from": "2024-02-31"}, {"owner": "999999"}, {"sort": "evil"}):
        response = client.get("/claims/", criteria)
        assert response.status_code == 200
    assert "Claim number" in client.get("/claims/", {"number": "abc"}).content.decode()


def test_a_page_costs_the_same_queries_however_many_claims_it_shows(client, csr, world):
    client.force_login(csr)
    client.get("/claims/", {"all": 1})  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        client.get("/claims/", {"all": 1})
    for n in range(20):
        open_stay_claim(membership_in(world["program"]), csr, property_reservation_number=f"R{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/claims/", {"all": 1})
    assert len(response.context["page"].object_list) == 22
    assert len(many) == len(few)


def test_the_results_export_to_csv_with_every_grid_column(client, csr, world):
    client.force_login(csr)
    response = client.get("/claims/export.csv", {"program": world["program"].pk})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("claim_number,claim_date,caller_name,reply_by,membership_type")
    assert len(lines) == 3 and lines[1].startswith(str(world["second"].pk))
    assert "CRS1" in lines[2] and "Lefèvre" in lines[2]


def test_a_search_by_a_name_shared_by_too_many_members_asks_for_another_word(client, csr, world, monkeypatch):
    monkeypatch.setattr("claims.filters.MEMBERS_NAMED_CAP", 0)
    client.force_login(csr)
    response = client.get("/claims/", {"name": "lefevre"})
    assert "add a word" in response.content.decode() and not response.context["page"].object_list


def test_only_users_with_a_claims_permission_may_search(client, outsider, member_user, world):
    for user in (outsider, member_user):
        client.force_login(user)
        assert client.get("/claims/").status_code == 403
        assert client.get("/claims/export.csv").status_code == 403
    client.logout()
    assert client.get("/claims/").status_code == 302
    assert MembershipClaim.objects.count() == 2


def test_the_owner_list_is_read_afresh_though_the_search_form_is_built_once(client, csr, supervisor, world):
    # The search's form class is made once per process (loyalty.filters.FormClassOnce); its lists are not.
    client.force_login(csr)
    before = client.get("/claims/").context["search"].form
    owners_before = [label for _, label in before.fields["owner"].widget.choices]
    UserFactory(username="newcomer", role="Supervisor", first_name="Noor", last_name="Haddad")
    after = client.get("/claims/").context["search"].form
    assert type(before) is type(after)
    assert "Noor Haddad" not in owners_before
    assert "Noor Haddad" in [label for _, label in after.fields["owner"].widget.choices]


def test_the_search_lists_offer_what_their_querysets_hold_read_afresh_by_prepared_statements(csr, world):
    from claims.filters import CHOICE_LISTS, ClaimSearch

    def offered():
        search = ClaimSearch(None, queryset=MembershipClaim.objects.all())
        fast = {name: list(search.form.fields[name].widget.choices) for name in CHOICE_LISTS}
        django = {name: [(str(v), label) for v, label in search.form.fields[name].choices] for name in CHOICE_LISTS}
        return {name: [(str(v), label) for v, label in options] for name, options in fast.items()}, django

    fast, django = offered()
    assert fast == django and all(len(options) > 1 for options in fast.values())
    ClaimType.objects.create(code="FOLIO", label="Folio copy")
    UserFactory(username="newcomer", role="CSR", first_name="Nina")
    fast, django = offered()
    assert fast == django
    assert any("Folio copy" in label for _, label in fast["claim_type"]) and ("Nina" in dict(fast["owner"]).values())
