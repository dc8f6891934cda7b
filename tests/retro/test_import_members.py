"""Feed rows that carry a membership number are credited to that member, valued on their own date, never pooled."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from loyalty.models import Activity, LedgerEntry
from retro.imports.members import FEED_SOURCE
from retro.models import RetroImportBatch, RetroTransaction
from tests.factories import api_token
from tests.retro.factories import EarningRuleFactory, EarningRuleSetFactory, member_in, retro_program
from tests.retro.import_helpers import csv_text, good_row, header_with, import_text

pytestmark = pytest.mark.django_db
HEADER = header_with("membership_number")


@pytest.fixture
def program():
    """10 points per unit until the end of May 2023, 20 from June: a late row earns what its own date said."""
    program = retro_program()
    rule_set = program.rule_sets.get()
    rule_set.valid_to = dt.date(2023, 5, 31)
    rule_set.save()
    june = EarningRuleSetFactory(program=program, valid_from=dt.date(2023, 6, 1))
    EarningRuleFactory(rule_set=june, rate=Decimal("20"))
    return program


def base_points(activity):
    return sum(e.quantity for e in LedgerEntry.objects.filter(activity=activity, metric="base"))


def test_a_row_with_a_membership_number_credits_the_member_and_stays_out_of_the_pool(program):
    membership = member_in(program)
    rows = [
        good_row(1, membership_number=membership.membership_number, amount="42.00"),  # 20 May: 10 a unit
        good_row(2, membership_number=membership.membership_number, transaction_date="2023-06-02"),  # 20 a unit
        good_row(3),
    ]
    batch = import_text(program, csv_text(rows, header=HEADER))
    assert (batch.rows_posted, batch.rows_imported, batch.rows_rejected) == (2, 1, 0)
    assert list(RetroTransaction.objects.values_list("source_id", flat=True)) == ["POS-3"]
    may, june = Activity.objects.filter(membership=membership).order_by("occurred_on")
    assert (may.source, may.external_reference, may.occurred_on) == (FEED_SOURCE, "POS-1", dt.date(2023, 5, 20))
    assert (base_points(may), base_points(june)) == (420, 250)


def test_re_importing_the_file_posts_nothing_twice(program):
    membership = member_in(program)
    text = csv_text([good_row(1, membership_number=membership.membership_number)], header=HEADER)
    import_text(program, text)
    again = import_text(program, text)
    assert (again.rows_posted, again.rows_duplicate) == (0, 1)
    assert Activity.objects.filter(membership=membership).count() == 1


def test_an_unknown_or_foreign_membership_number_is_a_row_error(program):
    elsewhere = member_in(retro_program(code="hotel"))
    rows = [good_row(1, membership_number="NOPE-1"), good_row(2, membership_number=elsewhere.membership_number)]
    batch = import_text(program, csv_text(rows, header=HEADER))
    assert (batch.rows_posted, batch.rows_imported, batch.rows_rejected) == (0, 0, 2)
    assert [(e["row"], e["field"]) for e in batch.errors] == [(2, "membership_number"), (3, "membership_number")]
    assert batch.errors[0]["reason"] == "membership_number: no membership has the number 'NOPE-1'."
    assert "is a membership of Hotel Rewards, not of this program" in batch.errors[1]["reason"]
    assert not Activity.objects.exists()


def test_a_row_already_pooled_without_a_member_is_not_credited_as_well(program):
    import_text(program, csv_text([good_row(1)]))
    membership = member_in(program)
    batch = import_text(program, csv_text([good_row(1, membership_number=membership.membership_number)], header=HEADER))
    assert batch.rows_posted == 0 and batch.errors[0]["field"] == "source_id"
    assert "already in the retro pool" in batch.errors[0]["reason"]


def test_a_row_that_cannot_be_valued_is_a_row_error(program):
    membership = member_in(program)
    rows = [good_row(1, membership_number=membership.membership_number, transaction_date="2019-05-20")]
    batch = import_text(program, csv_text(rows, header=HEADER))
    assert batch.rows_posted == 0 and batch.rows_rejected == 1
    assert batch.errors[0]["reason"].startswith("The member could not be credited:")


def test_the_command_the_api_and_the_batch_page_count_the_rows_posted(program, supervisor, client, tmp_path):
    membership = member_in(program)
    path = tmp_path / "feed.csv"
    path.write_text(csv_text([good_row(1, membership_number=membership.membership_number)], header=HEADER))
    out = io.StringIO()
    call_command("import_retro_transactions", str(path), "--program", program.code, "--no-progress", stdout=out)
    assert "0 imported, 0 duplicates, 0 rejected, 1 posted to members" in out.getvalue()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(supervisor)}")
    row = good_row(2, membership_number=membership.membership_number)
    body = api.post("/api/retro/transactions/batch/", {"program": "shop", "transactions": [row]}, format="json")
    assert (body.status_code, body.json()["posted"], body.json()["imported"]) == (200, 1, 0)

    assert Activity.objects.filter(membership=membership, external_reference="POS-2").exists()

    client.force_login(supervisor)
    page = client.get(f"/retro/import/{RetroImportBatch.objects.get(channel='api').pk}/").content.decode()
    assert '<dd class="col-sm-7" id="count-posted">1</dd>' in page
