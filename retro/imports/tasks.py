"""Celery task importing an uploaded CSV file of retro transactions (thin: it calls the import service)."""

import logging

from celery import shared_task
from django.core.files.storage import default_storage

from retro.imports.services import import_csv
from retro.imports.uploads import upload_path
from retro.models import RetroImportBatch

logger = logging.getLogger(__name__)


@shared_task(name="retro.import_uploaded_file")
def import_uploaded_file(batch_id):
    batch = RetroImportBatch.objects.select_related("program").filter(pk=batch_id).first()
    if batch is None or batch.state != RetroImportBatch.State.RUNNING:
        return  # already finished: running the task twice does nothing
    if batch.rows_done:
        # A retried task starts over; rows the first run inserted now count as duplicates.
        batch.rows_done = batch.rows_imported = batch.rows_duplicate = batch.rows_rejected = 0
        batch.errors = []
        batch.save(update_fields=["rows_done", "rows_imported", "rows_duplicate", "rows_rejected", "errors"])
    try:
        with default_storage.open(upload_path(batch), "rb") as binary:
            import_csv(batch=batch, binary=binary)
    except Exception:
        # The service has marked the batch failed; the page shows it. Nothing to retry blindly.
        logger.exception("Retro import batch %s failed", batch_id)
