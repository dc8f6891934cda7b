"""Scheduled jobs say when they ran and how (JobRun), so a late or failed daily pass is seen, not guessed."""

import datetime as dt
import logging
import time
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from loyalty.models import JobRun

logger = logging.getLogger(__name__)


@contextmanager
def recorded_run(job):
    """Record a run of `job` around the block; set `.summary` on what it yields to say what the run did.

    The start row is written and committed before the work (in its own transaction, the work being
    outside any), so a run that dies half-way still shows as started and never finished.
    """
    with transaction.atomic():
        run = JobRun.objects.create(job=job, started_at=timezone.now())
    started = time.perf_counter()
    try:
        yield run
    except BaseException as error:
        _finish(run, started, succeeded=False, summary=f"{type(error).__name__}: {error}"[:2000])
        logger.exception("%s failed after %.1f s", job, run.seconds)
        raise
    _finish(run, started, succeeded=True, summary=run.summary)
    logger.info("%s succeeded in %.1f s: %s", job, run.seconds, run.summary)


def _finish(run, started, *, succeeded, summary):
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - started, 3)
    run.succeeded = succeeded
    run.summary = summary or ""
    run.save(update_fields=["finished_at", "seconds", "succeeded", "summary"])


def last_run(job):
    """The latest finished run of `job`, or None."""
    return JobRun.objects.filter(job=job, finished_at__isnull=False).order_by("-finished_at", "-id").first()


def last_success(job):
    return JobRun.objects.filter(job=job, succeeded=True).order_by("-finished_at", "-id").first()


def freshness(job, *, max_age, label):
    """A health part's answer for a daily job: (healthy, detail).

    Unhealthy when it has not succeeded for longer than `max_age`. A job that has never run yet
    (a new installation, before its first night) is healthy but says so; its metric is absent, which
    the alert on `loyalty_job_last_success_timestamp_seconds` catches (docs/operations.md).
    """
    success, latest = last_success(job), last_run(job)
    now = timezone.now()
    if success is None:
        if latest is None:
            return True, f"{label}: no run recorded yet"
        failed_at = _when(latest.finished_at)
        return False, f"{label} has never succeeded; its last run failed at {failed_at}: {latest.summary}"
    age = now - success.finished_at
    if age > max_age:
        detail = f"{label} last succeeded {_hours(age)} ago (at {_when(success.finished_at)}), over {_hours(max_age)}"
        if latest is not None and latest.succeeded is False:
            detail += f"; the last run failed: {latest.summary}"
        return False, detail
    return True, f"{label} succeeded {_hours(age)} ago in {success.seconds:.1f} s"


def _when(moment):
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _hours(delta: dt.timedelta):
    return f"{delta.total_seconds() / 3600:.1f} h"
