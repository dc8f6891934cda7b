"""The member's transactions (seed 002's All Trx): stays, their points, adjustments and enrolments in one grid."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from claims.models import Stay, StayException
from loyalty import selectors as loyalty_selectors
from loyalty.models import Activity, Metric

LIMIT = 500  # the newest of each kind: a member's whole history, in practice
Z = Decimal(0)


@dataclass
class TransactionRow:
    record_type: str
    date: object  # what the grid sorts by: departure, or the activity's date
    stay: Stay | None = None
    activity: Activity | None = None
    membership: object = None
    hotel: object = None
    property_reservation_number: str = ""
    central_reservation_number: str = ""
    arrival: object = None
    departure: object = None
    card_number: str = ""
    level: str = ""
    transaction_date: object = None
    calculated: bool = False
    credited_on: object = None
    metrics: dict = field(default_factory=dict)
    exception: str = ""
    exception_label: str = ""

    @property
    def has_points(self):
        """An enrolment, or a stay not calculated yet, shows empty points columns rather than zeros."""
        return self.calculated and (self.activity is not None or self.stay is not None)

    def metric(self, name):
        return self.metrics.get(name, Z)

    @property
    def total_points(self):
        return int(sum(self.metric(m) for m in (Metric.BASE, Metric.BONUS, Metric.MISC)))

    @property
    def base_points(self):
        return int(self.metric(Metric.BASE))

    @property
    def bonus_points(self):
        return int(self.metric(Metric.BONUS))

    @property
    def misc_points(self):
        return int(self.metric(Metric.MISC))

    def _split(self, metric, kind):
        """(base, bonus) of a tier metric: an adjustment keeps its split, an earned stay's is all base."""
        attributes = self.activity.attributes if self.activity else {}
        if f"bonus_{kind}" in (attributes or {}):
            bonus = Decimal(attributes.get(f"bonus_{kind}") or 0)
            return self.metric(metric) - bonus, bonus
        return self.metric(metric), Z

    @property
    def stays_split(self):
        return self._split(Metric.STAYS, "stays")

    @property
    def nights_split(self):
        return self._split(Metric.NIGHTS, "nights")

    @property
    def revenue_split(self):
        return self._split(Metric.REVENUE, "revenue")


def member_stays(member):
    """Stays on the member's cards, and stays whose guest profile is the member's (another card's included)."""
    return (
        Stay.objects.filter(Q(membership__member=member) | Q(guest=member))
        .select_related("hotel", "membership__program", "program", "activity__tier")
        .order_by("-departure_date", "-id")
    )


def member_transactions(member, *, hotel=None, exception="", arrival=None, exceptions_enabled=True):
    """The grid's rows, newest first: a fixed number of queries whatever the member's history."""
    memberships = list(member.memberships.all())
    stays = member_stays(member)
    if hotel is not None:
        stays = stays.filter(hotel=hotel)
    if arrival is not None:
        stays = stays.filter(arrival_date=arrival)
    if exception:
        stays = stays.filter(exception=exception)
    stays = list(stays[:LIMIT])
    rows = [_stay_row(stay) for stay in stays]
    if not exception and arrival is None:
        shown = {stay.activity_id for stay in stays if stay.activity_id}
        # A calculated stay's activity is its stay's row: not listed twice.
        activities = [a for a in loyalty_selectors.activities_of_memberships([m.pk for m in memberships], limit=LIMIT)
                      if a.pk not in shown and (hotel is None or a.location_id == hotel.pk)
                      and not (a.kind == Activity.Kind.STAY and a.source == "stay")]  # fmt: skip
        rows += [_activity_row(activity) for activity in activities]
        if hotel is None:
            rows += [
                TransactionRow(record_type="Enrolment", date=m.joined_on, membership=m,
                               card_number=m.membership_number, transaction_date=m.joined_on, calculated=True)
                for m in memberships
            ]  # fmt: skip
    totals = loyalty_selectors.activity_metric_totals([r.activity.pk for r in rows if r.activity] +
                                                      [s.activity_id for s in stays if s.activity_id])  # fmt: skip
    for row in rows:
        activity_id = row.activity.pk if row.activity else (row.stay.activity_id if row.stay else None)
        row.metrics = totals.get(activity_id, {})
        if not exceptions_enabled:
            row.exception = row.exception_label = ""
    rows.sort(key=lambda r: (r.date, r.stay.pk if r.stay else 0), reverse=True)
    return rows


def _stay_row(stay):
    activity = stay.activity
    return TransactionRow(
        record_type=stay.get_status_display(), date=stay.departure_date, stay=stay, activity=None,
        membership=stay.membership, hotel=stay.hotel, property_reservation_number=stay.property_reservation_number,
        central_reservation_number=stay.central_reservation_number, arrival=stay.arrival_date,
        departure=stay.departure_date, card_number=stay.card_number,
        level=activity.tier.name if activity and activity.tier else "",
        transaction_date=stay.calculated_at.date() if stay.calculated_at else None, calculated=stay.calculated,
        exception=stay.exception, exception_label=stay.get_exception_display() if stay.exception else "",
    )  # fmt: skip


def _activity_row(activity):
    label = {Activity.Kind.ADJUSTMENT: "Adjustment", Activity.Kind.STAY: "Stay"}.get(
        activity.kind, activity.get_kind_display()
    )
    return TransactionRow(
        record_type=label, date=activity.occurred_on, activity=activity, membership=activity.membership,
        hotel=activity.location, card_number=activity.membership.membership_number,
        level=activity.tier.name if activity.tier else "", transaction_date=activity.posted_at.date(),
        calculated=True, credited_on=activity.posted_at.date(),
    )  # fmt: skip


EXCEPTION_CHOICES = [(value, label) for value, label in StayException.choices if value]
