"""Searching the retro pool before claiming (seed 003's "search for an older transaction"), from the member's tab."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from retro.matching import program_today
from retro.models import RetroSettings
from tests.factories import LocationFactory, UserFactory
from tests.retro.factories import RetroClaimFactory, RetroTransactionFactory, member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def program():
    program = retro_program()
    LocationFactory(program=program, code="PAR01", name="Paris Opéra")
    LocationFactory(program=program, code="LYO02", name="Lyon Part-Dieu")
    return program


@pytest.fixture
def membership(program):
    return member_in(program, first_name="Zoë", last_name="Lefèvre")


def pool_url(membership):
    return reverse("member-retro-pool", args=[membership.member.member_number])


def search(client, membership, **params):
    response = client.get(pool_url(membership), {"membership": membership.membership_number, **params})
    assert response.status_code == 200
    return response


def found(response):
    return [txn.source_id for txn in response.context["page"].object_list]


def txn_at(program, days_ago, **fields):
    moment = dt.datetime.combine(recent_day(days_ago), dt.time(12, 0), tzinfo=dt.UTC)
    return RetroTransactionFactory(program=program, occurred_at=moment, **fields)


def test_the_search_finds_by_reference_date_range_amount_and_location(client, csr, program, membership):
    a = txn_at(program, 5, reference="R-1001", amount=Decimal("12.50"), location_code="PAR01")
    b = txn_at(program, 20, reference="R-2002", amount=Decimal("80.00"), location_code="LYO02")
    c = txn_at(program, 40, reference="X-3003", amount=Decimal("12.50"), location_code="LYO02")
    client.force_login(csr)
    assert found(search(client, membership)) == [a.source_id, b.source_id, c.source_id]  # newest first
    assert found(search(client, membership, reference="r-100")) == [a.source_id]
    assert found(search(client, membership, amount="12.50")) == [a.source_id, c.source_id]
    assert found(search(client, membership, location="LYO02")) == [b.source_id, c.source_id]
    since, until = recent_day(30).isoformat(), recent_day(10).isoformat()
    assert found(search(client, membership, date_from=since, date_to=until)) == [b.source_id]
    html = search(client, membership).content.decode()
    assert "LYO02 <span" in html and "Lyon Part-Dieu" in html
    assert '<option value="PAR01">PAR01 · Paris Opéra</option>' in html  # the location is a select


def test_only_what_the_member_could_claim_is_listed(client, csr, program, membership):
    RetroSettings.objects.filter(program=program).update(max_transaction_age_days=30)
    recent = txn_at(program, 5)
    txn_at(program, 45)  # older than claims may go back
    txn_at(program, 6, expires_on=recent_day(1))  # expired
    other_program = txn_at(retro_program("travel"), 5)
    taken = txn_at(program, 7)
    taken.claimed_by = RetroClaimFactory(membership=member_in(program), status="matched")
    taken.save()
    client.force_login(csr)
    response = search(client, membership)
    assert found(response) == [recent.source_id]
    assert other_program.source_id not in response.content.decode()
    # The window is counted in the program's own days (near midnight UTC, Paris is already tomorrow).
    assert f"dated {program_today(program) - dt.timedelta(days=30):%Y-%m-%d} to" in response.content.decode()
    # Claimed ones on request, saying by which claim, and with nothing to claim.
    response = search(client, membership, show="all")
    assert found(response) == [recent.source_id, taken.source_id]
    html = response.content.decode()
    row = html[html.index(f'data-source-id="{taken.source_id}"') :]
    row = row[: row.index("</tr>")]
    assert taken.claimed_by.number in row and "Claim for this member" not in row


def test_results_are_paginated_keeping_the_search(client, csr, program, membership):
    for n in range(25):
        txn_at(program, 3, reference=f"R-{n:03d}", location_code="PAR01")
    client.force_login(csr)
    response = search(client, membership, location="PAR01")
    assert len(found(response)) == 20
    html = response.content.decode()
    assert "Page 1 of 2" in html and "location=PAR01&amp;page=2" in html
    assert len(found(search(client, membership, location="PAR01", page=2))) == 5


def test_claim_for_this_member_fills_in_the_tabs_form(client, csr, program, membership):
    txn = txn_at(program, 5, reference="R-1001", amount=Decimal("12.50"), location_code="PAR01")
    client.force_login(csr)
    html = search(client, membership).content.decode()
    assert "Claim for this member" in html
    claim_url = search(client, membership).context["page"].object_list[0].claim_url
    url = urlsplit(claim_url)
    assert url.path == reverse("member-retro-claims", args=[membership.member.member_number])
    assert parse_qs(url.query) == {
        "membership": [membership.membership_number],
        "transaction_type": ["purchase"],
        "from_transaction": [txn.source_id],
        "location_code": ["PAR01"],
        "transaction_date": [txn.occurred_on.isoformat()],
        "reference": ["R-1001"],
        "amount": ["12.50"],
    }
    tab = client.get(claim_url, headers=HX).content.decode()
    assert '<option value="PAR01" selected>' in tab and 'value="R-1001"' in tab and 'value="12.50"' in tab


def test_the_tab_links_to_the_search_and_htmx_gets_the_partials(client, csr, program, membership):
    txn_at(program, 5)
    client.force_login(csr)
    tab = client.get(reverse("member-retro-claims", args=[membership.member.member_number]), headers=HX).text
    assert f'href="{pool_url(membership)}?membership={membership.membership_number}"' in tab
    page = search(client, membership).content.decode()
    assert "<html" in page and "Search the retro pool" in page  # opened directly: a page of its own
    query = {"membership": membership.membership_number}
    whole = client.get(pool_url(membership), query, headers=HX).content.decode()
    assert "<html" not in whole and 'id="pool-filters"' in whole and 'id="retro-claims-tab"' in whole
    results = client.get(pool_url(membership), query, headers={**HX, "HX-Target": "pool-results"}).text
    assert 'id="pool-results"' in results and 'id="pool-filters"' not in results


def test_in_the_profile_the_links_swap_the_tab(client, csr, program, membership):
    txn_at(program, 5)
    client.force_login(csr)
    profile = f"http://testserver{membership.member.get_absolute_url()}"
    html = client.get(
        pool_url(membership), {"membership": membership.membership_number}, headers={**HX, "HX-Current-URL": profile}
    ).text
    assert 'hx-target="#retro-claims-tab"' in html[html.index("Claim for this member") - 400 :]
    # On its own page the same links are plain links.
    assert 'hx-target="#retro-claims-tab"' not in search(client, membership).content.decode()


def test_who_may_not_submit_sees_no_claim_action(client, program, membership):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_retrotransaction"))
    txn_at(program, 5)
    client.force_login(viewer)
    html = search(client, membership).content.decode()
    assert 'data-source-id="' in html and "Claim for this member" not in html


def test_the_search_issues_a_fixed_number_of_queries(client, csr, program, membership):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as queries:
            search(client, membership, show="all")
        return len(queries)

    txn_at(program, 5)
    client.force_login(csr)
    before = count()
    for n in range(6):
        taken = txn_at(program, 6 + n)
        taken.claimed_by = RetroClaimFactory(membership=member_in(program), status="matched")
        taken.save()
    assert count() == before


def test_an_unknown_member_is_a_404(client, csr):
    client.force_login(csr)
    assert client.get(reverse("member-retro-pool", args=["NOPE"])).status_code == 404


def test_it_requires_login(client, membership):
    response = client.get(pool_url(membership))
    assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("persona", ["outsider", "member_user"])
def test_it_is_refused_to_users_without_the_permission(client, request, persona, membership):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(pool_url(membership)).status_code == 403
