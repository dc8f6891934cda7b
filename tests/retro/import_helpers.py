"""Shared set-up for the retro import tests: a program with a purchase key, and CSV files."""

import csv
import io

from retro.imports.services import import_csv, start_import
from retro.models import RetroClaimKey, RetroClaimKeyField
from tests.factories import ProgramFactory

HEADER = ["source_id", "transaction_date", "transaction_time", "location_code", "reference", "amount", "currency"]


def program_with_purchase_key(code="shop", time_zone="Europe/Paris"):
    """A program whose purchase key is location + date + reference + amount (seed 001's example)."""
    program = ProgramFactory(code=code, time_zone=time_zone)
    key, _ = RetroClaimKey.objects.get_or_create(program=program, transaction_type="purchase")
    for position, field in enumerate(["location_code", "transaction_date", "reference", "amount"], start=1):
        RetroClaimKeyField.objects.get_or_create(key=key, position=position, defaults={"field": field})
    return program


def good_row(n, **overrides):
    row = {
        "source_id": f"POS-{n}",
        "transaction_date": "2023-05-20",
        "transaction_time": "23:30",
        "location_code": "PAR01",
        "reference": f"R{n}",
        "amount": "12.50",
        "currency": "EUR",
    }
    row.update(overrides)
    return row


def csv_text(rows, header=HEADER):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def mixed_rows():
    """Three good rows and three bad ones (rows 3, 5 and 7 of the file, counting the header as row 1)."""
    return [
        good_row(1),
        good_row(2, transaction_date="2023-02-30"),
        good_row(3),
        good_row(4, amount="twelve"),
        good_row(5),
        good_row(6, source_id=""),
    ]


def import_text(program, text, *, channel="upload", **kwargs):
    """Run the import service on CSV text, as the upload task and the command do; returns the batch."""
    batch = start_import(program=program, channel=channel, file_name="pos.csv")
    return import_csv(batch=batch, binary=io.BytesIO(text.encode()), **kwargs)


def header_with(*columns):
    """The helpers' header plus these columns (membership_number, attr_…)."""
    return [*HEADER, *columns]
