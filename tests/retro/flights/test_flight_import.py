"""The departure-control feed through the shared import: upload, command and batch API; all or nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from retro.flights.imports import FLIGHTS, FlightCopyWriter
from retro.imports.services import ImportFileError, import_csv, start_import
from retro.models import Flight, RetroImportBatch
from tests.factories import LocationFactory, api_token
from tests.retro.flights.factories import airline, days_ago

pytestmark = pytest.mark.django_db
HEADER = "ticket_number,coupon_number,pnr,operating_carrier,flight_number,flight_date,origin,destination,cabin," \
         "booking_class,passenger_name,distance,flown"  # fmt: skip


def row(n, **overrides):
    values = {
        "ticket_number": f"057{n:010d}", "coupon_number": "1", "pnr": "ABC123", "operating_carrier": "SW",
        "flight_number": "101", "flight_date": days_ago(20).isoformat(), "origin": "JFK", "destination": "LHR",
        "cabin": "Economy", "booking_class": "Y", "passenger_name": "SMITH/JOHN MR", "distance": "3451", "flown": "yes",
    }  # fmt: skip
    values.update(overrides)
    return ",".join(values[name] for name in HEADER.split(","))


def csv_bytes(rows, header=HEADER):
    return ("\n".join([header, *rows]) + "\n").encode()


def import_bytes(program, data, **kwargs):
    batch = start_import(program=program, channel="command", kind=FLIGHTS)
    return import_csv(batch=batch, binary=io.BytesIO(data), **kwargs)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"ticket_number": "05712"}, "ticket_number"),
        ({"coupon_number": "5"}, "coupon_number"),
        ({"flight_date": "2099-01-01"}, "flight_date"),
        ({"flight_date": "1989-12-31"}, "flight_date"),
        ({"flight_date": "20/11/2026"}, "flight_date"),
        ({"origin": "JF"}, "origin"),
        ({"destination": "JFK"}, "destination"),
        ({"distance": "-5"}, "distance"),
        ({"distance": "0"}, "distance"),
        ({"flown": "maybe"}, "flown"),
        ({"passenger_name": "SMITH/JOHN\tMR"}, "passenger_name"),
    ],
)
def test_a_bad_row_is_reported_with_its_field_and_the_others_go_in(overrides, field):
    batch = import_bytes(airline(), csv_bytes([row(1), row(2, **overrides)]))
    assert (batch.state, batch.rows_imported, batch.rows_rejected) == ("done", 1, 1)
    assert batch.errors[0]["row"] == 3 and batch.errors[0]["field"] == field


def test_coupons_already_in_the_feed_are_duplicates_so_a_rerun_adds_nothing():
    program = airline()
    data = csv_bytes([row(n) for n in range(1, 8)])
    import_bytes(program, data, chunk_size=3)
    again = import_bytes(program, data, chunk_size=3)
    assert (again.rows_imported, again.rows_duplicate) == (0, 7) and Flight.objects.count() == 7
    assert Flight.objects.get(ticket_number="0570000000001").flown is True


def test_airports_must_be_the_programs_when_it_has_any():
    program = airline()
    LocationFactory(program=program, code="JFK", kind="airport")
    LocationFactory(program=program, code="LHR", kind="airport")
    batch = import_bytes(program, csv_bytes([row(1), row(2, destination="CDG")]))
    assert batch.rows_imported == 1 and "CDG is not one of the program's airports" in batch.errors[0]["reason"]


def test_a_failure_half_way_leaves_nothing_of_the_file(monkeypatch):
    calls = []
    original = FlightCopyWriter.write

    def fail_third(self, prepared):
        calls.append(prepared)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return original(self, prepared)

    monkeypatch.setattr(FlightCopyWriter, "write", fail_third)
    with pytest.raises(RuntimeError):
        import_bytes(airline(), csv_bytes([row(n) for n in range(1, 30)]), chunk_size=5)
    assert not Flight.objects.exists() and RetroImportBatch.objects.get().state == "failed"


def test_a_file_without_the_required_columns_is_refused_whole():
    with pytest.raises(ImportFileError, match="lacks the required column"):
        import_bytes(airline(), b"ticket_number,coupon_number\n0570000000001,1\n")


def test_the_command_imports_a_file_and_writes_the_error_report(tmp_path):
    program = airline()
    path = tmp_path / "feed.csv"
    path.write_bytes(csv_bytes([row(1), row(2), row(3, distance="far")]))
    out = io.StringIO()
    call_command("import_flights", str(path), "--program", program.code, "--no-progress", stdout=out)
    assert "2 imported" in out.getvalue() and "1 rejected" in out.getvalue()
    assert "distance" in (tmp_path / "feed.csv.errors.csv").read_text()


def test_the_upload_screen_imports_flights(client, supervisor, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    program = airline()
    client.force_login(supervisor)
    upload = SimpleUploadedFile("feed.csv", csv_bytes([row(1), row(2)]), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("flight-import"), {"program": program.pk, "file": upload})
    batch = RetroImportBatch.objects.get()
    assert response.status_code == 302 and (batch.kind, batch.state, batch.rows_imported) == ("flights", "done", 2)
    page = client.get(response["Location"]).content.decode()
    assert "Imported into the flights feed" in page


def test_a_csr_may_not_import_flights(client, csr):
    client.force_login(csr)
    assert client.get(reverse("flight-import")).status_code == 403


def test_the_batch_api_imports_and_reports_rows(supervisor):
    program = airline()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(supervisor)}")
    fields = HEADER.split(",")
    flights = [
        dict(zip(fields, row(1).split(","), strict=True)),
        dict(zip(fields, row(2, coupon_number="9").split(","), strict=True)),
    ]
    response = client.post(reverse("api-flight-batch"), {"program": program.code, "flights": flights}, format="json")
    assert response.status_code == 200 and response.json()["imported"] == 1
    assert response.json()["rejected"][0]["field"] == "coupon_number"


def test_a_clean_row_and_the_same_row_written_loosely_give_the_same_line():
    from retro.flights.imports import FlightRowParser

    parser = FlightRowParser(airline())
    fields = HEADER.split(",")
    clean = dict(zip(fields, row(1).split(","), strict=True))
    loose = {**clean, "operating_carrier": " sw ", "flight_number": "0101", "passenger_name": "smith/john mr",
             "flown": "Y", "ticket_number": "057-0000000001"}  # fmt: skip
    assert parser.parse(clean) == parser.parse(loose)


def test_the_database_refuses_a_flight_of_no_program_and_keeps_a_programs_feed():
    from django.db import IntegrityError, connection, transaction

    program = airline()
    import_bytes(program, csv_bytes([row(1)]))
    with pytest.raises(IntegrityError, match="existing program"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE retro_flight SET program_id = 999999")
    with (
        pytest.raises(IntegrityError, match="flights in its feed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM loyalty_program WHERE id = %s", [program.pk])
