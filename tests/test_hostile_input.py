"""Hostile files fed to every import (issue 13): each gets a clear error and nothing of a refused file is saved.

Every kind (retro transactions, flights, stays, bulk adjustments) goes through its upload screen as a
supervisor and, where it has one, its command: a PNG, an empty file, a header alone, wrong columns, a
file over the size cap, Latin-1 and UTF-16 text, invalid UTF-8 (the bytes of a lone surrogate), NUL
bytes and formula cells. A refused file is a form error (or a CommandError) and leaves no batch rows;
a bad row is that row's error and the others go in; a formula is kept as text and quoted when the
error report gives it back.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from claims.imports import ADJUSTMENTS, STAYS
from claims.models import AdjustmentBatch, AdjustmentLine, Stay
from retro.flights.imports import FLIGHTS
from retro.imports import limits
from retro.imports.services import TRANSACTIONS
from retro.models import Flight, RetroImportBatch, RetroTransaction
from tests.claims.factories import code, hotel, hotel_program, membership_in
from tests.retro.flights.factories import airline, days_ago
from tests.retro.import_helpers import good_row, program_with_purchase_key

pytestmark = pytest.mark.django_db
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)"]
# What a lone surrogate (U+D800) is in a file: bytes that are not UTF-8.
SURROGATE_BYTES = b"\xed\xa0\x80"


@dataclass
class Kind:
    """One import kind: how to build its program and rows, and what a published row is."""

    key: str
    url: str
    header: list
    text_column: str  # a free-text column: where NULs, formulas and HTML go
    command: str = ""

    def program(self):
        if self.key == TRANSACTIONS:
            return program_with_purchase_key()
        if self.key == FLIGHTS:
            return airline()
        program = hotel_program()
        hotel(program, "PAR-OPERA")
        if self.key == ADJUSTMENTS:
            code(program)
            for n in range(1, 10):
                membership_in(program, membership_number=f"S{n:010d}")
        return program

    def row(self, n, **overrides):
        if self.key == TRANSACTIONS:
            values = good_row(n)
        elif self.key == FLIGHTS:
            values = {
                "ticket_number": f"057{n:010d}", "coupon_number": "1", "operating_carrier": "SW",
                "flight_number": "101", "flight_date": days_ago(20).isoformat(), "origin": "JFK",
                "destination": "LHR", "distance": "3451", "passenger_name": "SMITH/JOHN MR",
            }  # fmt: skip
        elif self.key == STAYS:
            departure = timezone.localdate() - dt.timedelta(days=10)
            values = {
                "property_code": "PAR-OPERA", "property_reservation_number": f"R{n}",
                "arrival_date": (departure - dt.timedelta(days=2)).isoformat(),
                "departure_date": departure.isoformat(), "status": "CHECKED OUT", "guest_name": "Zoe Martin",
            }  # fmt: skip
        else:
            values = {"membership_number": f"S{n:010d}", "adjustment_code": "GOODWILL", "base_points": "100",
                      "reason": "Goodwill"}  # fmt: skip
        values.update(overrides)
        return values

    def published(self):
        """How many rows of any file of this kind are in the database."""
        if self.key == TRANSACTIONS:
            return RetroTransaction.objects.count()
        if self.key == FLIGHTS:
            return Flight.objects.count()
        if self.key == STAYS:
            return Stay.objects.count()
        return AdjustmentLine.objects.count() + AdjustmentBatch.objects.count()


KINDS = [
    Kind(TRANSACTIONS, "/retro/import/", ["source_id", "transaction_date", "transaction_time", "location_code",
         "reference", "amount", "currency"], "reference", "import_retro_transactions"),  # fmt: skip
    Kind(FLIGHTS, "/retro/import/flights/", ["ticket_number", "coupon_number", "operating_carrier", "flight_number",
         "flight_date", "origin", "destination", "distance", "passenger_name"], "passenger_name", "import_flights"),
    Kind(STAYS, "/retro/import/stays/", ["property_code", "property_reservation_number", "arrival_date",
         "departure_date", "status", "guest_name"], "guest_name"),  # fmt: skip
    Kind(ADJUSTMENTS, "/retro/import/adjustments/", ["membership_number", "adjustment_code", "base_points",
         "reason"], "reason"),  # fmt: skip
]
COMMAND_KINDS = [kind for kind in KINDS if kind.command]


def _ids(kind):
    return kind.key


def csv_bytes(kind, rows, header=None, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or kind.header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def good_file(kind, encoding="utf-8"):
    """Two rows, the first with an accent (a flight's name refuses it: that row's error, when readable)."""
    return csv_bytes(kind, [kind.row(1, **{kind.text_column: "Zoë"}), kind.row(2)], encoding=encoding)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, kind, program, content, capture):
    data = {"program": program.pk, "file": SimpleUploadedFile("feed.csv", content, content_type="text/csv")}
    with capture(execute=True):
        return client.post(kind.url, data)


def refused_upload(client, kind, program, content, capture):
    """The screen's answer to a file it refuses: a form error on the page; no batch, nothing published."""
    response = upload(client, kind, program, content, capture)
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "invalid-feedback" in page or "errorlist" in page, page[:2000]
    assert "Traceback" not in page
    assert not RetroImportBatch.objects.exists()
    assert kind.published() == 0
    return page


