"""A running import's progress, written through a database connection of its own so the upload page sees it.

The import publishes a file in one transaction, which hides everything it writes until it commits;
the upload page polls the batch row every second, so the counts go through the `progress` database
alias (the same database, another connection, autocommit). The import's own transaction never
writes the batch row until its last statement, so the two connections never wait on each other.
"""

import logging
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from retro.models import RetroImportBatch

logger = logging.getLogger(__name__)

PROGRESS_DATABASE = "progress"
COUNTS = ("rows_total", "rows_done", "rows_imported", "rows_duplicate", "rows_rejected", "rows_posted")


class ProgressRecorder:
    """Writes a batch's counts after a chunk, at most once a second; create it before the import's transaction."""

    # The page polls every second: writing more often would cost the import and show nothing more.
    INTERVAL = 1.0

    def __init__(self, batch):
        self.batch_id = batch.pk
        self.using = _progress_alias()
        self._session_ready = False
        self._last = None

    def record(self, batch):
        if self.using is None:
            return
        now = time.monotonic()
        if self._last is not None and now - self._last < self.INTERVAL:
            return
        self._last = now
        values = {name: getattr(batch, name) for name in COUNTS}
        if self.using == DEFAULT_DB_ALIAS:
            RetroImportBatch.objects.filter(pk=self.batch_id).update(**values)
            return
        try:
            self._prepare_session()
            RetroImportBatch.objects.using(self.using).filter(pk=self.batch_id).update(**values)
        except Exception:  # noqa: BLE001 - progress is for the eye: failing to show it never stops an import
            logger.warning("Progress of retro import batch %s cannot be written; it goes on without", self.batch_id)
            self.using = None

    def _prepare_session(self):
        if self._session_ready:
            return
        with connections[self.using].cursor() as cursor:
            # A lost progress update costs nothing (the next one or the end overwrites it): no wait for the
            # disk; and never wait long for the batch row, which only this connection writes meanwhile.
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET lock_timeout = '2s'")
        self._session_ready = True


def _progress_alias():
    """Where progress goes: the progress connection, or the caller's own when it runs the import in its transaction."""
    if transaction.get_connection().in_atomic_block:
        # The caller's transaction hides the whole import until it commits anyway, and the batch row it
        # created may not even be committed: another connection would not see it.
        return DEFAULT_DB_ALIAS
    if PROGRESS_DATABASE not in settings.DATABASES:
        return None
    return PROGRESS_DATABASE
