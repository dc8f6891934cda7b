"""The CSV upload screen: import with bad rows, re-upload adds nothing, progress polling, error report; denials."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from retro.imports import limits, writers
from retro.imports.report import report_line
from retro.models import RetroImportBatch, RetroTransaction
from tests.retro.import_helpers import csv_text, mixed_rows, program_with_purchase_key

URL = "/retro/import/"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def program(db):
    return program_with_purchase_key()


def _upload(client, program, text, name="pos.csv", capture=None):
    data = {"program": program.pk, "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")}
    with capture(execute=True):
        return client.post(URL, data)


def test_an_upload_imports_good_rows_and_reports_bad_ones(
    client, supervisor, program, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    response = _upload(client, program, csv_text(mixed_rows()), capture=django_capture_on_commit_callbacks)
    batch = RetroImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}{batch.pk}/"
    assert (batch.state, batch.rows_imported, batch.rows_rejected, batch.started_by) == ("done", 3, 3, supervisor)

    page = client.get(response["Location"]).content.decode()
    assert 'id="error-report-link"' in page and "every 1s" not in page

    report = client.get(f"{URL}{batch.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    body = b"".join(report.streaming_content).decode()
    assert body.startswith("\ufeff")  # a BOM: spreadsheets read the file as UTF-8
    lines = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert lines[0][:3] == ["row", "reason", "source_id"]
    assert [line[0] for line in lines[1:]] == ["3", "5", "7"]
    assert lines[2][1].startswith("amount") and "twelve" in lines[2]


def test_re_uploading_the_same_file_adds_nothing(client, supervisor, program, django_capture_on_commit_callbacks):
    client.force_login(supervisor)
    text = csv_text(mixed_rows())
    _upload(client, program, text, capture=django_capture_on_commit_callbacks)
    _upload(client, program, text, capture=django_capture_on_commit_callbacks)
    assert RetroTransaction.objects.count() == 3
    second = RetroImportBatch.objects.order_by("-id").first()
    assert (second.rows_imported, second.rows_duplicate) == (0, 3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00", "not a UTF-8 CSV"),
        (b"name,amount\nx,1\n", "lacks the required column"),
        (b"source_id,transaction_date\n", "no rows"),
        (b"", "empty"),
    ],
)
def test_a_bad_file_is_a_form_error(client, supervisor, program, content, message):
    client.force_login(supervisor)
    response = client.post(URL, {"program": program.pk, "file": SimpleUploadedFile("x.csv", content)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not RetroImportBatch.objects.exists()


def test_a_missing_program_is_a_form_error(client, supervisor, program):
    client.force_login(supervisor)
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", b"source_id\n1\n")})
    assert response.status_code == 200 and "This field is required" in response.content.decode()


def test_the_progress_partial_polls_while_running(client, supervisor, program):
    client.force_login(supervisor)
    batch = RetroImportBatch.objects.create(program=program, channel="upload", rows_total=200, rows_done=50)
    partial = client.get(f"{URL}{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in partial and "25%" in partial and "<html" not in partial


def test_a_csr_may_not_import(client, csr, program):
    client.force_login(csr)
    batch = RetroImportBatch.objects.create(program=program, channel="upload")
    for url in (URL, f"{URL}{batch.pk}/", f"{URL}{batch.pk}/errors.csv"):
        assert client.get(url).status_code == 403
    assert client.post(URL, {"program": program.pk, "file": SimpleUploadedFile("x.csv", b"x")}).status_code == 403


def test_an_anonymous_visitor_is_sent_to_login(client, program):
    batch = RetroImportBatch.objects.create(program=program, channel="upload")
    for url in (URL, f"{URL}{batch.pk}/", f"{URL}{batch.pk}/errors.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.browser
def test_supervisor_uploads_a_file_and_downloads_the_error_report(roles, supervisor, login, live_server, tmp_path):
    program_with_purchase_key()
    path = tmp_path / "pos-feed.csv"
    path.write_text(csv_text(mixed_rows()))

    page = login(supervisor)
    page.get_by_role("link", name="Import retro transactions").first.click()
    page.select_option("select[name=program]", label="Shop Rewards")
    page.set_input_files("input[name=file]", str(path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("#import-progress[data-state=done]")
    assert page.locator("#count-imported").inner_text() == "3"
    assert page.locator("#count-rejected").inner_text() == "3"
    assert page.locator(".progress-bar").inner_text() == "100%"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "retro-import.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#error-report-link")
    report = Path(download_info.value.path()).read_text(encoding="utf-8-sig")  # the BOM makes spreadsheets read UTF-8
    assert report.splitlines()[0].startswith("row,reason,source_id")
    assert len(report.splitlines()) == 4

    page.get_by_role("link", name="Back to imports").click()
    assert page.locator("#retro-import-list tbody tr").count() == 1


@pytest.mark.browser
def test_the_progress_bar_follows_a_running_import_until_done(roles, supervisor, login, live_server):
    program = program_with_purchase_key()
    batch = RetroImportBatch.objects.create(program=program, channel="upload", file_name="big.csv", rows_total=1000)
    RetroImportBatch.objects.filter(pk=batch.pk).update(rows_done=400, rows_imported=400)

    page = login(supervisor)
    page.goto(f"{live_server.url}{URL}{batch.pk}/")
    assert page.locator(".progress-bar").inner_text() == "40%"
    assert page.locator("#error-report-link").count() == 0

    RetroImportBatch.objects.filter(pk=batch.pk).update(
        rows_done=1000, rows_imported=990, rows_rejected=10, state="done", errors=[{"row": 7, "reason": "bad"}]
    )
    page.wait_for_selector("#import-progress[data-state=done]", timeout=5000)
    assert page.locator("#count-imported").inner_text() == "990"
    assert page.locator("#error-report-link").is_visible()


def _media_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_uploaded_file_is_deleted_once_imported(
    client, supervisor, program, settings, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    response = _upload(client, program, csv_text(mixed_rows()), capture=django_capture_on_commit_callbacks)
    assert RetroImportBatch.objects.get().state == "done"
    assert _media_files(settings) == []
    page = client.get(response["Location"]).content.decode()
    assert "The uploaded file has been deleted." in page


def test_the_uploaded_file_is_deleted_when_its_import_fails_too(
    client, supervisor, program, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(self, prepared):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writers.CopyWriter, "write", broken)
    client.force_login(supervisor)
    response = _upload(client, program, csv_text(mixed_rows()), capture=django_capture_on_commit_callbacks)
    batch = RetroImportBatch.objects.get()
    assert batch.state == "failed" and _media_files(settings) == []
    page = client.get(response["Location"]).content.decode()
    assert "The import stopped: disk full. Nothing of this file was imported." in page
    assert not RetroTransaction.objects.exists()


def test_a_file_over_the_size_cap_is_refused_before_it_is_kept(client, supervisor, program, settings, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UPLOAD_BYTES", 1024)
    client.force_login(supervisor)
    text = csv_text([mixed_rows()[0]] * 40)
    assert len(text) > 1024
    response = client.post(URL, {"program": program.pk, "file": SimpleUploadedFile("big.csv", text.encode())})
    assert response.status_code == 200
    assert "The file is larger than 100 MB: split it, or use the import command instead." in response.content.decode()
    assert not RetroImportBatch.objects.exists() and _media_files(settings) == []


def test_the_batch_page_lists_the_first_rejected_rows_with_field_and_reason(
    client, supervisor, program, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    response = _upload(client, program, csv_text(mixed_rows()), capture=django_capture_on_commit_callbacks)
    page = client.get(response["Location"]).content.decode()
    assert "<td>5</td><td>amount</td><td>amount: Enter an amount such as 12.50.</td>" in page
    assert 'id="count-posted">0</dd>' in page and 'id="count-matched">0</dd>' in page


def test_the_upload_page_says_the_file_is_deleted_once_imported(client, supervisor, program):
    client.force_login(supervisor)
    page = client.get(URL).content.decode()
    assert "The uploaded file is deleted once" in page and "100 MB" in page


def test_the_upload_still_checks_the_csrf_token(supervisor, program):
    # The view takes its CSRF check inside, after the size cap is in place: it must still refuse a forged post.
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    response = client.post(URL, {"program": program.pk, "file": SimpleUploadedFile("x.csv", b"source_id\n1\n")})
    assert response.status_code == 403
    assert not RetroImportBatch.objects.exists()


def test_the_error_report_keeps_formula_text_from_running_and_numbers_as_they_were():
    error = {"row": 4, "reason": "amount: bad", "original": [["reference", '=HYPERLINK("x")'], ["amount", "-12.50"]]}
    assert report_line(error, ["reference", "amount"]) == [4, "amount: bad", '\'=HYPERLINK("x")', "-12.50"]