# Whole files the upload screen refuses --------------------------------------------------------------------

REFUSED_FILES = [
    ("png", lambda kind: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\xff\xfe", "not a UTF-8 CSV"),
    ("empty", lambda kind: b"", "The submitted file is empty."),
    ("blank_line", lambda kind: b"\n", "The file is empty"),
    ("header_only", lambda kind: csv_bytes(kind, []), "no rows to import"),
    ("wrong_columns", lambda kind: b"name,amount\nx,1\n", "lacks the required column"),
    ("latin_1", lambda kind: good_file(kind, "latin-1"), "not a UTF-8 CSV"),
    ("utf_16", lambda kind: good_file(kind, "utf-16"), "not a UTF-8 CSV"),
    # Without a byte order mark, plain ASCII in UTF-16 is valid UTF-8: a NUL after each letter.
    ("utf_16_le", lambda kind: csv_bytes(kind, [kind.row(1)], encoding="utf-16-le"), "UTF-16"),
    ("surrogate", lambda kind: good_file(kind).replace(b"\n", b"\n" + SURROGATE_BYTES, 2), "not a UTF-8 CSV"),
]


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
@pytest.mark.parametrize(("content", "message"), [f[1:] for f in REFUSED_FILES], ids=[f[0] for f in REFUSED_FILES])
def test_the_upload_screen_refuses_a_file_it_cannot_read_with_a_form_error(
    client, supervisor, kind, content, message, django_capture_on_commit_callbacks
):
    program = kind.program()
    client.force_login(supervisor)
    page = refused_upload(client, kind, program, content(kind), django_capture_on_commit_callbacks)
    assert message in page


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_a_file_over_the_size_cap_is_refused(client, supervisor, kind, monkeypatch, django_capture_on_commit_callbacks):
    program = kind.program()
    content = csv_bytes(kind, [kind.row(n) for n in range(1, 40)])
    monkeypatch.setattr(limits, "MAX_UPLOAD_BYTES", len(content) - 1)
    client.force_login(supervisor)
    page = refused_upload(client, kind, program, content, django_capture_on_commit_callbacks)
    assert "The file is larger than" in page


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_too_many_columns_are_refused(client, supervisor, kind, django_capture_on_commit_callbacks):
    program = kind.program()
    header = [*kind.header, *(f"attr_x{n}" for n in range(limits.MAX_COLUMNS))]
    client.force_login(supervisor)
    content = csv_bytes(kind, [kind.row(1)], header)
    page = refused_upload(client, kind, program, content, django_capture_on_commit_callbacks)
    assert "an import reads at most" in page


# Bad rows in a readable file: that row's error, the others go in --------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_a_nul_in_a_cell_is_that_rows_error(client, supervisor, kind, django_capture_on_commit_callbacks):
    program = kind.program()
    rows = [kind.row(1), kind.row(2, **{kind.text_column: "ab\x00cd"}), kind.row(3)]
    client.force_login(supervisor)
    response = upload(client, kind, program, csv_bytes(kind, rows), django_capture_on_commit_callbacks)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = RetroImportBatch.objects.get()
    assert batch.state == "done" and batch.rows_rejected == 1
    [error] = batch.errors
    assert error["row"] == 3 and error["field"] == kind.text_column
    assert "\x00" not in str(error)  # jsonb stores no NUL: the report shows U+FFFD
    page = client.get(response["Location"]).content.decode()
    assert kind.text_column in page and "Traceback" not in page
    report = b"".join(client.get(f"/retro/import/{batch.pk}/errors.csv").streaming_content).decode()
    assert "ab\ufffdcd" in report


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_formula_cells_are_kept_as_text_and_quoted_in_the_error_report(
    client, supervisor, kind, django_capture_on_commit_callbacks
):
    program = kind.program()
    if kind.key == TRANSACTIONS:
        # The reference is free text: formulas go in as they are, and come back as text.
        rows = [kind.row(n, reference=formula) for n, formula in enumerate(FORMULAS, start=1)]
        rows.append(kind.row(9, reference="=1+1", amount="twelve"))  # rejected: in the error report
    else:
        rows = [kind.row(n, **{kind.text_column: formula}) for n, formula in enumerate(FORMULAS, start=1)]
    client.force_login(supervisor)
    upload(client, kind, program, csv_bytes(kind, rows), django_capture_on_commit_callbacks)
    batch = RetroImportBatch.objects.get()
    if kind.key == TRANSACTIONS:
        assert sorted(RetroTransaction.objects.values_list("reference", flat=True)) == sorted(FORMULAS)
    elif kind.key == STAYS:
        assert sorted(Stay.objects.values_list("guest_name", flat=True)) == sorted(FORMULAS)
    elif kind.key == ADJUSTMENTS:
        assert sorted(AdjustmentLine.objects.values_list("reason", flat=True)) == sorted(FORMULAS)
    report = b"".join(client.get(f"/retro/import/{batch.pk}/errors.csv").streaming_content).decode()
    cells = [cell for line in csv.reader(io.StringIO(report.removeprefix("\ufeff"))) for cell in line]
    for cell in cells:
        # Neither a formula nor a text a spreadsheet would run: a plain number at most.
        assert not cell.startswith(("=", "@", "\t", "\r")), cell
    assert "'=1+1" in cells or kind.key != TRANSACTIONS


def test_a_formula_in_a_column_name_is_quoted_in_the_error_report(
    client, supervisor, django_capture_on_commit_callbacks
):
    # Retro transactions keep columns they do not know (a partner's extras): one named like a formula.
    kind = KINDS[0]
    program = kind.program()
    header = [*kind.header, "=HYPERLINK(\"http://x\")"]
    content = csv_bytes(kind, [kind.row(1, amount="twelve")], header)
    client.force_login(supervisor)
    upload(client, kind, program, content, django_capture_on_commit_callbacks)
    batch = RetroImportBatch.objects.get()
    report = b"".join(client.get(f"/retro/import/{batch.pk}/errors.csv").streaming_content).decode()
    header_line = next(csv.reader(io.StringIO(report.removeprefix("\ufeff"))))
    assert header_line[-1] == "'=hyperlink(\"http://x\")"


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_html_in_a_name_is_shown_escaped(client, supervisor, kind, django_capture_on_commit_callbacks):
    program = kind.program()
    script = "<script>alert(1)</script>"
    rows = [kind.row(1, **{kind.text_column: script, "amount": "bad"} if kind.key == TRANSACTIONS
                     else {kind.text_column: script, "status": "LEFT"} if kind.key == STAYS
                     else {kind.text_column: script, "base_points": "x"} if kind.key == ADJUSTMENTS
                     else {kind.text_column: script})]  # fmt: skip
    client.force_login(supervisor)
    response = upload(client, kind, program, csv_bytes(kind, rows), django_capture_on_commit_callbacks)
    page = client.get(response["Location"]).content.decode()
    assert script not in page
    batch = RetroImportBatch.objects.get()
    assert batch.rows_rejected == 1


# The commands ------------------------------------------------------------------------------------------------


def run_command(kind, program, tmp_path, content):
    path = tmp_path / "feed.csv"
    path.write_bytes(content)
    out = io.StringIO()
    call_command(kind.command, str(path), program=program.code, no_progress=True, stdout=out, stderr=io.StringIO())
    return out.getvalue()


COMMAND_REFUSALS = [
    ("png", lambda kind: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\xff\xfe", "not a UTF-8 CSV"),
    ("empty", lambda kind: b"", "The file is empty"),
    ("wrong_columns", lambda kind: b"name,amount\nx,1\n", "lacks the required column"),
    ("utf_16", lambda kind: good_file(kind, "utf-16"), "not a UTF-8 CSV"),
    ("utf_16_le", lambda kind: csv_bytes(kind, [kind.row(1)], encoding="utf-16-le"), "UTF-16"),
    ("latin_1", lambda kind: good_file(kind, "latin-1"), "not a UTF-8 CSV"),
    ("surrogate", lambda kind: good_file(kind).replace(b"\n", b"\n" + SURROGATE_BYTES, 1), "not a UTF-8 CSV"),
]


@pytest.mark.parametrize("kind", COMMAND_KINDS, ids=_ids)
@pytest.mark.parametrize(
    ("content", "message"), [f[1:] for f in COMMAND_REFUSALS], ids=[f[0] for f in COMMAND_REFUSALS]
)
def test_the_command_refuses_a_file_it_cannot_read(kind, tmp_path, content, message):
    program = kind.program()
    with pytest.raises(CommandError) as refusal:
        run_command(kind, program, tmp_path, content(kind))
    assert message in str(refusal.value)
    assert "\x00" not in str(refusal.value)
    assert kind.published() == 0
    assert not RetroImportBatch.objects.exclude(state="failed").exists()


@pytest.mark.parametrize("kind", COMMAND_KINDS, ids=_ids)
@pytest.mark.parametrize("bad", ["Zoë".encode("latin-1"), SURROGATE_BYTES], ids=["latin_1", "surrogate"])
def test_a_bad_byte_found_after_rows_were_written_rolls_the_whole_file_back(kind, tmp_path, monkeypatch, bad):
    # Read 1 KB at a time and written 5 rows a chunk: chunks are in the database when the byte is met.
    monkeypatch.setattr("retro.imports.services.READ_CHUNK", 1024)
    program = kind.program()
    content = csv_bytes(kind, [kind.row(n) for n in range(1, 200)]) + bad + b"\n"
    assert len(content) > 8 * 1024  # past what the header check decodes
    path = tmp_path / "feed.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as refusal:
        call_command(kind.command, str(path), program=program.code, no_progress=True, chunk_size=5,
                     stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    assert "the file is not valid UTF-8" in str(refusal.value) and "Nothing of this file was imported" in str(
        refusal.value
    )
    assert kind.published() == 0
    assert RetroImportBatch.objects.get().state == "failed"


@pytest.mark.parametrize("kind", COMMAND_KINDS, ids=_ids)
def test_the_command_imports_nothing_from_a_header_alone_and_says_so(kind, tmp_path):
    # Unlike the screen (where it is a person's mistake), a feed may have a quiet day: no rows is not a failure.
    program = kind.program()
    out = run_command(kind, program, tmp_path, csv_bytes(kind, []))
    assert "0 rows, 0 imported" in out and kind.published() == 0


@pytest.mark.parametrize("kind", COMMAND_KINDS, ids=_ids)
def test_the_command_reports_a_nul_and_keeps_formulas_as_text(kind, tmp_path):
    program = kind.program()
    rows = [kind.row(1, **{kind.text_column: "a\x00b"}), kind.row(2, **{kind.text_column: "=cmd|' /C calc'!A0"})]
    if kind.key == FLIGHTS:
        rows[1] = kind.row(2)
    out = run_command(kind, program, tmp_path, csv_bytes(kind, rows))
    assert "1 rejected" in out
    report = (tmp_path / "feed.csv.errors.csv").read_text(encoding="utf-8")
    assert "a\ufffdb" in report and "\x00" not in report
    if kind.key == TRANSACTIONS:
        assert RetroTransaction.objects.get().reference == "=cmd|' /C calc'!A0"


def test_the_commands_error_report_quotes_a_column_named_like_a_formula(tmp_path):
    kind = KINDS[0]
    program = kind.program()
    header = [*kind.header, "@SUM(A1)"]
    run_command(kind, program, tmp_path, csv_bytes(kind, [kind.row(1, amount="twelve")], header))
    report = (tmp_path / "feed.csv.errors.csv").read_text(encoding="utf-8")
    assert next(csv.reader(io.StringIO(report)))[-1] == "'@sum(a1)"
