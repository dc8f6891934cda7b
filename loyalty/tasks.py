"""Celery tasks of the loyalty core: thin, safe to run twice."""


from loyalty import idempotency
from loyalty.background import relay_outbox, task
from loyalty.reconciliation import run_reconciliation


@task("loyalty.relay_outbox")
def relay_outbox_task():
    """Send what waits in the outbox (every minute from beat; see CELERY_BEAT_SCHEDULE)."""
    return relay_outbox()


@task("loyalty.purge_idempotency_keys")
def purge_idempotency_keys_task():
    """Forget idempotency keys past their retention (hourly from beat)."""
    return idempotency.purge_expired()


@task("loyalty.reconcile")
def reconcile_task():
    """The daily reconciliation (beat): every registered invariant, violations e-mailed to the admins."""
    return str(run_reconciliation(trigger="beat"))
