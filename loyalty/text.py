"""Text a person typed or a partner sent that cannot be stored or read: NUL, lone surrogates, U+FFFD.

PostgreSQL refuses a NUL in text and jsonb, and psycopg cannot encode a lone UTF-16 surrogate (JSON
may carry one as "\\ud800"): either would be a 500 at save time. U+FFFD is what Django makes of bytes
that are not UTF-8 in a form post: stored, it would be mojibake nobody can search for. A form or
serializer refuses all three with a readable message; what must be kept anyway (a stored response
body) gets them replaced by U+FFFD.
"""

from django import forms
from django.core.exceptions import ValidationError

REPLACEMENT = "\ufffd"


def unreadable(text):
    """Why this text cannot be kept as it is, or None."""
    if "\x00" in text:
        return "holds a NUL character"
    if not text.isascii():
        if REPLACEMENT in text:
            return "holds characters that could not be read (it was not sent as UTF-8)"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a broken character (a lone UTF-16 surrogate)"
    return None


def validate_readable_text(value):
    """A validator for form and DRF fields (DRF turns a Django ValidationError into a field error)."""
    if isinstance(value, str):
        problem = unreadable(value)
        if problem:
            raise ValidationError(f"This text {problem}: type it again.", code="unreadable_text")


def refuse_unreadable_text(form):
    """Give every text field of a form the validator: call at the end of the form's __init__."""
    for field in form.fields.values():
        if isinstance(field, forms.CharField) and validate_readable_text not in field.validators:
            field.validators.append(validate_readable_text)


def storable(value):
    """A JSON-like value with NUL characters and lone surrogates replaced by U+FFFD, keys included."""
    if isinstance(value, str):
        if "\x00" in value or (not value.isascii() and unreadable(value)):
            value = value.replace("\x00", REPLACEMENT).encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value
