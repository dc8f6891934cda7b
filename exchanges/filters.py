"""The Exchanges screen's filters: partner, type, the booking's status, dates, PNR."""

import django_filters
from django import forms

from exchanges.models import PartnerClient, PointsOperation, RedemptionStatus

SELECT_CSS, INPUT_CSS = "form-select form-select-sm", "form-control form-control-sm"
DATE = forms.DateInput(attrs={"type": "date"})


class OperationFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        queryset=PartnerClient.objects.order_by("name"), label="Partner", empty_label="Any"
    )
    kind = django_filters.ChoiceFilter(choices=PointsOperation.Kind.choices, label="Type", empty_label="Any")
    status = django_filters.ChoiceFilter(
        field_name="redemption__status", choices=RedemptionStatus.choices, label="Booking status", empty_label="Any"
    )
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="From", widget=DATE)
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="To", widget=DATE)
    pnr = django_filters.CharFilter(method="filter_pnr", label="PNR", max_length=13)

    class Meta:
        model = PointsOperation
        fields = ["partner", "kind", "status", "date_from", "date_to", "pnr"]

    def filter_pnr(self, queryset, name, value):
        return queryset.filter(redemption__pnr=value.strip().upper())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", SELECT_CSS if select else INPUT_CSS)
