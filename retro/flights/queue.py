"""The Flights Approval queue (seed 000): supervisors approve or reject pending flight claims, one or many."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from loyalty.filters import style_fields
from loyalty.lifecycle.queue import DecisionQueueView
from retro.flights.dashboard import DEFAULT_SERVICE_DAYS, business_days_before, dashboard
from retro.flights.decisions import FLIGHT_CLAIM_APPROVALS
from retro.models import FlightClaim, FlightClaimStatus, FlightSettings, NameMatch

AGES = [("1", "Over 1 day"), ("3", "Over 3 days"), ("overdue", "Past the service level")]


def service_days(program_id=None):
    """The service level shown: the program's, or the strictest of all when several programs are listed."""
    settings = FlightSettings.objects.all()
    if program_id:
        settings = settings.filter(program_id=program_id)
    return min(settings.values_list("service_level_days", flat=True), default=DEFAULT_SERVICE_DAYS)


class FlightApprovalFilter(django_filters.FilterSet):
    flight_from = django_filters.DateFilter(
        field_name="flight_date", lookup_expr="gte", label="Flown from", widget=forms.DateInput(attrs={"type": "date"})
    )
    flight_to = django_filters.DateFilter(
        field_name="flight_date", lookup_expr="lte", label="Flown to", widget=forms.DateInput(attrs={"type": "date"})
    )
    carrier = django_filters.CharFilter(field_name="carrier", lookup_expr="iexact", label="Carrier", max_length=3)
    name_match = django_filters.ChoiceFilter(choices=NameMatch.choices, empty_label="Any name check", label="Name")
    age = django_filters.ChoiceFilter(choices=AGES, method="filter_age", empty_label="Any age", label="Waiting")
    submitter = django_filters.CharFilter(
        field_name="submitted_by__username", lookup_expr="iexact", label="Submitted by", max_length=150
    )
    manual_entry = django_filters.BooleanFilter(
        label="Manual entry",
        widget=forms.Select(choices=[("", "Feed or manual"), ("true", "Manual entries"), ("false", "From the feed")]),
    )

    class Meta:
        model = FlightClaim
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self.form)

    def filter_age(self, queryset, name, value):
        now = timezone.now()
        if value == "overdue":
            return queryset.filter(submitted_at__lt=business_days_before(now, service_days()))
        return queryset.filter(submitted_at__lt=now - dt.timedelta(days=int(value)))

    @property
    def qs(self):
        return super().qs.order_by("submitted_at", "id")  # oldest first: worked in the order claims arrived


class FlightApprovalQueue(DecisionQueueView):
    policy = FLIGHT_CLAIM_APPROVALS
    permission_required = "retro.approve_flightclaim"
    title = "Flights approval"
    intro = (
        "Flights claimed for members (seed 000's Retro Claim > Airline) and flights entered by hand. Approving posts "
        "the Flight Activity with the miles shown, valued on the flight date; rejecting needs a reason. You cannot "
        "decide claims you submitted, nor approve more miles than your role's limit for the program."
    )
    filterset_class = FlightApprovalFilter
    columns = ["Claim", "Submitted", "Member", "Flight and coupon", "Name check", "Miles"]
    numeric_columns = ("Miles",)
    row_template = "retro/flights/approval_row.html"
    template = "retro/flights/queue.html"
    page_size = 50

    def pending(self):
        overdue_before = business_days_before(timezone.now(), service_days())
        return (
            FlightClaim.objects.filter(status=FlightClaimStatus.PENDING)
            .select_related("program", "membership__member", "submitted_by")
            .annotate(
                queue_highlight=Case(
                    When(Q(submitted_at__lt=overdue_before), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
        )

    def extra_context(self):
        return {"dashboard": dashboard(FlightClaim.objects.all(), service_days=service_days())}
