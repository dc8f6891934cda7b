"""The property systems' stays and bulk adjustment files, through the shared import."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from claims.decisions import ADJUSTMENT_BATCH_APPROVALS
from claims.imports import ADJUSTMENTS, STAYS
from claims.models import AdjustmentBatch, Stay, StayException, StayStatus
from loyalty.lifecycle.decisions import NoLongerPending, NotAllowedToDecide, OverApprovalLimit, decide
from loyalty.models import Activity, ApprovalLimit, LedgerEntry
from retro.imports.services import import_csv, start_import
from tests.claims.factories import code, hotel, hotel_program, membership_in

pytestmark = pytest.mark.django_db
STAY_HEADER = ["property_code", "property_reservation_number", "central_reservation_number", "arrival_date",
               "departure_date", "status", "room_revenue", "currency", "membership_number",
               "member_number"]  # fmt: skip
ADJ_HEADER = ["membership_number", "adjustment_code", "base_points", "bonus_points", "stays", "reason"]


@pytest.fixture
def program():
    program = hotel_program()
    hotel(program, "PAR-OPERA")
    return program


def run_import(program, kind, header, rows, by=None):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    batch = start_import(program=program, channel="upload", file_name=f"{kind}.csv", started_by=by, kind=kind)
    return import_csv(batch=batch, binary=io.BytesIO(out.getvalue().encode()))


def stay_row(number, card="", guest="", status="CHECKED OUT", days_ago=10, **overrides):
    departure = timezone.localdate() - dt.timedelta(days=days_ago)
    row = {"property_code": "PAR-OPERA", "property_reservation_number": number, "central_reservation_number": "",
           "arrival_date": (departure - dt.timedelta(days=2)).isoformat(), "departure_date": departure.isoformat(),
           "status": status, "room_revenue": "420.00", "currency": "EUR", "membership_number": card,
           "member_number": guest}  # fmt: skip
    row.update(overrides)
    return row


def test_stays_are_imported_with_their_card_and_the_exceptions_flagged(program):
    mine, theirs = membership_in(program), membership_in(program)
    rows = [
        stay_row("R1", card=mine.membership_number, guest=mine.member.member_number),
        stay_row("R2"),  # no card
        stay_row("R3", card="S9999999999"),  # unknown card
        stay_row("R4", card=theirs.membership_number, guest=mine.member.member_number),  # another member's card
        stay_row("R5", status="NO SHOW"),  # no card, but nothing to credit either
        stay_row("R6", property_code="NOWHERE"),
        stay_row("R7", arrival_date="2026-13-01"),
        stay_row("R8", status="LEFT"),
    ]
    batch = run_import(program, STAYS, STAY_HEADER, rows)
    assert (batch.state, batch.rows_imported, batch.rows_rejected) == ("done", 5, 3)
    assert {e["field"] for e in batch.errors} == {"property_code", "arrival_date", "status"}
    stays = {s.property_reservation_number: s for s in Stay.objects.all()}
    assert stays["R1"].membership == mine and stays["R1"].exception == ""
    assert stays["R2"].exception == StayException.NO_CARD
    assert stays["R3"].exception == StayException.UNKNOWN_CARD and stays["R3"].membership is None
    assert stays["R4"].exception == StayException.OTHER_MEMBERS_CARD and stays["R4"].guest == mine.member
    assert stays["R5"].exception == "" and stays["R5"].status == StayStatus.NO_SHOW


def test_a_stay_sent_again_is_replaced_until_calculated_and_keeps_a_card_a_csr_attached(program, csr):
    from claims.stays import attach_card

    member = membership_in(program)
    run_import(program, STAYS, STAY_HEADER, [stay_row("R1", status="IN HOUSE"), stay_row("R2")])
    attach_card(stay=Stay.objects.get(property_reservation_number="R2"), membership_number=member.membership_number,
                by=csr)  # fmt: skip
    batch = run_import(program, STAYS, STAY_HEADER, [stay_row("R1"), stay_row("R2", room_revenue="500.00")])
    assert (batch.rows_imported, batch.rows_duplicate) == (2, 0)
    r1, r2 = Stay.objects.get(property_reservation_number="R1"), Stay.objects.get(property_reservation_number="R2")
    assert r1.status == StayStatus.CHECKED_OUT
    assert r2.membership == member and r2.exception == "" and str(r2.room_revenue) == "500.00"
    again = run_import(program, STAYS, STAY_HEADER, [stay_row("R1"), stay_row("R2", room_revenue="500.00")])
    assert (again.rows_imported, again.rows_duplicate) == (0, 2)
    assert Stay.objects.count() == 2


def test_a_stay_file_lacking_a_column_is_refused_whole(program):
    from retro.imports.services import ImportFileError

    with pytest.raises(ImportFileError, match="departure_date"):
        run_import(program, STAYS, ["property_code", "property_reservation_number", "arrival_date", "status"], [])
    assert not Stay.objects.exists()


def adjustment_file(program, supervisor, rows):
    return run_import(program, ADJUSTMENTS, ADJ_HEADER, rows, by=supervisor)


def test_a_bulk_adjustment_file_checks_each_row_and_waits_for_approval(program, supervisor):
    code(program, "GOODWILL", points=(0, 5000), stays=(0, 1))
    a, b = membership_in(program), membership_in(program)
    rows = [
        {"membership_number": a.membership_number, "adjustment_code": "goodwill", "base_points": "5000",
         "reason": "Spa closed"},  # at the threshold
        {"membership_number": b.membership_number, "adjustment_code": "GOODWILL", "bonus_points": "250",
         "stays": "1", "reason": "Late check-in"},
        {"membership_number": a.membership_number, "adjustment_code": "GOODWILL", "base_points": "5001",
         "reason": "One past"},
        {"membership_number": a.membership_number, "adjustment_code": "NOPE", "base_points": "1", "reason": "x"},
        {"membership_number": "S0000000000", "adjustment_code": "GOODWILL", "base_points": "1", "reason": "x"},
        {"membership_number": a.membership_number, "adjustment_code": "GOODWILL", "base_points": "1", "reason": ""},
        {"membership_number": a.membership_number, "adjustment_code": "GOODWILL", "base_points": "1.5",
         "reason": "x"},
    ]  # fmt: skip
    batch = adjustment_file(program, supervisor, rows)
    assert (batch.state, batch.rows_posted, batch.rows_rejected) == ("done", 2, 5)
    errors = {e["row"]: (e["field"], e["reason"]) for e in batch.errors}
    assert errors[4][0] == "base_points" and "between 0 and 5,000" in errors[4][1]
    assert errors[5][0] == "adjustment_code" and errors[6][0] == "membership_number"
    assert errors[7][0] == "reason" and errors[8][0] == "base_points"
    adjustments = AdjustmentBatch.objects.get(import_batch=batch)
    assert (adjustments.status, adjustments.lines_count, adjustments.points_value) == ("pending", 2, 5250)
    assert not Activity.objects.exists()


def test_a_file_is_approved_by_someone_else_and_posts_every_row_once(program, supervisor, roles):
    from tests.factories import UserFactory

    code(program, "GOODWILL", points=(0, 5000), stays=(0, 1))
    a, b = membership_in(program), membership_in(program)
    rows = [{"membership_number": m.membership_number, "adjustment_code": "GOODWILL", "bonus_points": "300",
             "reason": "Pool closed"} for m in (a, b)]  # fmt: skip
    adjustments = AdjustmentBatch.objects.get(import_batch=adjustment_file(program, supervisor, rows))
    with pytest.raises(NotAllowedToDecide, match="another person"):
        decide(ADJUSTMENT_BATCH_APPROVALS, adjustments, "approve", by=supervisor)
    checker = UserFactory(username="checker", role="Supervisor")
    adjustments = decide(ADJUSTMENT_BATCH_APPROVALS, adjustments, "approve", by=checker)
    assert adjustments.status == "approved" and adjustments.decided_by == checker
    for membership in (a, b):
        [entry] = LedgerEntry.objects.filter(membership=membership)
        assert (entry.metric, entry.quantity) == ("bonus", 300)
        assert entry.activity.description == "GOODWILL: Pool closed"
    with pytest.raises(NoLongerPending, match="file #"):
        decide(ADJUSTMENT_BATCH_APPROVALS, adjustments, "approve", by=checker)
    assert Activity.objects.count() == 2


def test_a_files_points_count_toward_the_approvers_limit(program, supervisor, roles):
    from tests.factories import UserFactory

    code(program, "GOODWILL", points=(0, 5000))
    ApprovalLimit.objects.create(program=program, lifecycle="adjustment_batch",
                                 role=Group.objects.get(name="Supervisor"), max_value=500)  # fmt: skip
    rows = [{"membership_number": membership_in(program).membership_number, "adjustment_code": "GOODWILL",
             "base_points": "400", "reason": "Noise"} for _ in range(2)]  # fmt: skip
    adjustments = AdjustmentBatch.objects.get(import_batch=adjustment_file(program, supervisor, rows))
    checker = UserFactory(username="checker", role="Supervisor")
    with pytest.raises(OverApprovalLimit, match="800 points"):
        decide(ADJUSTMENT_BATCH_APPROVALS, adjustments, "approve", by=checker)
    assert not Activity.objects.exists()
    rejected = decide(ADJUSTMENT_BATCH_APPROVALS, adjustments, "reject", by=checker, reason="Too generous")
    assert rejected.status == "rejected" and rejected.reason == "Too generous"
