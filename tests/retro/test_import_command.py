"""import_retro_transactions: streams a CSV into the pool with COPY, with a progress bar and an error report."""

import csv

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from retro.imports.writers import CopyWriter
from retro.models import RetroImportBatch, RetroTransaction
from tests.retro.import_helpers import HEADER, csv_text, good_row, mixed_rows, program_with_purchase_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return program_with_purchase_key()


def _run(path, *args):
    out_lines = []

    class Out:
        def write(self, text):
            out_lines.append(text)

        def flush(self):
            pass

    err = Out()
    out = Out()
    call_command("import_retro_transactions", str(path), *args, stdout=out, stderr=err)
    return "".join(out_lines)


def test_the_command_imports_good_rows_and_writes_the_error_report_next_to_the_file(program, tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(csv_text(mixed_rows()))
    output = _run(path, "--program", "shop")
    assert "3 imported, 0 duplicates, 3 rejected" in output
    assert sorted(RetroTransaction.objects.values_list("source_id", flat=True)) == ["POS-1", "POS-3", "POS-5"]
    with (tmp_path / "pos.csv.errors.csv").open() as report:
        lines = list(csv.reader(report))
    assert lines[0][:3] == ["row", "reason", "source_id"]
    assert [line[0] for line in lines[1:]] == ["3", "5", "7"]
    assert lines[2][1].startswith("amount") and "twelve" in lines[2]


def test_running_the_command_twice_adds_nothing(program, tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(csv_text([good_row(n) for n in range(25)]))
    _run(path, "--program", "shop", "--chunk-size", "10")
    output = _run(path, "--program", "shop", "--chunk-size", "10", "--errors", str(tmp_path / "again.csv"))
    assert "0 imported, 25 duplicates, 0 rejected" in output
    assert RetroTransaction.objects.count() == 25
    assert (tmp_path / "again.csv").read_text().strip() == "row,reason," + ",".join(HEADER)


def test_values_survive_the_copy_round_trip(program, tmp_path):
    path = tmp_path / "pos.csv"
    header = ["source_id", "occurred_at", "location_code", "reference", "amount", "currency", "attr_note"]
    row = good_row(1, occurred_at="2023-03-26 02:30", reference="tab\\slash", attr_note='say "hi"\nthere')
    path.write_text(csv_text([row], header=header))
    _run(path, "--program", "shop", "--no-progress")
    txn = RetroTransaction.objects.get()
    assert txn.reference == "tab\\slash"
    assert txn.attributes == {"note": 'say "hi"\nthere'}
    assert str(txn.amount) == "12.50" and txn.currency == "EUR"
    assert txn.occurred_on.isoformat() == "2023-03-26"


def test_the_progress_bar_goes_to_stderr(program, tmp_path, capsys):
    path = tmp_path / "pos.csv"
    path.write_text(csv_text([good_row(n) for n in range(5)]))
    call_command("import_retro_transactions", str(path), "--program", "shop", "--chunk-size", "2")
    err = capsys.readouterr().err
    assert "100%" in err and "5/5 rows" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--program", "nope"], "No program"), (["--program", "shop"], "lacks the required column")],
)
def test_bad_arguments_are_command_errors(program, tmp_path, args, message):
    path = tmp_path / "bad.csv"
    path.write_text("name,amount\nx,1\n")
    with pytest.raises(CommandError, match=message):
        call_command("import_retro_transactions", str(path), *args)


def test_a_missing_file_is_a_command_error(program, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_retro_transactions", str(tmp_path / "none.csv"), "--program", "shop")


def test_the_command_copies_through_the_staging_table(program, tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(csv_text([good_row(n) for n in range(30)] + [good_row(3)]))
    output = _run(path, "--program", "shop", "--chunk-size", "7")
    assert "30 imported, 1 duplicates" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM retro_import_staging")
        assert cursor.fetchone()[0] == 0  # emptied after each chunk


def test_a_row_inserted_by_a_concurrent_import_falls_back_to_the_staging_path(program, tmp_path, monkeypatch):
    path = tmp_path / "pos.csv"
    path.write_text(csv_text([good_row(n) for n in range(10)]))
    _run(path, "--program", "shop")
    # The look-up of known rows sees nothing, as if another import inserted them right after it:
    # the direct COPY then hits the unique constraint and the chunk must go through the staging table.
    original_init = CopyWriter.__init__

    def blind_init(self, batch):
        original_init(self, batch)
        self._sql = {**self._sql, "existing": self._sql["existing"] + " AND false"}

    monkeypatch.setattr(CopyWriter, "__init__", blind_init)
    path.write_text(csv_text([good_row(n) for n in range(20)]))
    output = _run(path, "--program", "shop", "--chunk-size", "20", "--errors", str(tmp_path / "again.csv"))
    assert "10 imported, 10 duplicates, 0 rejected" in output
    assert RetroTransaction.objects.count() == 20


def test_a_row_without_amount_and_a_tab_in_its_reference_round_trip(tmp_path):
    from retro.models import RetroClaimKey, RetroClaimKeyField
    from tests.factories import ProgramFactory

    program = ProgramFactory(code="noamount", time_zone="Europe/Paris")
    key = RetroClaimKey.objects.create(program=program, transaction_type="purchase")
    for position, field in enumerate(["location_code", "transaction_date", "reference"], start=1):
        RetroClaimKeyField.objects.create(key=key, position=position, field=field)
    path = tmp_path / "pos.csv"
    rows = [good_row(1, amount="", reference="A\tB"), good_row(2, amount=""), good_row(3, reference="x|y")]
    path.write_text(csv_text(rows))
    _run(path, "--program", "noamount", "--no-progress")
    stored = {txn.source_id: txn for txn in RetroTransaction.objects.filter(program=program)}
    assert stored["POS-1"].amount is None and stored["POS-1"].reference == "A\tB"
    assert stored["POS-1"].match_key == "par01|2023-05-20|a b"
    assert stored["POS-2"].amount is None and stored["POS-2"].match_key == "par01|2023-05-20|r2"
    assert stored["POS-3"].amount.to_eng_string() == "12.50" and stored["POS-3"].match_key == "par01|2023-05-20|x\\|y"


def test_a_file_that_breaks_half_way_imports_nothing_and_says_why(program, tmp_path):
    path = tmp_path / "pos.csv"
    good = csv_text([good_row(n) for n in range(1, 400)])  # past the header's first block of text
    path.write_bytes(good.encode() + "POS-99,2023-05-20,23:30,PAR01,R\xe9,12.50,EUR\n".encode("latin-1"))
    with pytest.raises(CommandError) as caught:
        call_command("import_retro_transactions", str(path), "--program", "shop", "--chunk-size", "100")
    assert "failed. The import stopped: the file is not valid UTF-8 (byte 0xe9)" in str(caught.value)
    assert "Nothing of this file was imported." in str(caught.value)
    assert not RetroTransaction.objects.exists()
    assert RetroImportBatch.objects.get().state == RetroImportBatch.State.FAILED
