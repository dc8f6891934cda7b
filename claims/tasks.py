"""Celery tasks of the claims app: thin, safe to run twice (ClaimsConfig.ready() registers the names)."""

from django.conf import settings
from django.db import transaction

from claims.stays import calculate_due_stays
from loyalty.background import queue_task, task
from loyalty.jobs import recorded_run


@task("claims.calculate_stays")
def calculate_stays():
    """The daily stay calculation (scheduled by django-celery-beat; see migration 0002).

    It asks the outbox for STAY_CALCULATION_WORKERS - 1 more parts, one per worker process, then calculates
    too: the parts share the due stays, each batch locking its own (SKIP LOCKED), so the calculation uses
    every core the workers have and no stay is credited twice.
    """
    with recorded_run("claims.calculate_stays") as run:  # this part's run, for /health/ and /metrics
        with transaction.atomic():
            for _ in range(settings.STAY_CALCULATION_WORKERS - 1):
                queue_task("claims.calculate_stays_part")
        run.summary = str(calculate_due_stays())
    return run.summary


@task("claims.calculate_stays_part")
def calculate_stays_part():
    """One more worker on today's stay calculation (queued by calculate_stays)."""
    return str(calculate_due_stays())
