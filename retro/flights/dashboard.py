"""The Flights Approval dashboard: how the queue stands against the program's service level."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from retro.models import FlightClaimStatus, NameMatch

P = FlightClaimStatus
DEFAULT_SERVICE_DAYS = 5
DAYS_CHARTED = 30


def business_days_before(moment, days):
    """The moment `days` business days (Monday to Friday) before `moment`."""
    while days > 0:
        moment -= dt.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def within_service_level(submitted, decided, days):
    return decided <= _business_days_after(submitted, days)


def _deadline_offsets(days):
    """By weekday of submission, how long `days` business days last (the same for every Monday, …)."""
    monday = dt.datetime(2024, 1, 1)  # a Monday
    return [
        _business_days_after(monday + dt.timedelta(days=n), days) - (monday + dt.timedelta(days=n)) for n in range(7)
    ]


def _business_days_after(moment, days):
    while days > 0:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


@dataclass
class Dashboard:
    pending: int
    oldest_days: int | None
    decided: int
    within_service: int | None  # percent of the last 30 days' decisions made within the service level
    mismatch_share: int | None  # percent of pending claims whose name did not match
    service_days: int
    per_day: list  # [(date, approved, rejected)] oldest first, DAYS_CHARTED days

    @property
    def bars(self):
        """Each day's bar in a 300 × 60 drawing: approvals at the bottom, rejections stacked on them."""
        top = max([1, *(a + r for _, a, r in self.per_day)])
        bars = []
        for n, (day, approved, rejected) in enumerate(self.per_day):
            approved_h, rejected_h = round(56 * approved / top, 1), round(56 * rejected / top, 1)
            bars.append({
                "day": day, "approved": approved, "rejected": rejected, "x": n * 10 + 1,
                "approved_y": round(58 - approved_h, 1), "approved_h": approved_h,
                "rejected_y": round(58 - approved_h - rejected_h, 1), "rejected_h": rejected_h,
            })  # fmt: skip
        return bars


def dashboard(claims, *, service_days=DEFAULT_SERVICE_DAYS, now=None):
    """Figures of the claims the user may see (`claims`: a FlightClaim queryset)."""
    now = now or timezone.now()
    pending = claims.filter(status=P.PENDING)
    # Three index reads, not one pass over every pending claim: the count reads flight_claim_queue alone,
    # the oldest is its first entry, the name mismatches have a partial index of their own.
    count = pending.count()
    oldest = pending.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    mismatched = pending.exclude(_matched_names()).count()
    since = now - dt.timedelta(days=DAYS_CHARTED)
    recent = claims.filter(decided_at__gte=since)
    offsets = _deadline_offsets(service_days)
    decided = list(recent.values_list("submitted_at", "decided_at"))
    in_time = sum(1 for submitted, when in decided if when <= submitted + offsets[submitted.weekday()])
    per_day = recent.annotate(day=TruncDate("decided_at")).values_list("day", "status").annotate(n=Count("id"))
    counts = {(day, status): n for day, status, n in per_day.order_by()}
    today = timezone.localdate(now)
    days = [today - dt.timedelta(days=n) for n in range(DAYS_CHARTED - 1, -1, -1)]
    return Dashboard(
        pending=count,
        oldest_days=(now - oldest).days if oldest else None,
        decided=len(decided),
        within_service=round(100 * in_time / len(decided)) if decided else None,
        mismatch_share=round(100 * mismatched / count) if count else None,
        service_days=service_days,
        per_day=[(day, counts.get((day, P.APPROVED), 0), counts.get((day, P.REJECTED), 0)) for day in days],
    )


def _matched_names():
    return Q(name_match__in=[NameMatch.MATCH, NameMatch.MANUAL])
