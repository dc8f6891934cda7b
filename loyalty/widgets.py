"""Form widgets rendered in Python, for the screens that show many fields at once (a search, a claim).

Django renders each widget, and each option of a select, through a template include: on a search
with twenty fields and a few hundred options that was most of the page's time (measured on the
membership claims search: 50 of its 70 ms). These write the same HTML directly.
"""

import functools
import html

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.choices import BaseChoiceIterator
from django.utils.safestring import SafeData, mark_safe


def _escaped(value):
    """As Django's conditional_escape, for the strings and numbers an option holds, at a fifth of its cost
    (a search page writes some three hundred options)."""
    return value if isinstance(value, SafeData) else html.escape(str(value))


def _attrs(attrs):
    """As Django's flatatt (the same order: valued attributes by name, then true flags by name; False and None
    left out), at a third of its cost: a search writes some twenty tags."""
    valued = sorted((name, value) for name, value in attrs.items() if value is not None and not isinstance(value, bool))
    flags = sorted(name for name, value in attrs.items() if value is True)
    return "".join(f' {_escaped(name)}="{_escaped(value)}"' for name, value in valued) + "".join(
        f" {_escaped(name)}" for name in flags
    )


class FastSelect(forms.Select):
    """A single-choice select without option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(v) for v in self.format_value(value)}
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        options = "".join(
            f'<option value="{_escaped(option)}"{" selected" if str(option) in chosen else ""}>'
            f"{_escaped(label)}</option>"
            for option, label in self.choices
        )
        return mark_safe(f"<select{_attrs(final)}>{options}</select>")  # noqa: S308 - every value escaped above


class _FastInput:
    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["type"] = self.input_type
        final["name"] = name
        shown = self.format_value(value)
        if shown is not None and shown != "":
            final["value"] = shown
        return mark_safe(f"<input{_attrs(final)}>")  # noqa: S308 - every attribute escaped


class FastTextInput(_FastInput, forms.TextInput):
    pass


class FastNumberInput(_FastInput, forms.NumberInput):
    pass


class FastDateInput(_FastInput, forms.DateInput):
    input_type = "date"


class FastTextarea(forms.Textarea):
    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        shown = self.format_value(value)
        # The newline after the tag, as Django writes it: a browser drops it, and keeps a value's own first one.
        return mark_safe(f"<textarea{_attrs(final)}>\n{_escaped(shown) if shown else ''}</textarea>")  # noqa: S308


class _ModelChoices(BaseChoiceIterator):
    """A model choice field's options, read once with one plain query.

    Django's own iterator reads them with queryset.iterator(), which on PostgreSQL is a server-side
    cursor: three round trips per list (DECLARE, FETCH, CLOSE), six lists per search page. Lazy (a
    BaseChoiceIterator, which Django does not read in advance): a request that renders no form reads none.
    """

    def __init__(self, field):
        self.field = field
        self.objects = None
        self.read = None

    def listed(self):
        """The objects listed (read once)."""
        if self.objects is None:
            field = self.field
            # `read_options`: the same objects by a prepared statement, for a fixed list (loyalty.sql.instances_of).
            self.objects = field.read_options() if hasattr(field, "read_options") else list(field.queryset)
        return self.objects

    def __iter__(self):
        if self.read is None:
            field = self.field
            self.read = [("", field.empty_label)] if field.empty_label is not None else []
            self.read += [(field.prepare_value(obj), field.label_from_instance(obj)) for obj in self.listed()]
        return iter(self.read)


def _listed_choice(field, choices, value):
    """A model choice field's to_python, finding the value among the options listed (read_options) rather than
    by a query of its own: for the owners list that query compiled three subqueries on every search by owner,
    and a page that shows the list reads it anyway. Refuses what the list does not offer, as Django's does."""
    if value in field.empty_values:
        return None
    field.validate_no_null_characters(value)
    wanted = str(value.pk if isinstance(value, Model) else value)
    for obj in choices.listed():
        if str(obj.pk) == wanted:
            return obj
    raise ValidationError(field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})


def speed_up(form):
    """Swap a form's plain selects and inputs for the Python-rendered ones (same attributes and choices)."""
    for field in form.fields.values():
        widget = field.widget
        if type(widget) is forms.Select:
            fast = FastSelect(attrs=widget.attrs)
            fast.choices = _ModelChoices(field) if isinstance(field, forms.ModelChoiceField) else widget.choices
            if hasattr(field, "read_options") and field.to_field_name is None:
                field.to_python = functools.partial(_listed_choice, field, fast.choices)
        elif type(widget) is forms.TextInput:
            fast = FastTextInput(attrs=widget.attrs)
        elif type(widget) is forms.NumberInput:
            fast = FastNumberInput(attrs=widget.attrs)
        elif type(widget) is forms.DateInput:
            fast = FastDateInput(attrs=widget.attrs, format="%Y-%m-%d")
        elif type(widget) is forms.Textarea:
            fast = FastTextarea(attrs=widget.attrs)
        else:
            continue
        fast.is_required = widget.is_required
        field.widget = fast
