"""The one retro transaction import service used by the upload screen, the command and the batch API."""

import csv
import io
import logging

from django.db import transaction
from django.utils import timezone

from retro.imports.pipeline import parsed_chunks
from retro.imports.rows import RowParser, RowRejected, missing_columns
from retro.imports.writers import CopyWriter
from retro.models import RetroImportBatch

logger = logging.getLogger(__name__)

CHUNK_SIZE = 10_000
# The batch keeps the first errors for the error report; the counters stay exact beyond it.
MAX_STORED_ERRORS = 10_000


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not CSV, wrong encoding, required columns missing)."""


def start_import(*, program, channel, file_name="", started_by=None, rows_total=0):
    """Create the RetroImportBatch that records an import's progress and errors."""
    return RetroImportBatch.objects.create(
        program=program, channel=channel, file_name=file_name[:255], started_by=started_by, rows_total=rows_total
    )


def read_csv_header(binary):
    """Validate a CSV stream's header; returns its column names (lower-case) or raises ImportFileError."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        header = next(csv.reader(text), None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"This is not a UTF-8 CSV file ({exc}).")
    finally:
        text.detach()
    if not header or not any(cell.strip() for cell in header):
        raise ImportFileError("The file is empty: the first line must name the columns.")
    columns = [cell.strip().lower() for cell in header]
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        raise ImportFileError(f"The file names these columns twice: {', '.join(repeated)}.")
    missing = missing_columns(columns)
    if missing:
        raise ImportFileError(f"The file lacks the required column(s): {', '.join(missing)}.")
    return columns


def count_csv_rows(binary):
    """Data lines in a CSV stream (for the progress total); the stream is rewound to the start."""
    lines = 0
    last = b"\n"
    for block in iter(lambda: binary.read(1 << 20), b""):
        lines += block.count(b"\n")
        last = block[-1:]
    binary.seek(0)
    return max(lines + (last != b"\n") - 1, 0)


def csv_records(binary):
    """Yield (row number, values by column, original cells) for each data line; row 1 is the header."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        header = [cell.strip().lower() for cell in next(reader)]
        width = len(header)
        number = 1
        for cells in reader:
            number += 1
            if len(cells) != width:
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # a blank line
                yield number, RowRejected(f"the row has {len(cells)} cells, the header has {width}"), cells
                continue
            values = dict(zip(header, cells, strict=False))  # equal lengths: checked above
            yield number, values, values
    finally:
        text.detach()  # the caller owns the binary stream: closing the wrapper must not close it


def import_csv(*, batch, binary, chunk_size=CHUNK_SIZE, on_progress=None, on_errors=None):
    """Import a CSV stream into the batch's program; the header is checked first (ImportFileError)."""
    read_csv_header(binary)
    binary.seek(0)
    return import_records(
        batch=batch,
        records=csv_records(binary),
        chunk_size=chunk_size,
        on_progress=on_progress,
        on_errors=on_errors,
    )


def import_records(*, batch, records, chunk_size=CHUNK_SIZE, on_progress=None, on_errors=None):
    """Validate and insert (row number, values, original) records in committed chunks, recording progress.

    Rows whose source_id the program already has are counted as duplicates and skipped, so
    running the same import twice (or again after a crash) adds nothing. on_progress(batch) runs
    after each chunk; on_errors(list) receives every rejected row, beyond what the batch keeps.
    """
    parser = RowParser(batch.program)
    writer = CopyWriter(batch)
    try:
        for chunk in parsed_chunks(parser, writer, records, chunk_size):
            _flush(batch, writer, chunk, on_progress, on_errors)
    except Exception as exc:
        logger.exception("Retro import batch %s failed", batch.pk)
        _mark_failed(batch, exc)
        raise
    batch.state = RetroImportBatch.State.DONE
    batch.finished_at = timezone.now()
    batch.rows_total = max(batch.rows_total, batch.rows_done)
    batch.save(update_fields=["state", "finished_at", "rows_total"])
    return batch


def _flush(batch, writer, chunk, on_progress, on_errors):
    bad = chunk.bad
    with transaction.atomic():
        added = writer.write(chunk.prepared) if chunk.good else 0
        batch.rows_done += chunk.good + len(bad)
        batch.rows_imported += added
        batch.rows_duplicate += chunk.good - added
        batch.rows_rejected += len(bad)
        room = MAX_STORED_ERRORS - len(batch.errors)
        if bad and room > 0:
            batch.errors = batch.errors + bad[:room]
        batch.rows_total = max(batch.rows_total, batch.rows_done)
        batch.save(
            update_fields=[
                "rows_done",
                "rows_imported",
                "rows_duplicate",
                "rows_rejected",
                "errors",
                "rows_total",
            ]
        )
    if on_errors and bad:
        on_errors(bad)
    if on_progress:
        on_progress(batch)


def _mark_failed(batch, exc):
    reason = f"The import stopped: {exc}"
    if transaction.get_connection().needs_rollback:
        return  # inside a broken outer transaction nothing can be written; the caller sees the exception
    RetroImportBatch.objects.filter(pk=batch.pk).update(
        state=RetroImportBatch.State.FAILED,
        finished_at=timezone.now(),
        errors=batch.errors + [{"row": None, "reason": reason, "original": []}],
    )
    batch.refresh_from_db()


def import_transaction_batch(*, program, transactions, started_by=None):
    """Import a list of transaction objects posted to the API; errors carry 1-based positions."""
    batch = start_import(program=program, channel="api", started_by=started_by, rows_total=len(transactions))
    records = ((position, values, values) for position, values in enumerate(transactions, start=1))
    return import_records(batch=batch, records=records)
