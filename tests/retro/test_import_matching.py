"""Newly imported transactions match waiting claims at once: the file, the command and the API batch."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from loyalty.models import Activity, LedgerEntry
from retro.models import RetroClaim, RetroClaimStatus, RetroImportBatch
from retro.services import submit_retro_claim
from tests.factories import api_token
from tests.retro.factories import member_in, recent_day, retro_program
from tests.retro.import_helpers import csv_text, good_row, import_text

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


@pytest.fixture
def program():
    return retro_program()  # purchase key location + date + reference + amount; 10 points per unit


def feed_row(n, **overrides):
    """A feed row of last week, inside a claim's window."""
    return good_row(n, transaction_date=recent_day(7).isoformat(), amount="42.00", **overrides)


def waiting_claim(program, reference):
    """A claim submitted before its transaction reached the pool: Outstanding."""
    values = {"location_code": "PAR01", "transaction_date": recent_day(7).isoformat(), "reference": reference}
    claim = submit_retro_claim(
        membership=member_in(program), channel="csr", submitted_by=None, key_values={**values, "amount": "42.00"}
    )
    assert claim.status == S.OUTSTANDING
    return claim


def test_a_transaction_imported_after_a_claim_matches_it_at_once(program):
    claim = waiting_claim(program, "R2")
    other = waiting_claim(program, "NOT-IN-THE-FILE")
    batch = import_text(program, csv_text([feed_row(1), feed_row(2), feed_row(3)]))
    claim.refresh_from_db()
    assert claim.status == S.MATCHED
    assert claim.matched_transaction.source_id == "POS-2"
    assert claim.activity.external_reference == claim.number
    assert sum(e.quantity for e in LedgerEntry.objects.filter(activity=claim.activity, metric="base")) == 420
    assert RetroClaim.objects.get(pk=other.pk).status == S.OUTSTANDING
    assert batch.claims_matched == 1
    assert RetroImportBatch.objects.get(pk=batch.pk).claims_matched == 1


def test_a_duplicate_row_matches_nothing_again(program):
    import_text(program, csv_text([feed_row(1)]))
    claim = waiting_claim(program, "R9")
    again = import_text(program, csv_text([feed_row(1), feed_row(9)]))
    assert (again.rows_imported, again.rows_duplicate, again.claims_matched) == (1, 1, 1)
    assert RetroClaim.objects.get(pk=claim.pk).status == S.MATCHED
    assert Activity.objects.filter(source="retro").count() == 1


def test_the_command_says_how_many_waiting_claims_it_matched(program, tmp_path):
    waiting_claim(program, "R1")
    path = tmp_path / "pos.csv"
    path.write_text(csv_text([feed_row(1), feed_row(2)]))
    out = io.StringIO()
    call_command("import_retro_transactions", str(path), "--program", program.code, "--no-progress", stdout=out)
    assert "2 imported, 0 duplicates, 0 rejected, 0 posted to members; 1 waiting claims matched." in out.getvalue()


def test_the_api_batch_says_how_many_waiting_claims_it_matched(program, supervisor):
    claim = waiting_claim(program, "R1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(supervisor)}")
    body = {"program": program.code, "transactions": [feed_row(1), feed_row(2)]}
    response = client.post("/api/retro/transactions/batch/", body, format="json")
    assert response.status_code == 200
    assert response.json()["claims_matched"] == 1
    assert RetroClaim.objects.get(pk=claim.pk).status == S.MATCHED


def test_the_batch_page_shows_the_claims_matched(program, supervisor, client):
    waiting_claim(program, "R1")
    batch = import_text(program, csv_text([feed_row(1)]))
    client.force_login(supervisor)
    page = client.get(f"/retro/import/{batch.pk}/").content.decode()
    assert '<dd class="col-sm-7" id="count-matched">1</dd>' in page
