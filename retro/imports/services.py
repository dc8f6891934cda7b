"""The one import service used by the upload screens, the commands and the batch APIs, for every kind.

Each kind (retro.imports.kinds: retro transactions, flights) brings its columns, row parser, writer
and after-publish step; what follows holds for all of them.

A file is published whole or not at all: its rows go into the pool (and its member rows to their
members) chunk by chunk inside one database transaction, with the batch's counts and error report,
so a failure anywhere leaves nothing of it. Rows that fail validation are not failures: they are
reported one by one and the others go in. Progress goes through a connection of its own
(retro.imports.progress). Once the file is published, the Outstanding claims its transactions
answer are matched at once, as the daily pass would match them.
"""

import csv
import io
import logging

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from retro import reprocessing, sql
from retro.imports import limits
from retro.imports.kinds import KINDS, ImportKind, kind_of, register
from retro.imports.members import MemberRowPoster, PostedRows
from retro.imports.pipeline import parsed_chunks
from retro.imports.progress import ProgressRecorder
from retro.imports.rows import ATTRIBUTE_PREFIX, RowParser, RowRejected, attribute_columns_problem, missing_columns
from retro.imports.writers import CopyWriter
from retro.models import RetroClaimStatus, RetroImportBatch

logger = logging.getLogger(__name__)
TRANSACTIONS = "transactions"

CHUNK_SIZE = 10_000
READ_CHUNK = 1 << 20
# The batch keeps the first errors for the error report; the counters stay exact beyond it.
MAX_STORED_ERRORS = 10_000
# Outcomes that count as "matched" on the batch: the claim got a transaction (credited, or reserved for approval).
MATCHED_OUTCOMES = (RetroClaimStatus.MATCHED, RetroClaimStatus.PENDING_APPROVAL)
_PUBLISHED_FIELDS = [
    "state", "finished_at", "rows_total", "rows_done", "rows_imported", "rows_duplicate", "rows_rejected",
    "rows_posted", "errors",
]  # fmt: skip


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not CSV, wrong encoding, required columns missing, too wide)."""


def start_import(*, program, channel, file_name="", started_by=None, rows_total=0, kind=TRANSACTIONS):
    """Create the RetroImportBatch that records an import's progress and errors."""
    return RetroImportBatch.objects.create(
        program=program, channel=channel, file_name=file_name[:255], started_by=started_by, rows_total=rows_total,
        kind=kind,
    )  # fmt: skip


def transaction_header_problem(columns):
    missing = missing_columns(columns)
    if missing:
        return f"The file lacks the required column(s): {', '.join(missing)}."
    problem = attribute_columns_problem([name for name in columns if name.startswith(ATTRIBUTE_PREFIX)])
    if problem:
        return f"The file has {problem}."
    return None


def read_csv_header(binary, *, kind=TRANSACTIONS):
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
    if any("\x00" in cell for cell in header):
        # Plain ASCII saved as UTF-16 without a byte order mark decodes as UTF-8 with a NUL after each
        # letter: say what the file is, rather than list its NUL-riddled column names as unknown.
        raise ImportFileError(
            "The first line holds NUL characters: the file is UTF-16 text or not text at all. "
            "Save it as CSV UTF-8 and upload it again."
        )
    if len(header) > limits.MAX_COLUMNS:
        raise ImportFileError(limits.too_many_columns_message(len(header)))
    columns = [cell.strip().lower() for cell in header]
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        raise ImportFileError(f"The file names these columns twice: {', '.join(repeated)}.")
    problem = KINDS[kind].header_problem(columns)
    if problem:
        raise ImportFileError(problem)
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
    # Read in 1 MB pieces, not the wrapper's 8 KB: each read of a file gives up the GIL, and taking it back
    # from the writing threads (the import's and psycopg's COPY worker) cost a third of a file's import.
    text._CHUNK_SIZE = READ_CHUNK
    try:
        reader = csv.reader(text)
        header = [cell.strip().lower() for cell in next(reader)]
        width = len(header)
        number = 1
        while True:
            try:
                for cells in reader:
                    number += 1
                    if len(cells) != width:
                        if not cells or (len(cells) == 1 and not cells[0].strip()):
                            continue  # a blank line
                        yield number, RowRejected(f"the row has {len(cells)} cells, the header has {width}"), cells
                        continue
                    values = dict(zip(header, cells, strict=False))  # equal lengths: checked above
                    yield number, values, values
                return
            except csv.Error as exc:
                # One unreadable line (a cell past the csv module's size limit): the reader goes on after it.
                number += 1
                yield number, RowRejected(f"the line cannot be read as CSV ({exc})"), []
    finally:
        text.detach()  # the caller owns the binary stream: closing the wrapper must not close it


