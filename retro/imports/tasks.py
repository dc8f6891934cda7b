"""Celery task importing an uploaded CSV file of retro transactions (thin: it calls the import service)."""

import logging

from loyalty.background import task
from retro.imports.services import import_csv
from retro.imports.uploads import delete_upload, open_upload, upload_missing
from retro.models import RetroImportBatch

logger = logging.getLogger(__name__)


@task("retro.import_uploaded_file")
def import_uploaded_file(batch_id):
    batch = RetroImportBatch.objects.select_related("program").filter(pk=batch_id).first()
    if batch is None:
        return
    if batch.state != RetroImportBatch.State.RUNNING:
        delete_upload(batch)  # already finished (a run stopped between its end and the deletion): tidy up only
        return
    try:
        # A retried task starts over from the first row; what its first run committed counts as duplicates.
        with open_upload(batch) as binary:
            import_csv(batch=batch, binary=binary)
    except FileNotFoundError:
        upload_missing(batch)
    except Exception:
        # The service has marked the batch failed, with the reason; the page shows it. Nothing to retry blindly.
        logger.exception("Retro import batch %s failed", batch_id)
    finally:
        # Imported or failed, the file is not kept: a feed holds card digits and receipts, and a new
        # attempt is a new upload.
        if batch.state != RetroImportBatch.State.RUNNING:
            delete_upload(batch)
