"""Search filters for the retro transaction pool (the API's "search an older transaction", seed 003)."""

import django_filters
from django.core.exceptions import ValidationError

from loyalty.models import Program
from retro import keys
from retro.imports.rows import DEFAULT_TRANSACTION_TYPE
from retro.models import RetroTransaction

KEY_FILTERS = ("location_code", "transaction_date", "reference", "amount", "currency", "register_id", "card_last_four")


class RetroTransactionFilter(django_filters.FilterSet):
    program = django_filters.ModelChoiceFilter(
        queryset=Program.objects.all(), to_field_name="code", required=True, help_text="Program code."
    )
    transaction_type = django_filters.CharFilter(help_text="Default: any type.")
    source_id = django_filters.CharFilter()
    location_code = django_filters.CharFilter(lookup_expr="iexact")
    transaction_date = django_filters.DateFilter(field_name="occurred_on", help_text="Local date, YYYY-MM-DD.")
    reference = django_filters.CharFilter(lookup_expr="iexact", help_text="Reference / receipt number.")
    amount = django_filters.NumberFilter()
    currency = django_filters.CharFilter(lookup_expr="iexact")
    register_id = django_filters.CharFilter(lookup_expr="iexact")
    card_last_four = django_filters.CharFilter()
    date_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte", help_text="Local date, from.")
    date_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte", help_text="Local date, to.")
    claimed = django_filters.BooleanFilter(field_name="claimed_by", lookup_expr="isnull", exclude=True)

    class Meta:
        model = RetroTransaction
        fields = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        match_key = self._match_key()
        # All key fields given: the stored key narrows the search to one index lookup.
        return queryset.filter(match_key=match_key) if match_key else queryset

    def _match_key(self):
        data = self.form.cleaned_data
        values = {name: data.get(name) for name in KEY_FILTERS if data.get(name) not in (None, "")}
        if not values:
            return None
        transaction_type = data.get("transaction_type") or DEFAULT_TRANSACTION_TYPE
        try:
            return keys.normalise_key(data["program"], transaction_type, values)
        except ValidationError:
            return None  # some key field missing: the plain field filters decide
