"""Filters for the Retro Claim Activity screen (and its CSV export)."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from loyalty.filters import style_fields
from loyalty.models import Program
from loyalty.selectors import membership_ids_named, membership_ids_named_at_most
from retro.models import RetroClaim, RetroClaimStatus, RetroTransaction
from retro.services import claim_number

# Sort keys the grid accepts, and the columns each orders by; anything else is ignored. The later
# columns break ties in the sort's own direction, so one index serves a sort both ways: the number's
# unique index, submitted_at's, (status, submitted_at, id) and (member_name, id).
SORT_FIELDS = (
    ("number", "number"),
    ("submitted_at", "submitted"),
    ("status", "status"),
    ("member_name", "member"),
)
SORT_ORDERS = {
    "number": ("number", "id"),
    "submitted": ("submitted_at", "id"),
    "status": ("status", "submitted_at", "id"),
    "member": ("member_name", "id"),
}
SORT_CHOICES = {*SORT_ORDERS, *(f"-{key}" for key in SORT_ORDERS)}
DEFAULT_SORT = "-submitted"
# A status, program or channel filter is written as a one-value range (>= v AND <= v, not = v, which
# the planner would fold into a constant and drop from the ORDER BY) and leads the ORDER BY of the
# sorts an index serves with it, so the page comes off e.g. (status, submitted_at, id) in order.
# Written as an equality, the planner prefers to walk submitted_at's (or number's) own index and
# skip the other rows, expecting the wanted ones evenly spread; but Not Matched claims are all old,
# Outstanding ones all recent and a new program's all new, so that walk could read most of the table.
LEADING_FILTERS = {  # filter: (its column, the sorts an index serves with it first)
    "status": ("status", ("submitted", "status", "number")),
    "program": ("program_id", ("submitted", "number")),
    "channel": ("channel", ("submitted", "status", "number")),
}
NEEDS_KEY_VALUES = "missing"
MEMBERS_NAMED_CAP = 1000


def stable_order(queryset, *, default, tie):
    """The chosen sort (or `default`), then `tie`: pages never repeat or skip a row."""
    return queryset.order_by(*(list(queryset.query.order_by) or [default]), tie)


def sort_claims(queryset, sort, *, leading=None, range_first=False):
    """Order by a grid sort key ("status", "-member"…), ties broken in the same direction.

    `leading`: a column the list is filtered to one value of, put first so an index on it serves the sort.
    `range_first`: the list is a date range; it is read off the submitted_at index and sorted on its own.
    Claim numbers and statuses grow with time, so an index walk in number (or status) order would pass
    most of the table before it reaches a recent week; sorting by an expression (lower() of text that is
    already of one case, so the order is the same) keeps the planner from choosing that walk.
    """
    descending = sort.startswith("-")
    columns = SORT_ORDERS[sort.lstrip("-")]
    if leading and leading not in columns:
        columns = (leading, *columns)
    if range_first and columns[0] in UNINDEXED_IN_A_RANGE:
        ordering = [Lower(columns[0]), *columns[1:]]
        return queryset.order_by(*(o.desc() if descending else o.asc() for o in map(_expression, ordering)))
    return queryset.order_by(*(f"-{column}" if descending else column for column in columns))


# Text columns whose sort, in a date range, is done on the range's rows (see sort_claims).
UNINDEXED_IN_A_RANGE = {"number", "status"}


def _expression(column):
    return column if hasattr(column, "resolve_expression") else F(column)


def start_of_day(day):
    """The first instant of `day` in the current time zone, or None past the end of the calendar."""
    try:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    except (OverflowError, ValueError):
        return None


class RetroClaimFilterForm(forms.Form):
    membership_ids = None  # the memberships the member box names, found once (RetroClaimFilter.filter_member)

    def clean_member(self):
        value = self.cleaned_data.get("member", "")
        if not value:
            return value
        # A name that fits thousands of members ("l", "mart", typed a letter at a time) would read
        # all their claims: ask for more of it, as the member search does past its cap.
        self.membership_ids = membership_ids_named_at_most(value, cap=MEMBERS_NAMED_CAP)
        if self.membership_ids is None:
            raise forms.ValidationError(
                f"More than {MEMBERS_NAMED_CAP:,} members have “{value.strip()}” in their name: type more of it, "
                "or a member or membership number."
            )
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("submitted_from"), data.get("submitted_to")
        if start and end and start > end:
            raise forms.ValidationError("“Submitted from” is after “Submitted to”: no claim can be in between.")
        return data


class RetroClaimFilter(django_filters.FilterSet):
    """The Retro Claim Activity filters. A value that cannot be read lists no claim, never every claim."""

    status = django_filters.ChoiceFilter(
        choices=RetroClaimStatus.choices, empty_label="Any status", method="filter_one_value"
    )
    channel = django_filters.ChoiceFilter(
        choices=RetroClaim.Channel.choices, empty_label="Any channel", method="filter_one_value"
    )
    program = django_filters.ModelChoiceFilter(
        queryset=Program.objects.all(), empty_label="Any program", method="filter_one_value"
    )
    # Day boundaries compared with submitted_at itself (not its date), so the range reads the index.
    submitted_from = django_filters.DateFilter(
        method="filter_submitted_from", label="Submitted from", widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = django_filters.DateFilter(
        method="filter_submitted_to", label="Submitted to", widget=forms.DateInput(attrs={"type": "date"})
    )
    member = django_filters.CharFilter(method="filter_member", label="Member number or name", max_length=100)
    claim = django_filters.CharFilter(method="filter_claim", label="Claim number", max_length=30)
    key_values = django_filters.ChoiceFilter(
        choices=[(NEEDS_KEY_VALUES, "Needs key values")],
        empty_label="Any",
        method="filter_key_values",
        label="Key values",
    )
    sort = django_filters.OrderingFilter(fields=SORT_FIELDS, label="Sort", method="filter_sort")

    class Meta:
        model = RetroClaim
        form = RetroClaimFilterForm
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and data.get("sort") and data.get("sort") not in SORT_CHOICES:
            # The sort comes from the column headers, never typed: an unknown one is ignored, not an error.
            data = data.copy()
            data.pop("sort")
        super().__init__(data, *args, **kwargs)
        style_fields(self.form)

    def filter_submitted_from(self, queryset, name, value):
        start = start_of_day(value)
        return queryset if start is None else queryset.filter(submitted_at__gte=start)

    def filter_submitted_to(self, queryset, name, value):
        end = start_of_day(value + dt.timedelta(days=1)) if value < dt.date.max else None
        return queryset if end is None else queryset.filter(submitted_at__lt=end)

    def filter_member(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Ids RetroClaimFilterForm found while validating; other forms (the approvals queue's) a subquery.
        ids = getattr(self.form, "membership_ids", None)
        return queryset.filter(membership_id__in=membership_ids_named(value) if ids is None else ids)

    def filter_claim(self, queryset, name, value):
        number = value.strip().upper()
        numbers = {number}
        if number.isdigit():
            numbers.add(claim_number(int(number)))  # "123" read out over the phone is RC00000123
        return queryset.filter(number__in=numbers)

    def filter_key_values(self, queryset, name, value):
        # A key change the claim's values do not fit gave it an unmatchable key ("!c<id>", retro.keys).
        return queryset.filter(match_key__startswith="!")

    def filter_one_value(self, queryset, name, value):
        column, _ = LEADING_FILTERS[name]
        value = getattr(value, "pk", value)
        return queryset.filter(**{f"{column}__gte": value, f"{column}__lte": value})  # see LEADING_FILTERS

    def filter_sort(self, queryset, name, value):
        return queryset  # applied by qs, which knows the other filters

    # True when a filter's index serves the sort (LEADING_FILTERS): the page comes off it in order.
    # Otherwise a short list is best sorted on its own (loyalty.pagination.CappedPaginator's narrow).
    sorted_by_filter_index = False

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()  # the grid shows the form's errors instead
        data = self.form.cleaned_data if self.is_bound else {}
        sort = (data.get("sort") or [DEFAULT_SORT])[0]
        key = sort.lstrip("-")
        in_a_range = bool(data.get("submitted_from") or data.get("submitted_to")) and key != "submitted"
        served = [column for name, (column, sorts) in LEADING_FILTERS.items() if data.get(name) and key in sorts]
        if in_a_range:
            served = []  # the date range's index reads the rows; they are sorted on their own (sort_claims)
        self.sorted_by_filter_index = bool(served)
        return sort_claims(super().qs, sort, leading=served[0] if served else None, range_first=in_a_range)


class RetroApprovalFilter(django_filters.FilterSet):
    """Filters of the Retro approvals queue: which program, who, how much."""

    program = django_filters.ModelChoiceFilter(queryset=Program.objects.all(), empty_label="Any program")
    member = django_filters.CharFilter(method="filter_member", label="Member number or name")
    min_points = django_filters.NumberFilter(field_name="estimated_points", lookup_expr="gte", label="Points from")
    max_points = django_filters.NumberFilter(field_name="estimated_points", lookup_expr="lte", label="Points up to")
    # Each order once: no choice is the default (oldest first), so "submitted" itself is not offered.
    sort = django_filters.OrderingFilter(
        fields=(("submitted_at", "submitted"), ("estimated_points", "points")),
        choices=[("-submitted", "Newest first"), ("-points", "Most points"), ("points", "Fewest points")],
        empty_label="Oldest first",
        label="Order",
    )

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


class RetroPoolFilter(django_filters.FilterSet):
    """Search of the retro pool before claiming (seed 003's "search for an older transaction"), in one program.

    `locations` ((code, label) pairs) and `transaction_types` come from the program; the queryset is
    already limited to what the member could claim (retro.selectors.retro_pool_for_claims).
    """

    reference = django_filters.CharFilter(
        field_name="reference", lookup_expr="icontains", label="Reference / receipt number"
    )
    date_from = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="gte", label="Date from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="lte", label="Date to", widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = django_filters.NumberFilter(field_name="amount", label="Amount")
    location = django_filters.ChoiceFilter(field_name="location_code", empty_label="Any location", label="Location")
    transaction_type = django_filters.ChoiceFilter(empty_label="Any type", label="Type")
    show = django_filters.ChoiceFilter(
        choices=[("all", "Claimed ones too")], empty_label="Unclaimed only", method="filter_show", label="Show"
    )

    class Meta:
        model = RetroTransaction
        fields = []

    def __init__(self, *args, locations=(), transaction_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Set before self.form is first built, which reads each filter's choices.
        self.filters["location"].extra["choices"] = list(locations)
        if len(transaction_types) > 1:
            self.filters["transaction_type"].extra["choices"] = [(t, t.capitalize()) for t in transaction_types]
        else:
            del self.filters["transaction_type"]  # one type: nothing to choose
        style_fields(self.form)

    def filter_show(self, queryset, name, value):
        return queryset  # "all": nothing to narrow; unclaimed only is the default, applied in qs

    @property
    def qs(self):
        queryset = super().qs
        if not self.is_bound or self.form.cleaned_data.get("show") != "all":
            queryset = queryset.filter(claimed_by__isnull=True)
        return queryset
