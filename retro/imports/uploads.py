"""Start an import from an uploaded CSV file: check it, keep it until the task imports it, then delete it."""

import codecs

from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.utils import timezone

from loyalty.background import queue_task
from retro.imports import limits
from retro.imports.services import TRANSACTIONS, ImportFileError, file_note, read_csv_header, start_import
from retro.models import RetroImportBatch


def upload_path(batch):
    """Where a batch's uploaded file waits for the task that imports it."""
    return f"retro_imports/batch-{batch.pk}.csv"


def open_upload(batch):
    """The batch's uploaded file, opened for reading (FileNotFoundError when it is gone)."""
    return default_storage.open(upload_path(batch), "rb")


def delete_upload(batch):
    """Delete the batch's uploaded file: once imported (or failed) it is not kept."""
    path = upload_path(batch)
    if default_storage.exists(path):
        default_storage.delete(path)


def upload_missing(batch):
    """The task found no file to import (storage wiped, or another server's disk): the batch fails, saying so."""
    RetroImportBatch.objects.filter(pk=batch.pk, state=RetroImportBatch.State.RUNNING).update(
        state=RetroImportBatch.State.FAILED,
        finished_at=timezone.now(),
        errors=[file_note("The uploaded file was not found when its import started. Nothing of it was imported.")],
    )
    batch.refresh_from_db()


class UploadSizeCap(FileUploadHandler):
    """Stops keeping an uploaded file once it passes limits.MAX_UPLOAD_BYTES, before anything reads it.

    Django writes an upload to a temporary file as it arrives; past the cap the rest is skipped
    (read from the network and dropped), so a 5 GB mistake never fills the disk, and the form says why.
    Insert it first in request.upload_handlers, before request.POST or request.FILES is read.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > limits.MAX_UPLOAD_BYTES:
            self.too_large = True
            raise SkipFile()
        return raw_data  # the next handler keeps it

    def file_complete(self, file_size):
        return None  # the next handler returns the file


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


def upload_file(*, program, uploaded_file, started_by, kind=TRANSACTIONS):
    """Create the batch for an uploaded CSV and queue its import; ImportFileError if the file is unusable."""
    if uploaded_file.size is not None and uploaded_file.size > limits.MAX_UPLOAD_BYTES:
        raise ImportFileError(limits.upload_too_large_message())
    binary = uploaded_file.file if hasattr(uploaded_file, "file") else uploaded_file
    binary.seek(0)
    read_csv_header(binary, kind=kind)
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
            kind=kind,
        )
        delete_upload(batch)  # a leftover of a wiped database: the task must read this upload
        default_storage.save(upload_path(batch), uploaded_file)
        queue_task("retro.import_uploaded_file", batch.pk)
    return batch
