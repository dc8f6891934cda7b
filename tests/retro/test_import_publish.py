"""A file is imported whole or not at all: bad rows are reported one by one, a failure leaves nothing published."""

import datetime as dt
import decimal
import io
import re

import pytest
from django.db import connections
from django.utils import timezone

from loyalty.models import Activity
from retro.imports import writers
from retro.imports.progress import ProgressRecorder
from retro.imports.rows import RowParser
from retro.imports.services import ImportFileError, import_csv, import_records, start_import
from retro.models import RetroImportBatch, RetroSettings, RetroTransaction
from tests.factories import MembershipFactory
from tests.retro.factories import EarningRuleFactory, EarningRuleSetFactory
from tests.retro.import_helpers import (
    HEADER,
    csv_text,
    good_row,
    header_with,
    import_text,
    program_with_purchase_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return program_with_purchase_key()


def test_a_bad_last_row_is_reported_and_the_good_rows_go_in(program):
    rows = [good_row(n) for n in range(1, 25)] + [good_row(25, amount="1e30")]
    batch = import_text(program, csv_text(rows), chunk_size=10)
    assert batch.state == RetroImportBatch.State.DONE
    assert (batch.rows_imported, batch.rows_rejected) == (24, 1)
    assert RetroTransaction.objects.count() == 24
    (error,) = batch.errors
    assert (error["row"], error["field"]) == (26, "amount")
    assert error["reason"] == "amount: The amount is far too large to be a transaction's amount."
    assert ["amount", "1e30"] in error["original"] and ["source_id", "POS-25"] in error["original"]


def test_an_unexpected_failure_half_way_leaves_nothing_of_the_file(program, monkeypatch):
    member = MembershipFactory(program=program)
    EarningRuleFactory(rule_set=EarningRuleSetFactory(program=program))
    calls = []
    original_write = writers.CopyWriter.write

    def fail_on_the_third_chunk(self, prepared):
        calls.append(prepared)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return original_write(self, prepared)

    monkeypatch.setattr(writers.CopyWriter, "write", fail_on_the_third_chunk)
    rows = [good_row(1, membership_number=member.membership_number)] + [good_row(n) for n in range(2, 31)]
    with pytest.raises(RuntimeError):
        import_text(program, csv_text(rows, header=header_with("membership_number")), chunk_size=10)
    batch = RetroImportBatch.objects.get()
    assert batch.state == RetroImportBatch.State.FAILED
    assert not RetroTransaction.objects.exists()  # the first two chunks went back with the third
    assert not Activity.objects.filter(membership=member).exists()  # and so did the member's row
    assert (batch.rows_imported, batch.rows_posted, batch.rows_duplicate) == (0, 0, 0)
    assert batch.errors[-1]["reason"] == "The import stopped: disk full. Nothing of this file was imported."


def test_a_failure_without_a_message_still_reads_as_one(program, monkeypatch):
    def broken(self, prepared):
        raise decimal.InvalidOperation([decimal.InvalidOperation])

    monkeypatch.setattr(writers.CopyWriter, "write", broken)
    with pytest.raises(decimal.InvalidOperation):
        import_text(program, csv_text([good_row(1)]))
    reason = RetroImportBatch.objects.get().errors[-1]["reason"]
    assert "<class" not in reason
    assert reason == "The import stopped: an unexpected InvalidOperation. Nothing of this file was imported."


def test_a_value_no_check_foresaw_is_that_rows_error_not_the_files(program, monkeypatch):
    parse = RowParser.parse

    def parse_or_trip(self, raw):
        if raw["source_id"] == "POS-2":
            raise decimal.InvalidOperation([decimal.InvalidOperation])
        return parse(self, raw)

    monkeypatch.setattr(RowParser, "parse", parse_or_trip)
    batch = import_text(program, csv_text([good_row(1), good_row(2), good_row(3)]))
    assert (batch.state, batch.rows_imported, batch.rows_rejected) == ("done", 2, 1)
    assert batch.errors[0]["reason"] == "the row could not be read (InvalidOperation)"


def _reason(program, **override):
    batch = import_text(program, csv_text([good_row(1), good_row(2, **override)], header=list(good_row(2, **override))))
    assert batch.rows_imported == 1, batch.errors
    (error,) = batch.errors
    return error["field"], error["reason"]


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ({"amount": "0.00"}, "amount", "amount: The amount must be more than zero"),
        ({"amount": "-12.50"}, "amount", "amount: The amount must be more than zero"),
        ({"amount": "100000.01"}, "amount", "above this program's maximum of 100,000.00"),
        ({"transaction_date": "1989-12-31"}, "transaction_date", "transaction_date: The date 1989-12-31 is before"),
        ({"transaction_date": "9999-12-31", "transaction_time": "23:59:59"}, "transaction_date", "in the future"),
        ({"reference": "R\x002"}, "reference", "reference contains a NUL character"),
        ({"attr_note": "x" * 256}, "attr_note", "attr_note is longer than 255 characters"),
    ],
)
def test_values_out_of_bounds_are_row_errors(program, override, field, reason):
    found_field, found_reason = _reason(program, **override)
    assert found_field == field and reason in found_reason


