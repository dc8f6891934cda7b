"""A FilterSet's filters are copied lightly for each search (loyalty.filters.FiltersCopiedLightly): each search
still has filters of its own, and a filter with a method calls its own search's method."""

import pytest
from django.http import QueryDict

from claims.filters import ClaimSearch
from claims.models import MembershipClaim

pytestmark = pytest.mark.django_db


def _search(query):
    return ClaimSearch(QueryDict(query), queryset=MembershipClaim.objects.all())


def test_each_search_has_filters_of_its_own_bound_to_it():
    first, second = _search("reservation=AB1"), _search("reservation=CD2")
    for name in ClaimSearch.base_filters:
        assert first.filters[name] is not second.filters[name] is not ClaimSearch.base_filters[name]
        assert first.filters[name].parent is first and second.filters[name].parent is second
    method_filter = first.filters["reservation"]
    assert method_filter.filter.f is method_filter and method_filter.filter.method == first.filter_reservation
    first.filters["owner"].extra["empty_label"] = "Changed"
    assert second.filters["owner"].extra["empty_label"] == ClaimSearch.base_filters["owner"].extra["empty_label"]
    assert second.filters["owner"].extra["empty_label"] == "Any"


def test_a_method_filter_filters_for_its_own_search():
    first, second = _search("reservation=AB1"), _search("reservation=CD2")
    assert "AB1" in str(first.qs.query) and "CD2" not in str(first.qs.query)
    assert "CD2" in str(second.qs.query) and "AB1" not in str(second.qs.query)