def import_csv(*, batch, binary, chunk_size=CHUNK_SIZE, on_progress=None, on_errors=None):
    """Import a CSV stream into the batch's program; the header is checked first (ImportFileError)."""
    try:
        read_csv_header(binary, kind=batch.kind)
    except ImportFileError as exc:
        _mark_failed(batch, f"{exc} Nothing of this file was imported.")
        raise
    binary.seek(0)
    return import_records(
        batch=batch,
        records=csv_records(binary),
        chunk_size=chunk_size,
        on_progress=on_progress,
        on_errors=on_errors,
    )


def import_records(*, batch, records, chunk_size=CHUNK_SIZE, on_progress=None, on_errors=None):
    """Validate (row number, values, original) records and publish the good ones in one transaction.

    Rows whose source_id the program already has (or that were already posted to their member)
    count as duplicates, so running the same import twice adds nothing. on_progress(batch) runs
    after each chunk; on_errors(list) receives every rejected row, beyond what the batch keeps.
    Any exception rolls the whole file back, marks the batch Failed with the reason, and is re-raised.
    """
    _start_counting(batch)
    kind = kind_of(batch)
    progress = ProgressRecorder(batch)  # before the transaction: it asks whether the caller holds one
    try:
        parser = kind.parser(batch.program)
        members = kind.members(batch) if kind.members else None
        with transaction.atomic():
            writer = kind.writer(batch)
            for chunk in parsed_chunks(parser, writer, records, chunk_size):
                bad = _write_chunk(batch, writer, members, chunk)
                progress.record(batch)
                if on_errors and bad:
                    on_errors(bad)
                if on_progress:
                    on_progress(batch)
            # The batch's outcome commits with its rows: Done means published.
            batch.state = RetroImportBatch.State.DONE
            batch.finished_at = timezone.now()
            batch.rows_total = max(batch.rows_total, batch.rows_done)
            batch.save(update_fields=_PUBLISHED_FIELDS)
    except Exception as exc:
        logger.exception("Import batch %s (%s) failed", batch.pk, kind.label)
        _mark_failed(batch, failure_reason(exc))
        raise
    if kind.after_publish:
        kind.after_publish(batch)
    return batch


def _start_counting(batch):
    """A (re)started import counts from zero: a retried one finds its first run's rows as duplicates."""
    for name in ("rows_done", "rows_imported", "rows_duplicate", "rows_rejected", "rows_posted", "claims_matched"):
        setattr(batch, name, 0)
    batch.errors = []


def _write_chunk(batch, writer, members, chunk):
    """Write one chunk in the file's transaction and count it on the batch (in memory); returns its rejected rows."""
    added = writer.write(chunk.prepared) if chunk.good else 0
    posted = members.post(chunk.members) if members else PostedRows()
    bad = chunk.bad
    if posted.errors:
        bad = sorted(bad + posted.errors, key=lambda error: error["row"])
    batch.rows_done += chunk.good + len(chunk.members) + len(chunk.bad)
    batch.rows_imported += added
    batch.rows_posted += posted.posted
    batch.rows_duplicate += chunk.good - added + posted.duplicates
    batch.rows_rejected += len(bad)
    room = MAX_STORED_ERRORS - len(batch.errors)
    if bad and room > 0:
        batch.errors.extend(bad[:room])
    batch.rows_total = max(batch.rows_total, batch.rows_done)
    return bad


