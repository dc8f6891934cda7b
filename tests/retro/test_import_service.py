"""The import service: row validation, key and expiry, duplicates, bad rows with their row number and reason."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from retro.imports.rows import RowParser, RowRejected
from retro.imports.services import ImportFileError, import_csv, import_records, start_import
from retro.keys import normalise_key
from retro.models import RetroImportBatch, RetroSettings, RetroTransaction
from tests.retro.import_helpers import csv_text, good_row, mixed_rows, program_with_purchase_key

pytestmark = pytest.mark.django_db


def _import(program, text, **kwargs):
    batch = start_import(program=program, channel="upload", file_name="pos.csv")
    return import_csv(batch=batch, binary=io.BytesIO(text.encode()), **kwargs)


def test_a_late_evening_purchase_is_stored_in_utc_on_its_local_date():
    program = program_with_purchase_key()
    values = RowParser(program).parse(good_row(1))
    assert values["occurred_at"] == dt.datetime(2023, 5, 20, 21, 30, tzinfo=dt.UTC)
    assert values["occurred_on"] == dt.date(2023, 5, 20)
    assert values["amount"] == Decimal("12.50")
    assert values["expires_on"] == dt.date(2023, 5, 20) + dt.timedelta(days=365)  # model default, no settings


def test_the_stored_key_is_the_one_a_claim_with_the_same_values_gets():
    program = program_with_purchase_key()
    values = RowParser(program).parse(good_row(7, reference=" r7 ", amount="12.5"))
    claim_key = normalise_key(
        program,
        "purchase",
        {"location_code": "par01", "transaction_date": "2023-05-20", "reference": "R7", "amount": "12.50"},
    )
    assert values["match_key"] == claim_key


def test_expiry_follows_the_programs_retro_settings():
    program = program_with_purchase_key()
    RetroSettings.objects.create(program=program, transaction_lifetime_days=30)
    values = RowParser(program).parse(good_row(1))
    assert values["expires_on"] == dt.date(2023, 6, 19)


def test_occurred_at_column_and_extra_attributes():
    program = program_with_purchase_key()
    row = good_row(1, occurred_at="2023-01-15 08:05", attr_channel=" kiosk ")
    row.pop("transaction_date")
    values = RowParser(program).parse(row)
    assert values["occurred_at"] == dt.datetime(2023, 1, 15, 7, 5, tzinfo=dt.UTC)
    assert values["attributes"] == {"channel": "kiosk"}


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"transaction_date": "20/05/2023"}, "transaction_date: Enter a date as YYYY-MM-DD."),
        ({"transaction_time": "25:00"}, "transaction_time"),
        ({"amount": "abc"}, "amount: Enter an amount"),
        ({"currency": "EURO"}, "currency"),
        ({"card_last_four": "12a4"}, "card_last_four"),
        ({"reference": ""}, "reference: This field is required."),
        ({"transaction_type": "stay"}, "not set up"),
        ({"program": "hotel"}, "is not this import's program"),
        ({"source_id": "x" * 65}, "source_id is longer than 64"),
    ],
)
def test_a_bad_row_is_rejected_with_a_readable_reason(override, reason):
    program = program_with_purchase_key()
    with pytest.raises(RowRejected) as caught:
        RowParser(program).parse(good_row(1, **override))
    assert reason in caught.value.reason


def test_good_rows_go_in_and_bad_rows_come_back_with_row_number_and_reason():
    program = program_with_purchase_key()
    batch = _import(program, csv_text(mixed_rows()))
    assert batch.state == RetroImportBatch.State.DONE
    assert (batch.rows_done, batch.rows_imported, batch.rows_duplicate, batch.rows_rejected) == (6, 3, 0, 3)
    assert sorted(RetroTransaction.objects.values_list("source_id", flat=True)) == ["POS-1", "POS-3", "POS-5"]
    assert [(e["row"], e["reason"].split(":")[0]) for e in batch.errors] == [
        (3, "transaction_date"),
        (5, "amount"),
        (7, "source_id is required"),
    ]
    assert ["amount", "twelve"] in batch.errors[1]["original"]
    txn = RetroTransaction.objects.get(source_id="POS-1")
    assert txn.import_batch == batch and txn.program == program


def test_re_importing_the_same_file_adds_nothing():
    program = program_with_purchase_key()
    text = csv_text(mixed_rows())
    _import(program, text)
    again = _import(program, text, chunk_size=2)
    assert RetroTransaction.objects.count() == 3
    assert (again.rows_imported, again.rows_duplicate, again.rows_rejected) == (0, 3, 3)


def test_a_source_id_twice_in_one_file_goes_in_once():
    program = program_with_purchase_key()
    batch = _import(program, csv_text([good_row(1), good_row(1, reference="R9")]))
    assert (batch.rows_imported, batch.rows_duplicate) == (1, 1)
    assert RetroTransaction.objects.get().reference == "R1"


def test_source_ids_are_unique_per_program_not_globally():
    shop = program_with_purchase_key()
    other = program_with_purchase_key(code="other")
    _import(shop, csv_text([good_row(1)]))
    batch = _import(other, csv_text([good_row(1)]))
    assert batch.rows_imported == 1
    assert RetroTransaction.objects.count() == 2


def test_progress_is_recorded_chunk_by_chunk():
    program = program_with_purchase_key()
    seen = []
    _import(
        program, csv_text([good_row(n) for n in range(5)]), chunk_size=2, on_progress=lambda b: seen.append(b.rows_done)
    )
    assert seen == [2, 4, 5]


def test_a_row_with_the_wrong_number_of_cells_is_rejected():
    program = program_with_purchase_key()
    text = csv_text([good_row(1)]) + "POS-2,2023-05-20\n"
    batch = _import(program, text)
    assert batch.rows_imported == 1
    assert batch.errors[0]["row"] == 3 and "2 cells" in batch.errors[0]["reason"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,amount\nx,1\n", "source_id"),
        (b"source_id,transaction_date,amount,Amount\n1,2023-01-01,2,3\n", "twice: amount"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a UTF-8 CSV"),
    ],
)
def test_a_file_that_is_not_a_usable_csv_is_refused_as_a_whole(content, message):
    program = program_with_purchase_key()
    batch = start_import(program=program, channel="command")
    with pytest.raises(ImportFileError, match=message):
        import_csv(batch=batch, binary=io.BytesIO(content))
    assert not RetroTransaction.objects.exists()


def test_api_records_share_the_same_service():
    program = program_with_purchase_key()
    batch = start_import(program=program, channel="api")
    records = [(1, good_row(1, amount=12.5), {}), (2, good_row(2, amount=True), {})]
    import_records(batch=batch, records=records)
    assert batch.rows_imported == 1 and batch.errors[0]["row"] == 2


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2023-03-26 02:30", dt.datetime(2023, 3, 26, 1, 30, tzinfo=dt.UTC)),  # the skipped hour (spring)
        ("2023-10-29 02:30", dt.datetime(2023, 10, 29, 0, 30, tzinfo=dt.UTC)),  # the repeated hour: first one
        ("2023-10-29 23:59", dt.datetime(2023, 10, 29, 22, 59, tzinfo=dt.UTC)),
        ("2023-07-01 00:00", dt.datetime(2023, 6, 30, 22, 0, tzinfo=dt.UTC)),
        ("2023-07-01T10:00:00+00:00", dt.datetime(2023, 7, 1, 10, 0, tzinfo=dt.UTC)),
    ],
)
def test_local_times_convert_to_utc_like_zoneinfo_on_clock_change_days(local, utc):
    program = program_with_purchase_key()
    parser = RowParser(program)
    parser.parse(good_row(0, transaction_date="2023-10-29"))  # warm the per-day cache first
    row = good_row(1, occurred_at=local)
    row.pop("transaction_date")
    values = parser.parse(row)
    assert values["occurred_at"] == utc
    assert values["occurred_on"] == utc.astimezone(program.tz).date()


def test_a_database_failure_marks_the_batch_failed(monkeypatch):
    from retro.imports import writers

    program = program_with_purchase_key()

    def broken(self, prepared):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writers.CopyWriter, "write", broken)
    batch = start_import(program=program, channel="upload")
    with pytest.raises(RuntimeError):
        import_csv(batch=batch, binary=io.BytesIO(csv_text([good_row(1)]).encode()))
    batch.refresh_from_db()
    assert batch.state == RetroImportBatch.State.FAILED
    assert "disk full" in batch.errors[-1]["reason"]
    assert not RetroTransaction.objects.exists()
