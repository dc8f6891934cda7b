"""Celery tasks of the retro app: thin wrappers that take ids and call a service; safe to run twice.

Services queue them by name (loyalty.background.queue_task); RetroConfig.ready() imports this
module so the names are registered in every process.
"""

from loyalty.background import task
from loyalty.jobs import recorded_run
from retro.flights.notifications import send_outcome_email as send_flight_outcome_email
from retro.imports.tasks import import_uploaded_file  # noqa: F401 - registers retro.import_uploaded_file
from retro.notifications import send_outcome_email, send_outcome_emails
from retro.reprocessing import run_daily_pass
from retro.services import recompute_stored_keys


@task("retro.reprocess_retro_claims")
def reprocess_retro_claims():
    """The daily pass (scheduled by django-celery-beat; see migration 0003), its run recorded for /health/."""
    with recorded_run("retro.reprocess_retro_claims") as run:
        run.summary = str(run_daily_pass())
    return run.summary


@task("retro.send_retro_claim_email")
def send_retro_claim_email(claim_id, outcome):
    return send_outcome_email(claim_id=claim_id, outcome=outcome)


@task("retro.send_retro_claim_emails")
def send_retro_claim_emails(pairs):
    """[[claim_id, outcome], ...]: one task per batch of the daily pass."""
    return send_outcome_emails(pairs)


@task("retro.recompute_retro_keys")
def recompute_retro_keys(key_id, version):
    recompute_stored_keys(key_id=key_id, version=version)


@task("retro.send_flight_claim_email")
def send_flight_claim_email(claim_id):
    return send_flight_outcome_email(claim_id)