def failure_reason(exc):
    """What a CSR reads on a failed batch: the cause, in words, and that nothing of the file went in."""
    if isinstance(exc, UnicodeDecodeError):
        cause = f"the file is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}): save it as CSV UTF-8"
    elif isinstance(exc, DatabaseError):
        cause = f"the database refused it: {_first_line(exc)}"
    else:
        cause = _first_line(exc)
    return f"The import stopped: {cause}. Nothing of this file was imported."


def _first_line(exc):
    message = str(exc).strip()
    if not message or message.startswith("[<class"):  # decimal's signals print as a list of classes
        return f"an unexpected {type(exc).__name__}"
    return message.splitlines()[0].rstrip(".")


def _mark_failed(batch, reason):
    """Record the failure once the file's transaction is rolled back: nothing of it is published."""
    if transaction.get_connection().needs_rollback:
        return  # inside a broken outer transaction nothing can be written; the caller sees the exception
    errors = [*(batch.errors or [])[: MAX_STORED_ERRORS - 1], file_note(reason)]
    RetroImportBatch.objects.filter(pk=batch.pk).update(
        state=RetroImportBatch.State.FAILED,
        finished_at=timezone.now(),
        rows_done=batch.rows_done,
        rows_rejected=batch.rows_rejected,
        rows_imported=0,
        rows_duplicate=0,
        rows_posted=0,
        claims_matched=0,
        errors=errors,
    )
    batch.refresh_from_db()


def _match_waiting_claims(batch):
    """Match the Outstanding claims this file's new transactions answer; the count goes on the batch.

    The file is already published: a failure here is logged and left to the daily pass, which
    retries every Outstanding claim, and the batch says so.
    """
    if not batch.rows_imported:
        return
    try:
        # Its own (sub)transaction: a failure here must not leave a caller's transaction broken.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql.waiting_claim_keys_statement(), [batch.program_id, RetroClaimStatus.OUTSTANDING, batch.pk]
            )
            keys_by_type = {}
            for transaction_type, match_key in cursor.fetchall():
                keys_by_type.setdefault(transaction_type, []).append(match_key)
        matched = 0
        for transaction_type, match_keys in sorted(keys_by_type.items()):
            result = reprocessing.match_waiting_claims(
                program=batch.program, transaction_type=transaction_type, match_keys=match_keys
            )
            matched += sum(result.counts.get(status, 0) for status in MATCHED_OUTCOMES)
    except Exception as exc:
        logger.exception("Matching waiting claims after retro import batch %s failed", batch.pk)
        note = f"The file is imported, but matching waiting claims stopped ({_first_line(exc)}): the daily pass will."
        batch.errors = [*batch.errors, file_note(note)]
        RetroImportBatch.objects.filter(pk=batch.pk).update(errors=batch.errors)
        return
    batch.claims_matched = matched
    RetroImportBatch.objects.filter(pk=batch.pk).update(claims_matched=matched)


def file_note(reason):
    """An entry of the error report about the file as a whole, not one of its rows."""
    return {"row": None, "field": "", "reason": reason, "original": []}


def import_api_batch(*, program, rows, started_by=None, kind=TRANSACTIONS):
    """Import a list of row objects posted to an API; errors carry 1-based positions."""
    batch = start_import(program=program, channel="api", started_by=started_by, rows_total=len(rows), kind=kind)
    records = ((position, values, values) for position, values in enumerate(rows, start=1))
    return import_records(batch=batch, records=records)


def import_transaction_batch(*, program, transactions, started_by=None):
    return import_api_batch(program=program, rows=transactions, started_by=started_by)


register(
    ImportKind(
        key=TRANSACTIONS,
        label="retro transactions",
        permission="retro.add_retrotransaction",
        title="Import retro transactions",
        file_help=(
            f"UTF-8 CSV of at most {limits.MAX_UPLOAD_LABEL} with a header line: source_id, transaction_date "
            "(or occurred_at) and the key columns. The file is deleted once imported."
        ),
        format_template="retro/partials/import_format_transactions.html",
        url_name="retro-transaction-import",
        header_problem=transaction_header_problem,
        parser=RowParser,
        writer=CopyWriter,
        members=MemberRowPoster,
        after_publish=_match_waiting_claims,
    )
)
