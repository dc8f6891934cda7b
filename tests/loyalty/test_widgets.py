"""The Python-written widgets write what Django's templates write, escaping included."""

import re

import pytest
from django import forms

from loyalty.templatetags.loyalty_forms import form_field
from loyalty.widgets import speed_up

pytestmark = pytest.mark.django_db


ATTRIBUTE = re.compile(r' [^ =>]+(?:="[^"]*")?')


def _sorted_tag(match):
    return "<" + match[1] + "".join(sorted(ATTRIBUTE.findall(match[2]))) + ">"


def plain(html):
    """Markup compared without the whitespace between tags or the order of attributes."""
    html = re.sub(r">\s+<", "><", str(html).strip())
    return re.sub(r"<(\w+)([^>]*)>", _sorted_tag, html)


class Criteria(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any"), ("a&b", "Tom & <Jerry>"), ("x", 'Say "x"')], required=False)
    name = forms.CharField(required=False, max_length=20, help_text="Part of the <name>.")
    count = forms.IntegerField(required=False, min_value=1)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@pytest.mark.parametrize("data", [{}, {"kind": "a&b", "name": "O'Neil <3", "count": "2", "day": "2026-11-29",
                                            "text": "\nFirst line\n<b>bold</b> & more"}])
def test_fast_widgets_write_what_django_writes(data):
    django_form, fast_form = Criteria(data or None), Criteria(data or None)
    speed_up(fast_form)
    for name in Criteria.base_fields:
        assert plain(fast_form[name]) == plain(django_form[name]), name
    assert "Tom &amp; &lt;Jerry&gt;" in str(fast_form["kind"])


def test_a_form_field_shows_its_error_and_hides_its_help_when_disabled():
    form = Criteria({"count": "0"})
    html = form_field(form["count"], "col-2")
    assert 'class="col-2"' in html and 'id="error-count"' in html and "greater than or equal to 1" in html
    assert "Part of the &lt;name&gt;." in form_field(form["name"])
    form.fields["name"].disabled = True
    assert "form-text" not in form_field(form["name"])


def test_attributes_are_written_as_django_writes_them():
    from django.forms.utils import flatatt

    from loyalty.widgets import _attrs

    attrs = {"name": "q", "required": True, "disabled": False, "title": 'Tom & "Jerry"', "rows": 2,
             "autofocus": True, "placeholder": None, "data-x": "<b>"}  # fmt: skip
    assert _attrs(attrs) == str(flatatt(attrs))
    assert _attrs({}) == str(flatatt({})) == ""


def test_a_listed_choice_is_validated_against_the_list_without_a_query_of_its_own():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from loyalty.models import Program
    from tests.factories import ProgramFactory

    shop, outlet = ProgramFactory(), ProgramFactory(code="outlet", name="Outlet")

    class Pick(forms.Form):
        program = forms.ModelChoiceField(queryset=Program.objects.all(), required=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["program"].read_options = lambda: [shop]  # the list offers the shop only
            speed_up(self)

    with CaptureQueriesContext(connection) as queries:
        chosen = Pick({"program": str(shop.pk)})
        assert chosen.is_valid() and chosen.cleaned_data["program"] == shop
        str(chosen["program"])  # the page shows the list it validated against: no second read
    assert len(queries) == 0
    refused = Pick({"program": str(outlet.pk)})  # in the table, not in the list
    assert not refused.is_valid() and "Select a valid choice" in refused.errors["program"][0]
    assert Pick({"program": "x' OR 1=1"}).errors["program"] and Pick({"program": ""}).is_valid()
