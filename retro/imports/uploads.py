"""Start an import from an uploaded CSV file: check it, keep it, and queue the import task after commit."""

import codecs

from django.core.files.storage import default_storage
from django.db import transaction

from loyalty.background import queue_task
from retro.imports.services import ImportFileError, read_csv_header, start_import


def upload_path(batch):
    """Where a batch's uploaded file is kept until (and after) the task imports it."""
    return f"retro_imports/batch-{batch.pk}.csv"


def _count_utf8_rows(binary):
    """Data lines of the file, decoding it all so a non-UTF-8 file fails here, not half-way through."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    lines, last = 0, b"\n"
    try:
        for block in iter(lambda: binary.read(1 << 20), b""):
            decoder.decode(block)
            lines += block.count(b"\n")
            last = block[-1:]
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError("This is not a UTF-8 CSV file: save it as CSV UTF-8 and upload it again.")
    return max(lines + (last != b"\n") - 1, 0)


def upload_transactions_file(*, program, uploaded_file, started_by):
    """Create the batch for an uploaded CSV and queue its import; ImportFileError if the file is unusable."""
    binary = uploaded_file.file if hasattr(uploaded_file, "file") else uploaded_file
    binary.seek(0)
    read_csv_header(binary)
    binary.seek(0)
    rows_total = _count_utf8_rows(binary)
    if rows_total == 0:
        raise ImportFileError("The file has a header but no rows to import.")
    binary.seek(0)
    with transaction.atomic():
        batch = start_import(
            program=program,
            channel="upload",
            file_name=uploaded_file.name or "",
            started_by=started_by,
            rows_total=rows_total,
        )
        path = upload_path(batch)
        if default_storage.exists(path):
            default_storage.delete(path)  # a leftover of a wiped database: the task must read this upload
        default_storage.save(path, uploaded_file)
        queue_task("retro.import_uploaded_file", batch.pk)
    return batch
