"""A form field as the back office lays it out: label, widget, error and help, written in Python.

The claim screen shows some thirty fields; as a template include each cost a dozen variable look-ups and a
context push, a fifth of the screen's time. The HTML is what the include wrote.
"""

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def form_field(field, cols="col-sm-6 col-lg-3", help=True):
    """`{% form_field form.name "col-lg-5" %}`: the field in a grid column of these classes; `help=False`
    leaves its help text out (a row of criteria, where it would push its field out of line)."""
    parts = [
        f'<div class="{escape(cols)}">',
        f'<label class="form-label small mb-1" for="{escape(field.id_for_label)}">{conditional_escape(field.label)}'
        "</label>",
        str(field),
    ]
    if field.errors:
        errors = " ".join(str(conditional_escape(error)) for error in field.errors)
        parts.append(f'<div class="invalid-feedback d-block" id="error-{escape(field.name)}">{errors}</div>')
    if help and field.help_text and not field.field.disabled:
        parts.append(f'<div class="form-text small">{conditional_escape(field.help_text)}</div>')
    parts.append("</div>")
    return mark_safe("\n".join(parts))  # noqa: S308 - every value escaped above; str(field) is the widget's own HTML
