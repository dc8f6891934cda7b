"""Filters for the Retro Claim Activity screen (and its CSV export)."""

import django_filters
from django import forms
from django.db.models import Q

from loyalty.models import Program, normalise_search_text
from retro.models import RetroClaim, RetroClaimStatus

# Sort keys the grid accepts, and the columns they order by; anything else is ignored.
SORT_FIELDS = (
    ("number", "number"),
    ("submitted_at", "submitted"),
    ("status", "status"),
    ("membership__member__search_name", "member"),
)


def style_fields(form):
    """Bootstrap's small inputs and selects on every filter field."""
    for field in form.fields.values():
        is_select = isinstance(field.widget, forms.Select)
        field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"


def stable_order(queryset, *, default, tie):
    """The chosen sort (or `default`), then `tie`: pages never repeat or skip a row."""
    return queryset.order_by(*(list(queryset.query.order_by) or [default]), tie)


class RetroClaimFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RetroClaimStatus.choices, empty_label="Any status")
    channel = django_filters.ChoiceFilter(choices=RetroClaim.Channel.choices, empty_label="Any channel")
    program = django_filters.ModelChoiceFilter(queryset=Program.objects.all(), empty_label="Any program")
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__gte",
        label="Submitted from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__lte",
        label="Submitted to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    member = django_filters.CharFilter(method="filter_member", label="Member number or name")
    sort = django_filters.OrderingFilter(fields=SORT_FIELDS, label="Sort")

    class Meta:
        model = RetroClaim
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self.form)

    def filter_member(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(membership__member__member_number__iexact=value)
            | Q(membership__membership_number__iexact=value)
            | Q(membership__member__search_name__contains=normalise_search_text(value))
        )

    @property
    def qs(self):
        return stable_order(super().qs, default="-submitted_at", tie="-id")


class RetroApprovalFilter(django_filters.FilterSet):
    """Filters of the Retro approvals queue: which program, who, how much."""

    program = django_filters.ModelChoiceFilter(queryset=Program.objects.all(), empty_label="Any program")
    member = django_filters.CharFilter(method="filter_member", label="Member number or name")
    min_points = django_filters.NumberFilter(field_name="estimated_points", lookup_expr="gte", label="Points from")
    max_points = django_filters.NumberFilter(field_name="estimated_points", lookup_expr="lte", label="Points up to")
    sort = django_filters.OrderingFilter(
        fields=(("submitted_at", "submitted"), ("estimated_points", "points")),
        field_labels={"submitted": "Oldest first", "-submitted": "Newest first", "points": "Fewest points",
                      "-points": "Most points"},
        empty_label="Oldest first",
        label="Order",
    )  # fmt: skip

    class Meta:
        model = RetroClaim
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self.form)

    filter_member = RetroClaimFilter.filter_member

    @property
    def qs(self):
        # Oldest first by default: the queue is worked in the order claims arrived.
        return stable_order(super().qs, default="submitted_at", tie="id")
