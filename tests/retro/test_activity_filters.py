"""Retro Claim Activity filters: what cannot be read lists no claim, the claim and member boxes, the needs-key-values
filter, the member link, date boundaries and the capped count."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.pagination import CappedPaginator
from retro.models import RetroClaim, RetroClaimKey, RetroClaimKeyField
from retro.services import schedule_key_recompute, submit_retro_claim
from tests.retro.factories import RetroClaimFactory, member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db
ACTIVITY = reverse("retro-claim-activity")
HX = {"HX-Request": "true"}


@pytest.fixture
def program():
    return retro_program()


def grid_numbers(response):
    return [c.number for c in response.context["page"].object_list]


@pytest.mark.parametrize(
    "params, error",
    [
        ({"submitted_from": "2026-13-45"}, "Enter a valid date."),
        ({"submitted_to": "yesterday"}, "Enter a valid date."),
        ({"status": "bogus"}, "Select a valid choice."),
        ({"program": "999999"}, "Select a valid choice."),
        ({"channel": "fax"}, "Select a valid choice."),
        ({"key_values": "maybe"}, "Select a valid choice."),
    ],
)
def test_a_filter_that_cannot_be_read_lists_no_claim_and_says_why(client, csr, program, params, error):
    RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    for headers in ({}, HX):  # the whole page, and the grid an htmx filter change swaps in
        response = client.get(ACTIVITY, params, headers=headers)
        assert response.status_code == 200
        assert grid_numbers(response) == []
        html = response.content.decode()
        assert "No claims are listed: correct the filters." in html
        assert error in html
        assert 'id="no-claims"' not in html  # not "no claim matches": the filters were not applied


def test_a_valid_filter_beside_an_invalid_one_does_not_list_either(client, csr, program):
    matched = RetroClaimFactory(membership=member_in(program), status="matched")
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"status": "matched"})) == [matched.number]
    assert grid_numbers(client.get(ACTIVITY, {"status": "matched", "submitted_from": "2026-02-30"})) == []


def test_from_after_to_is_an_error_not_an_empty_list(client, csr, program):
    RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    response = client.get(ACTIVITY, {"submitted_from": "2026-03-10", "submitted_to": "2026-03-01"})
    assert grid_numbers(response) == []
    assert "“Submitted from” is after “Submitted to”" in response.content.decode()


def test_the_export_of_unreadable_filters_holds_no_claim(client, csr, program):
    RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    response = client.get(reverse("retro-claim-export"), {"status": "bogus"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 and lines[0].startswith("claim,")


def test_an_unknown_sort_is_ignored_not_an_error(client, csr, program):
    claim = RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    response = client.get(ACTIVITY, {"sort": "membership__member__user__password"})
    assert grid_numbers(response) == [claim.number]
    assert "correct the filters" not in response.content.decode()


def test_the_date_range_takes_whole_days(client, csr, program):
    day = timezone.localdate() - dt.timedelta(days=5)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    membership = member_in(program)
    before = RetroClaimFactory(membership=membership, submitted_at=start - dt.timedelta(microseconds=1))
    first = RetroClaimFactory(membership=membership, submitted_at=start)
    last = RetroClaimFactory(membership=membership, submitted_at=start + dt.timedelta(days=1, microseconds=-1))
    after = RetroClaimFactory(membership=membership, submitted_at=start + dt.timedelta(days=1))
    client.force_login(csr)
    one_day = {"submitted_from": day.isoformat(), "submitted_to": day.isoformat()}
    assert set(grid_numbers(client.get(ACTIVITY, one_day))) == {first.number, last.number}
    assert before.number not in grid_numbers(client.get(ACTIVITY, {"submitted_from": day.isoformat()}))
    assert after.number not in grid_numbers(client.get(ACTIVITY, {"submitted_to": day.isoformat()}))
    # The ends of the calendar are not an error (nor a 500).
    response = client.get(ACTIVITY, {"submitted_from": "0001-01-01", "submitted_to": "9999-12-31"})
    assert len(grid_numbers(response)) == 4


def test_the_claim_box_finds_a_claim_by_its_number(client, csr, program):
    claim = RetroClaimFactory(membership=member_in(program), number="RC00000123")
    RetroClaimFactory(membership=member_in(program))
    client.force_login(csr)
    for typed in ("RC00000123", " rc00000123 ", "123"):
        assert grid_numbers(client.get(ACTIVITY, {"claim": typed})) == [claim.number], typed
    assert grid_numbers(client.get(ACTIVITY, {"claim": "RC999"})) == []
    assert 'name="claim"' in client.get(ACTIVITY).content.decode()


def test_the_member_box_finds_numbers_and_every_word_of_a_name(client, csr, program):
    maelle = member_in(program, first_name="Maëlle", last_name="Dupont-Durand")
    other = member_in(program, first_name="Maël", last_name="Durand")
    mine = RetroClaimFactory(membership=maelle)
    theirs = RetroClaimFactory(membership=other)
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"member": maelle.membership_number.lower()})) == [mine.number]
    assert grid_numbers(client.get(ACTIVITY, {"member": maelle.member.member_number})) == [mine.number]
    assert grid_numbers(client.get(ACTIVITY, {"member": "maelle durand"})) == [mine.number]
    assert set(grid_numbers(client.get(ACTIVITY, {"member": "durand"}))) == {mine.number, theirs.number}
    for nothing in ("---", "'", "😀"):  # no 500, and no claim: nobody has that number or name
        response = client.get(ACTIVITY, {"member": nothing})
        assert response.status_code == 200 and grid_numbers(response) == []


def test_the_grid_links_each_member_to_their_profile(client, csr, program):
    membership = member_in(program, first_name="Maëlle", last_name="Dupont")
    RetroClaimFactory(membership=membership)
    client.force_login(csr)
    html = client.get(ACTIVITY).content.decode()
    profile = reverse("member-profile", args=[membership.member.member_number])
    assert f'href="{profile}?membership={membership.membership_number}" class="member-link">Maëlle Dupont</a>' in html


def test_needs_key_values_lists_the_claims_a_new_key_part_left_unmatchable(
    client, csr, program, django_capture_on_commit_callbacks
):
    values = {"location_code": "PAR01", "transaction_date": str(recent_day()), "reference": "Q-1", "amount": "9.99"}
    lacking = submit_retro_claim(membership=member_in(program), channel="csr", submitted_by=None, key_values=values)
    # Values the new part can be read from (as a claim carries once a CSR has completed it).
    complete = RetroClaimFactory(
        membership=member_in(program), key_values={**values, "reference": "Q-2", "attr_till": "7"}, match_key="q-2"
    )
    RetroClaimFactory(membership=member_in(program), status="matched", match_key="par01|x")
    key = RetroClaimKey.objects.get(program=program)
    RetroClaimKeyField.objects.create(key=key, position=9, field="attribute", attribute_name="till")
    with django_capture_on_commit_callbacks(execute=True):
        schedule_key_recompute(key=key)
    assert RetroClaim.objects.get(pk=lacking.pk).match_key == f"!c{lacking.pk}"
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"key_values": "missing"})) == [lacking.number]
    assert RetroClaim.objects.get(pk=complete.pk).match_key.endswith("|7")
    assert complete.number in grid_numbers(client.get(ACTIVITY))
    assert ">Needs key values</option>" in client.get(ACTIVITY).content.decode()


def test_sorts_break_ties_in_their_own_direction(client, csr, program):
    now = timezone.now()
    membership = member_in(program)
    old = RetroClaimFactory(membership=membership, number="RC2", submitted_at=now - dt.timedelta(days=2))
    new = RetroClaimFactory(membership=membership, number="RC1", submitted_at=now - dt.timedelta(days=1))
    done = RetroClaimFactory(membership=membership, number="RC3", status="matched", submitted_at=now)
    client.force_login(csr)
    assert grid_numbers(client.get(ACTIVITY, {"sort": "status"})) == [done.number, old.number, new.number]
    assert grid_numbers(client.get(ACTIVITY, {"sort": "-status"})) == [new.number, old.number, done.number]
    assert grid_numbers(client.get(ACTIVITY, {"sort": "-submitted"})) == [done.number, new.number, old.number]


def test_the_count_reads_at_most_the_cap_and_says_so(client, csr, program, django_assert_num_queries):
    RetroClaimFactory.create_batch(7, membership=member_in(program))
    claims = RetroClaim.objects.order_by("id")
    paginator = CappedPaginator(claims, 2, cap=5)
    assert (paginator.count, paginator.capped, paginator.count_label, paginator.num_pages) == (6, True, "5+", 3)
    last = paginator.get_page(99)
    assert last.number == 3 and len(last.object_list) == 1 and not last.has_next()
    exact = CappedPaginator(claims, 5, cap=10)
    assert (exact.count, exact.capped, exact.count_label, exact.num_pages) == (7, False, "7", 2)
    client.force_login(csr)
    html = client.get(ACTIVITY).content.decode()
    assert 'id="claim-count">7 claims<' in html


def test_a_member_name_too_many_members_share_asks_for_more_of_it(client, csr, program, monkeypatch):
    monkeypatch.setattr("retro.filters.MEMBERS_NAMED_CAP", 2)
    for first in ("Anaïs", "Anne", "Annick"):
        RetroClaimFactory(membership=member_in(program, first_name=first, last_name="Dupont"))
    client.force_login(csr)
    response = client.get(ACTIVITY, {"member": "dupont"}, headers=HX)
    html = response.content.decode()
    assert grid_numbers(response) == []
    assert "More than 2 members have “dupont” in their name: type more of it" in html
    assert len(grid_numbers(client.get(ACTIVITY, {"member": "anne dupont"}))) == 1


def test_times_are_shown_in_the_programs_zone_with_its_label(client, csr, program):
    claim = RetroClaimFactory(
        membership=member_in(program), submitted_at=dt.datetime(2026, 7, 14, 22, 15, tzinfo=dt.UTC)
    )
    client.force_login(csr)
    assert "2026-07-15 00:15 CEST" in client.get(ACTIVITY).text  # Europe/Paris, the program's zone
    detail = client.get(reverse("retro-claim-detail", args=[claim.number])).text
    assert "2026-07-15 00:15 CEST" in detail
