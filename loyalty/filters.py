"""Filters the screens share: the Members screen's member search (django-filter), and the filter bars' styling."""

import copy

import django_filters
from django import forms
from django.db.models import Prefetch

from loyalty.models import Member, Membership, Program, TierPeriod
from loyalty.models.members import phone_digits
from loyalty.pagination import RowsById
from loyalty.selectors import member_name_condition
from loyalty.text import refuse_unreadable_text

# A search matching more members than this lists this many of them (sorted by name) and says "1,000+":
# the cost of a page never grows with the member base, and nobody pages through a thousand namesakes.
MATCH_CAP = 1000
PHONE_MIN_DIGITS = 4


def style_fields(form):
    """Bootstrap's small inputs and selects on every filter field (every app's filter bars look alike)."""
    for field in form.fields.values():
        is_select = isinstance(field.widget, forms.Select)
        field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"


class FormClassOnce:
    """A FilterSet whose form class is built once per process, not on every request: django-filter makes a
    form field per filter and a new class each time, a quarter of the claims search grid's time. Only for
    filtersets whose fields do not depend on the request. Each form still clones its fields, so a model
    choice's queryset is read afresh for every request.

    Its filters are copied for each search lightly (FiltersCopiedLightly), not deep-copied with every queryset
    they hold."""

    def __init__(self, *args, **kwargs):
        cls = type(self)
        if not isinstance(cls.__dict__.get("base_filters"), FiltersCopiedLightly):
            cls.base_filters = FiltersCopiedLightly(cls.base_filters)
        super().__init__(*args, **kwargs)

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_form_class_once")
        if form_class is None:
            form_class = cls._form_class_once = super().get_form_class()
        return form_class


class FiltersCopiedLightly(dict):
    """A FilterSet's base filters, which each search copies (FilterSet.__init__ deep-copies them): here each filter
    is copied with its own options dict, sharing their values (querysets, choices, widgets), which a filter only
    reads to build its form field. A filter with a method gets a method proxy of its own, to find its own
    FilterSet (django-filter's FilterMethod holds the filter it serves)."""

    def __deepcopy__(self, memo):
        filters = {}
        for name, base in self.items():
            copied = copy.copy(base)
            copied.extra = dict(base.extra)
            if base.method is not None:
                copied.method = base.method
            filters[name] = copied
        return filters


def search_phone_digits(value):
    """The digits a phone search looks for: leading zeros dropped, so a national "06 12 34 56 78" and an
    international "0033 6 12…" both find the stored "+33 6 12 34 56 78"."""
    return "".join(c for c in value if c in "0123456789").lstrip("0")


class MemberSearchForm(forms.Form):
    """Says what is wrong with a criterion that could find no one, instead of searching for it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        refuse_unreadable_text(self)

    def clean_name(self):
        value = self.cleaned_data.get("name", "")
        if value and member_name_condition(value) is None:
            raise forms.ValidationError("Enter letters of the name: punctuation and symbols alone find no one.")
        return value

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "")
        if value and len(search_phone_digits(value)) < PHONE_MIN_DIGITS:
            raise forms.ValidationError(f"Enter at least {PHONE_MIN_DIGITS} digits of the phone number.")
        return value


class MemberSearchFilter(django_filters.FilterSet):
    member_number = django_filters.CharFilter(
        label="Member number", method="filter_member_number", max_length=20
    )
    membership_number = django_filters.CharFilter(
        label="Membership number", method="filter_membership_number", max_length=30
    )
    name = django_filters.CharFilter(label="Name", method="filter_name", max_length=100)
    # The start of the address, any case: what a caller spells out.
    email = django_filters.CharFilter(label="Email", field_name="email", lookup_expr="istartswith", max_length=254)
    phone = django_filters.CharFilter(label="Phone", method="filter_phone", max_length=30)
    program = django_filters.ModelChoiceFilter(
        label="Program", queryset=Program.objects.all(), method="filter_program", empty_label="Any program"
    )
    status = django_filters.ChoiceFilter(label="Status", choices=Member.Status.choices, empty_label="Any status")

    class Meta:
        model = Member
        form = MemberSearchForm
        fields = []

    CRITERIA = ("member_number", "membership_number", "name", "email", "phone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

    def has_criteria(self):
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return any(data.get(name) for name in self.CRITERIA)

    # Memberships are matched with a subquery, not a join: no duplicate members, so no DISTINCT,
    # which would have to read every match before the first page.

    def filter_member_number(self, queryset, name, value):
        return queryset.filter(member_number__istartswith=value.strip())

    def filter_membership_number(self, queryset, name, value):
        numbers = Membership.objects.filter(membership_number__istartswith=value.strip())
        return queryset.filter(pk__in=numbers.values("member_id"))

    def filter_program(self, queryset, name, value):
        return queryset.filter(pk__in=Membership.objects.filter(program=value).values("member_id"))

    def filter_name(self, queryset, name, value):
        # Every word must appear in the accent-free name: "zoe lefev" finds Zoë Lefèvre-Martin.
        return queryset.filter(member_name_condition(value))

    def filter_phone(self, queryset, name, value):
        return queryset.alias(phone_digits=phone_digits()).filter(phone_digits__contains=search_phone_digits(value))

    @property
    def qs(self):
        # At most MATCH_CAP + 1 matches, read off the criteria's indexes in any order, then sorted
        # by name: one page costs the same for 30 matches as for 300,000.
        matches = super().qs.order_by().values("pk")[: MATCH_CAP + 1]
        return Member.objects.filter(pk__in=matches).order_by("last_name", "first_name", "member_number")

    def results(self):
        """The matches for a paginator: their ids in one query, a page's members (memberships, tiers) by id.

        One read of the matches gives the count and the order; the paginator then needs no COUNT.
        """
        current_tiers = TierPeriod.objects.filter(valid_to__isnull=True).select_related("tier")
        memberships = Membership.objects.select_related("program").prefetch_related(
            Prefetch("tier_periods", queryset=current_tiers, to_attr="current_tier_periods")
        )
        members = Member.objects.prefetch_related(Prefetch("memberships", queryset=memberships))
        return RowsById(list(self.qs.values_list("pk", flat=True)), members)
