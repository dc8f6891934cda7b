"""What the membership claims app adds to /health/ and /metrics: its daily stay calculation, failed postings."""

import datetime as dt

from django.conf import settings
from django_celery_beat.models import PeriodicTask

from claims.models import Stay, StayException
from loyalty import jobs
from loyalty.plugins import BusinessGauge, HealthPart

STAY_CALCULATION_JOB = "claims.calculate_stays"  # the Celery task's name: it records its runs under it


def stay_calculation_health():
    if not PeriodicTask.objects.filter(task=STAY_CALCULATION_JOB, enabled=True).exists():
        return True, "stay calculation: disabled in the schedule (Django admin, Periodic tasks)"
    max_age = dt.timedelta(hours=settings.HEALTH_DAILY_PASS_MAX_AGE_HOURS)
    return jobs.freshness(STAY_CALCULATION_JOB, max_age=max_age, label="daily stay calculation")


def failed_postings():
    # The partial index stay_calculation_failed keeps this count small however many stays there are.
    failed = Stay.objects.filter(exception=StayException.CALCULATION_FAILED, activity__isnull=True)
    yield ("stay",), failed.count()


HEALTH = [HealthPart("stay_calculation", stay_calculation_health)]
GAUGES = [
    BusinessGauge(
        "claims-failed-postings", "loyalty_failed_postings",
        "Items whose points could not be posted and wait for a person, per source.", failed_postings, ("source",),
    ),
]  # fmt: skip
