"""What the retro app adds to /health/ and /metrics: its daily pass, failed postings, import throughput."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from loyalty import jobs
from loyalty.plugins import BusinessGauge, HealthPart
from retro.models import RetroClaim, RetroClaimStatus, RetroImportBatch

DAILY_PASS_JOB = "retro.reprocess_retro_claims"  # the Celery task's name: it records its runs under it
THROUGHPUT_WINDOW = dt.timedelta(hours=24)


def daily_pass_health():
    if not PeriodicTask.objects.filter(task=DAILY_PASS_JOB, enabled=True).exists():
        return True, "retro daily pass: disabled in the schedule (Django admin, Periodic tasks)"
    max_age = dt.timedelta(hours=settings.HEALTH_DAILY_PASS_MAX_AGE_HOURS)
    return jobs.freshness(DAILY_PASS_JOB, max_age=max_age, label="retro daily pass")


def failed_postings():
    # (status, submitted_at, id) serves the count from the index alone.
    yield ("retro_claim",), RetroClaim.objects.filter(status=RetroClaimStatus.TRANSACTION_FAILED).count()


def import_rows():
    """Rows each kind of import finished in the last 24 hours, per outcome (imported, duplicate, rejected)."""
    since = timezone.now() - THROUGHPUT_WINDOW
    done = RetroImportBatch.objects.filter(finished_at__gte=since, state=RetroImportBatch.State.DONE)
    for row in done.values("kind").annotate(
        imported=Sum("rows_imported"), duplicate=Sum("rows_duplicate"), rejected=Sum("rows_rejected")
    ):
        for outcome in ("imported", "duplicate", "rejected"):
            yield (row["kind"], outcome), row[outcome] or 0


def import_throughput():
    """Rows per second of each kind's latest finished import (the file's rows over its wall time)."""
    done = RetroImportBatch.objects.filter(state=RetroImportBatch.State.DONE, finished_at__isnull=False)
    for batch in done.order_by("kind", "-finished_at", "-id").distinct("kind"):
        seconds = (batch.finished_at - batch.started_at).total_seconds()
        yield (batch.kind,), round(batch.rows_done / seconds, 1) if seconds > 0 else 0


def imports_by_state():
    since = timezone.now() - THROUGHPUT_WINDOW
    recent = RetroImportBatch.objects.filter(started_at__gte=since).values("state").annotate(n=Count("pk"))
    for row in recent.order_by():
        yield (row["state"],), row["n"]


HEALTH = [HealthPart("retro_daily_pass", daily_pass_health)]
GAUGES = [
    BusinessGauge(
        "retro-failed-postings", "loyalty_failed_postings",
        "Items whose points could not be posted and wait for a person, per source.", failed_postings, ("source",),
    ),
    BusinessGauge(
        "retro-import-rows", "loyalty_import_rows_last_24h",
        "Rows of imports finished in the last 24 hours, per kind and outcome.", import_rows, ("kind", "outcome"),
    ),
    BusinessGauge(
        "retro-import-throughput", "loyalty_import_last_rows_per_second",
        "Rows per second of the latest finished import of each kind.", import_throughput, ("kind",),
    ),
    BusinessGauge(
        "retro-imports", "loyalty_imports_last_24h",
        "Imports started in the last 24 hours, per state (running, done, failed).", imports_by_state, ("state",),
    ),
]  # fmt: skip