def test_the_programs_own_maximum_amount_applies(program):
    RetroSettings.objects.create(program=program, max_transaction_amount="500.00")
    assert _reason(program, amount="500.01")[1] == (
        "amount: The amount 500.01 is above this program's maximum of 500.00."
    )


def test_a_time_a_few_minutes_ahead_is_the_clocks_but_an_hour_is_the_future(program):
    now = timezone.now().astimezone(program.tz)
    soon, later = now + dt.timedelta(minutes=5), now + dt.timedelta(hours=1)
    rows = [
        good_row(1, occurred_at=soon.strftime("%Y-%m-%d %H:%M")),
        good_row(2, occurred_at=later.strftime("%Y-%m-%d %H:%M")),
    ]
    header = ["source_id", "occurred_at", "location_code", "reference", "amount", "currency"]
    batch = import_text(program, csv_text(rows, header=header))
    assert batch.rows_imported == 1
    assert batch.errors[0]["row"] == 3 and "in the future" in batch.errors[0]["reason"]


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59", "0001-01-01T00:00:00"])
def test_the_ends_of_the_calendar_are_row_errors_on_either_side_of_greenwich(stamp):
    for code, zone in (("west", "America/Toronto"), ("east", "Asia/Tokyo")):
        program = program_with_purchase_key(code=code, time_zone=zone)
        batch = start_import(program=program, channel="api")
        row = good_row(1, occurred_at=stamp)
        row.pop("transaction_date")
        import_records(batch=batch, records=[(1, row, row)])
        assert (batch.state, batch.rows_rejected) == ("done", 1)
        assert batch.errors[0]["field"] == "occurred_at"


def test_nul_and_lone_surrogates_sent_as_values_are_row_errors_and_stored_readably(program):
    batch = start_import(program=program, channel="api")
    rows = [good_row(1, reference="R\x001"), good_row(2, source_id="POS-\ud800"), good_row(3)]
    import_records(batch=batch, records=[(n, row, row) for n, row in enumerate(rows, start=1)])
    batch.refresh_from_db()
    assert (batch.rows_imported, batch.rows_rejected) == (1, 2)
    assert [(e["field"], e["reason"]) for e in batch.errors] == [
        ("reference", "reference contains a NUL character"),
        ("source_id", "source_id contains a broken character (a lone UTF-16 surrogate)"),
    ]
    assert ["reference", "R\ufffd1"] in batch.errors[0]["original"]
    assert ["source_id", "POS-\ufffd"] in batch.errors[1]["original"]


def test_a_cell_past_the_csv_size_limit_is_one_rows_error(program):
    text = csv_text([good_row(1)]) + f"POS-2,2023-05-20,23:30,PAR01,{'R' * 200_000},12.50,EUR\n"
    text += csv_text([good_row(3)]).split("\n", 1)[1]
    batch = import_text(program, text)
    assert (batch.rows_imported, batch.rows_rejected) == (2, 1)
    assert batch.errors[0]["row"] == 3 and "cannot be read as CSV" in batch.errors[0]["reason"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER + [f"extra_{n}" for n in range(44)], "The file has 51 columns; an import reads at most 50."),
        (HEADER + [f"attr_a{n}" for n in range(21)], "21 extra attributes (attr_ columns); at most 20"),
        (HEADER + ["attr_bad name"], "'attr_bad name' is not an attribute name"),
    ],
)
def test_a_file_too_wide_is_refused_as_a_whole(program, header, message):
    batch = start_import(program=program, channel="command")
    with pytest.raises(ImportFileError, match=re.escape(message)):
        import_csv(batch=batch, binary=io.BytesIO(csv_text([good_row(1)], header=header).encode()))
    batch.refresh_from_db()
    assert batch.state == RetroImportBatch.State.FAILED and message in batch.errors[-1]["reason"]
    assert not RetroTransaction.objects.exists()


def test_an_object_too_wide_is_a_row_error(program):
    batch = start_import(program=program, channel="api")
    wide = good_row(1, **{f"extra_{n}": "x" for n in range(44)})
    attributes = good_row(2, **{f"attr_a{n}": "x" for n in range(21)})
    import_records(batch=batch, records=[(1, wide, wide), (2, attributes, attributes)])
    assert [e["reason"] for e in batch.errors] == [
        "the row has 51 columns; at most 50 are read",
        "21 extra attributes (attr_ columns); at most 20 are kept",
    ]


@pytest.mark.django_db(transaction=True, databases=["default", "progress"])
def test_progress_shows_on_another_connection_while_the_rows_wait_for_the_end(program, monkeypatch):
    monkeypatch.setattr(ProgressRecorder, "INTERVAL", 0)  # every chunk, not once a second
    seen = []

    def look_from_outside(batch):
        # What the upload page's poll sees while the import's transaction is open.
        outside = RetroImportBatch.objects.using("progress").get(pk=batch.pk)
        seen.append((outside.rows_done, RetroTransaction.objects.using("progress").count()))

    batch = import_text(program, csv_text([good_row(n) for n in range(5)]), chunk_size=2, on_progress=look_from_outside)
    assert seen == [(2, 0), (4, 0), (5, 0)]
    assert RetroTransaction.objects.using("progress").count() == 5
    assert RetroImportBatch.objects.using("progress").get(pk=batch.pk).state == "done"
    connections["progress"].close()
