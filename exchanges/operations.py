"""What the exchanges app adds to /metrics: the manual-handling queue (failures after the point of no return)."""

from django.db.models import Count, Min
from django.utils import timezone

from exchanges.models import CaseStatus, ManualHandlingCase
from loyalty.plugins import BusinessGauge

OPEN = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS]


def _open_cases():
    # The partial index case_open_by_age serves both.
    cases = ManualHandlingCase.objects.filter(status__in=OPEN).order_by()
    return cases.aggregate(n=Count("pk"), since=Min("opened_at"))


def failed_postings():
    yield ("exchanges_manual_handling",), _open_cases()["n"]


def oldest_open_case():
    since = _open_cases()["since"]
    yield (), (timezone.now() - since).total_seconds() if since else 0


GAUGES = [
    BusinessGauge(
        "exchanges-failed-postings", "loyalty_failed_postings",
        "Items whose points could not be posted and wait for a person, per source.", failed_postings, ("source",),
    ),
    BusinessGauge(
        "exchanges-oldest-open-case", "loyalty_manual_handling_oldest_open_age_seconds",
        "How long the oldest open manual-handling case has waited (0 when none is open).", oldest_open_case,
    ),
]  # fmt: skip
