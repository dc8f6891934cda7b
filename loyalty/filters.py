"""Member search: the filters behind the Members screen (django-filter)."""

import django_filters
from django import forms
from django.db.models import Prefetch, Q

from loyalty.models import Member, Membership, Program, TierPeriod, normalise_search_text


class MemberSearchFilter(django_filters.FilterSet):
    member_number = django_filters.CharFilter(
        label="Member number", method="filter_member_number", max_length=20
    )
    membership_number = django_filters.CharFilter(
        label="Membership number", method="filter_membership_number", max_length=30
    )
    name = django_filters.CharFilter(label="Name", method="filter_name", max_length=100)
    email = django_filters.CharFilter(label="Email", field_name="email", lookup_expr="icontains", max_length=254)
    program = django_filters.ModelChoiceFilter(
        label="Program", queryset=Program.objects.all(), field_name="memberships__program"
    )
    status = django_filters.ChoiceFilter(label="Status", choices=Member.Status.choices)

    class Meta:
        model = Member
        fields = []

    CRITERIA = ("member_number", "membership_number", "name", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

    def has_criteria(self):
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return any(data.get(name) for name in self.CRITERIA)

    def filter_member_number(self, queryset, name, value):
        return queryset.filter(member_number__istartswith=value.strip())

    def filter_membership_number(self, queryset, name, value):
        return queryset.filter(memberships__membership_number__istartswith=value.strip())

    def filter_name(self, queryset, name, value):
        # Every word must appear somewhere in the accent-free name: "zoe lefev" finds Zoë Lefèvre-Martin.
        words = normalise_search_text(value).split()
        if not words:
            raise forms.ValidationError("Enter letters of the name.")
        condition = Q()
        for word in words:
            condition &= Q(search_name__contains=word)
        return queryset.filter(condition)

    @property
    def qs(self):
        current_tiers = TierPeriod.objects.filter(valid_to__isnull=True).select_related("tier")
        memberships = Membership.objects.select_related("program").prefetch_related(
            Prefetch("tier_periods", queryset=current_tiers, to_attr="current_tier_periods")
        )
        return (
            super()
            .qs.distinct()
            .prefetch_related(Prefetch("memberships", queryset=memberships))
            .order_by("last_name", "first_name", "member_number")
        )
