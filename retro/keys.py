"""Retro claim keys: which fields form a program's composite key, their normalisation, the stored match key."""

import datetime as dt
import hashlib
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from retro.bounds import LARGEST_STORABLE
from retro.models import RetroClaimKey, RetroClaimKeyField

# Parts are joined with "|"; text values escape "\" and "|" first, so the join is
# injective: two different sets of normalised values never give the same key.
SEPARATOR = "|"
MAX_KEY_LENGTH = 255  # RetroTransaction.match_key / RetroClaim.match_key
HASH_PREFIX = "sha256:"
REQUIRED = "This field is required."
_SPACES = re.compile(r"\s+")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LAST_FOUR = re.compile(r"^[0-9]{4}$")


def key_definition(program, transaction_type):
    """The RetroClaimKey of a program and transaction type, or None when retro keys are not set up."""
    program_id = getattr(program, "pk", program)
    return RetroClaimKey.objects.filter(program_id=program_id, transaction_type=transaction_type).first()


def key_fields_for(program, transaction_type):
    """The fields forming the key, in order (each has .form_name, .get_field_display(), .field)."""
    program_id = getattr(program, "pk", program)
    return list(
        RetroClaimKeyField.objects.filter(key__program_id=program_id, key__transaction_type=transaction_type)
        .select_related("key")
        .order_by("position", "id")
    )


# --- normalisation of one value -------------------------------------------------------------


def _text(value):
    text = unicodedata.normalize("NFKC", str(value))
    text = _SPACES.sub(" ", text).strip().casefold()
    return text.replace("\\", "\\\\").replace(SEPARATOR, "\\" + SEPARATOR)


def normalise_amount(value):
    if value.__class__ is Decimal and value.as_tuple().exponent == -2:
        return value  # already normalised (the import normalises each amount, then builds the key from it)
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # "12,50": a decimal comma
        else:
            text = text.replace(",", "")  # "1,234.50": a thousands separator
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError("Enter an amount such as 12.50.")
    if not amount.is_finite():
        raise ValidationError("Enter an amount such as 12.50.")
    if abs(amount) > LARGEST_STORABLE:
        raise ValidationError("The amount is far too large to be a transaction's amount.")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def normalise_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationError("Enter a date as YYYY-MM-DD.")


def _amount_part(value):
    if value.__class__ is Decimal:
        text = str(value)
        if text[-3:-2] == "." and "E" not in text:
            return text  # already in cents (the import's amounts are): the same text as :.2f, cheaper
    return f"{normalise_amount(value):.2f}"


def _date_part(value):
    if value.__class__ is dt.date:
        return value.isoformat()
    return normalise_date(value).isoformat()


def _currency_part(value):
    code = str(value).strip().upper()
    if not _CURRENCY.match(code):
        raise ValidationError("Enter a three-letter currency code such as EUR.")
    return code.casefold()


def _card_part(value):
    digits = str(value).strip()
    if not _LAST_FOUR.match(digits):
        raise ValidationError("Enter the last four digits of the card.")
    return digits


def _text_part(value):
    # Plain ASCII letters and digits (store codes, receipt numbers) are what an import is made of:
    # NFKC, the space rule and the escapes leave them as they are, and casefold() is lower() on them.
    if value.__class__ is str and value.isascii() and value.isalnum():
        return value.lower()
    return _text(value)


_PARTS = {
    "amount": _amount_part,
    "transaction_date": _date_part,
    "currency": _currency_part,
    "card_last_four": _card_part,
}


def _normalise_value(key_field, value):
    """One part of the key as stored text; ValidationError with a readable message if malformed."""
    return _PARTS.get(key_field.field, _text_part)(value)


def _is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def build_key(parts):
    """Join normalised parts into the stored match key (hashed if it would not fit the column)."""
    key = SEPARATOR.join(parts)
    if len(key) > MAX_KEY_LENGTH:
        key = HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()
    return key


def key_builder(key_fields):
    """A function values -> match key for these key fields (what normalise_with_fields computes).

    An import builds one per transaction type and calls it for every row, so the
    per-field choices are made once here, not once per row.
    """
    if not key_fields:

        def not_set_up(values):
            raise ValidationError("Retro claim keys are not set up for this program and transaction type.")

        return not_set_up
    steps = [(key_field.form_name, _PARTS.get(key_field.field, _text_part)) for key_field in key_fields]

    def build(values):
        parts, errors = [], None
        get = values.get
        for name, part in steps:
            value = get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors = errors or {}
                errors[name] = REQUIRED
                continue
            try:
                parts.append(part(value))
            except ValidationError as exc:
                errors = errors or {}
                errors[name] = exc.messages[0]
        if errors:
            raise ValidationError(errors)
        return build_key(parts)

    return build


def normalise_with_fields(key_fields, values):
    """The match key of `values` under these key fields; ValidationError({form_name: message})."""
    return key_builder(key_fields)(values)


def normalise_key(program, transaction_type, values):
    """The stored match key for key values entered in a form, a CSV row or an API call."""
    return normalise_with_fields(key_fields_for(program, transaction_type), values)


def transaction_key_values(txn):
    """A retro transaction's values under the key's form names (attributes as attr_<name>)."""
    values = {
        "location_code": txn.location_code,
        "transaction_date": txn.occurred_on,
        "reference": txn.reference,
        "amount": txn.amount,
        "currency": txn.currency,
        "register_id": txn.register_id,
        "card_last_four": txn.card_last_four,
    }
    for name, value in (txn.attributes or {}).items():
        values[f"attr_{name}"] = value
    return values


def transaction_match_key(txn, key_fields=None):
    """The stored key of a transaction; pass key_fields to avoid a query per row in bulk work."""
    if key_fields is None:
        key_fields = key_fields_for(txn.program_id, txn.transaction_type)
    return normalise_with_fields(key_fields, transaction_key_values(txn))


def unmatchable_key(kind, pk):
    """A key no other row can have: for rows whose values do not fit the current key definition."""
    return f"!{kind}{pk}"


def key_date_value(key_fields, values):
    """The transaction date entered as part of the key, if the key has one (else None)."""
    for key_field in key_fields:
        if key_field.field == "transaction_date" and not _is_blank(values.get(key_field.form_name)):
            try:
                return normalise_date(values[key_field.form_name])
            except ValidationError:
                return None
    return None
