"""Celery tasks of the loyalty core: thin, safe to run twice."""

from celery import shared_task

from loyalty.background import relay_outbox


@shared_task(name="loyalty.relay_outbox")
def relay_outbox_task():
    """Send what waits in the outbox (every minute from beat; see CELERY_BEAT_SCHEDULE)."""
    return relay_outbox()
