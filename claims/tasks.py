"""Celery tasks of the claims app: thin, safe to run twice (ClaimsConfig.ready() registers the names)."""

from celery import shared_task

from claims.stays import calculate_due_stays


@shared_task(name="claims.calculate_stays")
def calculate_stays():
    """The daily stay calculation (scheduled by django-celery-beat; see migration 0002)."""
    return str(calculate_due_stays())
