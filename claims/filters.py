"""The Membership Claims search (seed 002): the Main criteria, the Advanced ones, the grid's sort."""

import functools

import django_filters
from django import forms
from django.db.models import Q

from claims.models import ClaimDecision, ClaimOrigin, ClaimSource, ClaimStatus, ClaimType, MembershipClaim
from claims.selectors import claim_owners, claim_submitters
from loyalty import sql
from loyalty.filters import FormClassOnce, style_fields
from loyalty.models import Location, Program
from loyalty.selectors import membership_ids_named_at_most
from loyalty.widgets import speed_up

DATE = forms.DateInput(attrs={"type": "date"})
MAIN = ("name", "program", "membership_number", "claim_type", "source", "owner", "number", "hotel", "reservation")
ADVANCED = ("submitter", "status", "closed_on", "claim_date_from", "claim_date_to", "reply_by_from", "reply_by_to",
            "arrival_from", "arrival_to", "departure_from", "departure_to", "decision")  # fmt: skip
# Sort keys the grid offers: each is read newest first then by id, so pages never repeat a row.
SORTS = {
    "number": ("id",),
    "claim_date": ("claim_date", "id"),
    "reply_by": ("reply_by", "id"),
    "status": ("status", "id"),
    "arrival": ("arrival_date", "id"),
    "departure": ("departure_date", "id"),
}
DEFAULT_SORT = "-number"
MEMBERS_NAMED_CAP = 1000
CHOICE_LISTS = ("program", "claim_type", "owner", "hotel", "submitter", "origin")


def _submitters(request=None):
    return claim_submitters().order_by("username")


class ClaimSearch(FormClassOnce, django_filters.FilterSet):
    name = django_filters.CharFilter(method="filter_name", label="Name", max_length=100,
                                     help_text="Member name, member number or membership number.")  # fmt: skip
    program = django_filters.ModelChoiceFilter(
        queryset=Program.objects.order_by("name"), label="Membership type", empty_label="Any"
    )
    membership_number = django_filters.CharFilter(
        field_name="membership__membership_number", lookup_expr="iexact", label="Membership number", max_length=30
    )
    claim_type = django_filters.ModelChoiceFilter(
        queryset=ClaimType.objects.all(), label="Claim type", empty_label="Any"
    )
    source = django_filters.ChoiceFilter(choices=ClaimSource.choices, label="Claim source", empty_label="Any")
    owner = django_filters.ModelChoiceFilter(
        queryset=lambda request: claim_owners().order_by("username"), label="Owner", empty_label="Any"
    )
    number = django_filters.NumberFilter(field_name="id", label="Claim number", min_value=1, max_value=2**62)
    hotel = django_filters.ModelChoiceFilter(
        queryset=Location.objects.filter(kind=Location.Kind.HOTEL).order_by("code"), label="Property", empty_label="Any"
    )
    reservation = django_filters.CharFilter(method="filter_reservation", label="Reservation number", max_length=30)
    # Advanced
    submitter = django_filters.ModelChoiceFilter(
        field_name="submitted_by", queryset=_submitters, label="Submitter", empty_label="Any"
    )
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices, label="Status", empty_label="Any")
    closed_on = django_filters.DateFilter(label="Close date", widget=DATE)
    claim_date_from = django_filters.DateFilter(field_name="claim_date", lookup_expr="gte", label="Claim date ≥",
                                                widget=DATE)  # fmt: skip
    claim_date_to = django_filters.DateFilter(field_name="claim_date", lookup_expr="lte", label="Claim date ≤",
                                              widget=DATE)  # fmt: skip
    reply_by_from = django_filters.DateFilter(field_name="reply_by", lookup_expr="gte", label="Reply by ≥", widget=DATE)
    reply_by_to = django_filters.DateFilter(field_name="reply_by", lookup_expr="lte", label="Reply by ≤", widget=DATE)
    arrival_from = django_filters.DateFilter(field_name="arrival_date", lookup_expr="gte", label="Arrival ≥",
                                             widget=DATE)  # fmt: skip
    arrival_to = django_filters.DateFilter(field_name="arrival_date", lookup_expr="lte", label="Arrival ≤", widget=DATE)
    departure_from = django_filters.DateFilter(field_name="departure_date", lookup_expr="gte", label="Departure ≥",
                                               widget=DATE)  # fmt: skip
    departure_to = django_filters.DateFilter(field_name="departure_date", lookup_expr="lte", label="Departure ≤",
                                             widget=DATE)  # fmt: skip
    decision = django_filters.ChoiceFilter(
        choices=[(ClaimDecision.APPROVED, "Approve"), (ClaimDecision.REJECTED, "Reject")],
        label="Approve/Reject", empty_label="All",
    )  # fmt: skip
    origin = django_filters.ModelChoiceFilter(queryset=ClaimOrigin.objects.all(), label="Origin", empty_label="Any")
    sort = django_filters.CharFilter(method="filter_sort", widget=forms.HiddenInput)

    class Meta:
        model = MembershipClaim
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self.form)
        self.form.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.form.fields["submitter"].label_from_instance = lambda user: user.get_full_name() or user.username
        for name in CHOICE_LISTS:  # the same querysets on every request: their options read by prepared statements
            field = self.form.fields[name]
            field.read_options = functools.partial(sql.instances_of, f"claims.search.{name}", field.queryset)
        speed_up(self.form)

    @property
    def main_fields(self):
        return [self.form[name] for name in MAIN]

    @property
    def advanced_fields(self):
        return [self.form[name] for name in (*ADVANCED, "origin")]

    @property
    def advanced_open(self):
        data = self.data or {}
        return bool(data.get("advanced")) or any(data.get(name) for name in (*ADVANCED, "origin"))

    def has_criteria(self):
        data = self.data or {}
        return any(data.get(name) for name in (*MAIN, *ADVANCED, "origin"))

    def filter_name(self, queryset, name, value):
        # The member's name (or number), found first, then their claims by the membership index.
        ids = membership_ids_named_at_most(value, cap=MEMBERS_NAMED_CAP)
        if ids is None:
            # Said once the filters ran (the form's data may not change while django-filter reads it).
            self.name_problem = f"More than {MEMBERS_NAMED_CAP:,} members have this name: add a word."
            return queryset.none()
        return queryset.filter(membership_id__in=ids)

    def filter_reservation(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(property_reservation_number=value) | Q(central_reservation_number=value))

    def filter_sort(self, queryset, name, value):
        return queryset  # applied in `qs`, after every filter

    @property
    def sort_key(self):
        value = (self.data or {}).get("sort") or DEFAULT_SORT
        return value if value.lstrip("-") in SORTS else DEFAULT_SORT

    name_problem = ""

    @property
    def qs(self):
        queryset = super().qs
        if self.name_problem and "name" not in self.form.errors:
            self.form.add_error("name", self.name_problem)
        sort = self.sort_key
        columns = SORTS[sort.lstrip("-")]
        return queryset.order_by(*(f"-{c}" if sort.startswith("-") else c for c in columns))
