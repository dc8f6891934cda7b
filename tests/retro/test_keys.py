"""Retro claim keys: field order, normalisation, the stored key, per-field errors."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from retro import keys
from tests.factories import ProgramFactory
from tests.retro.factories import RetroClaimKeyFactory, RetroTransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    program = ProgramFactory()
    RetroClaimKeyFactory(program=program, parts=("location_code", "transaction_date", "reference", "amount"))
    return program


def test_key_fields_come_in_the_admins_order(program):
    fields = keys.key_fields_for(program, "purchase")
    assert [f.form_name for f in fields] == ["location_code", "transaction_date", "reference", "amount"]
    assert fields[2].get_field_display() == "Reference / receipt number"


def test_values_typed_differently_give_the_same_key(program):
    typed = {"location_code": "  par01 ", "transaction_date": "2024-03-05", "reference": "ab  12", "amount": "12,5"}
    clean = {"location_code": "PAR01", "transaction_date": dt.date(2024, 3, 5), "reference": "AB 12", "amount": 12.50}
    assert keys.normalise_key(program, "purchase", typed) == keys.normalise_key(program, "purchase", clean)
    assert keys.normalise_key(program, "purchase", clean) == "par01|2024-03-05|ab 12|12.50"


def test_amounts_round_to_two_decimals(program):
    values = {"location_code": "P", "transaction_date": "2024-03-05", "reference": "R", "amount": "1,234.005"}
    assert keys.normalise_key(program, "purchase", values).endswith("|1234.01")


def test_separator_in_a_value_cannot_forge_another_key(program):
    one = {"location_code": "a|b", "transaction_date": "2024-03-05", "reference": "c", "amount": "1"}
    two = {"location_code": "a", "transaction_date": "2024-03-05", "reference": "b|c", "amount": "1"}
    assert keys.normalise_key(program, "purchase", one) != keys.normalise_key(program, "purchase", two)


def test_missing_and_malformed_values_are_reported_per_field(program):
    with pytest.raises(ValidationError) as caught:
        keys.normalise_key(program, "purchase", {"location_code": " ", "transaction_date": "05/03/2024", "amount": "x"})
    errors = caught.value.message_dict
    assert errors["location_code"] == ["This field is required."]
    assert errors["reference"] == ["This field is required."]
    assert "YYYY-MM-DD" in errors["transaction_date"][0]
    assert "amount" in errors["amount"][0]


def test_unconfigured_transaction_type_is_refused(program):
    with pytest.raises(ValidationError, match="not set up"):
        keys.normalise_key(program, "stay", {"reference": "1"})


def test_currency_card_and_attribute_fields():
    program = ProgramFactory(code="other")
    RetroClaimKeyFactory(program=program, parts=("currency", "card_last_four", "attr_till"))
    key = keys.normalise_key(program, "purchase", {"currency": "eur", "card_last_four": "0042", "attr_till": " T 9 "})
    assert key == "eur|0042|t 9"
    with pytest.raises(ValidationError) as caught:
        keys.normalise_key(program, "purchase", {"currency": "euro", "card_last_four": "42", "attr_till": "x"})
    assert set(caught.value.message_dict) == {"currency", "card_last_four"}


def test_a_transaction_and_the_claim_for_it_share_one_key(program):
    txn = RetroTransactionFactory(program=program, location_code="PAR01", reference="R-77", amount=Decimal("9.9"))
    typed = {
        "location_code": "par01",
        "transaction_date": txn.occurred_on.isoformat(),
        "reference": "r-77",
        "amount": "9.90",
    }
    assert keys.transaction_key_values(txn)["reference"] == "R-77"
    assert txn.match_key == keys.normalise_key(program, "purchase", typed)


def test_a_very_long_key_is_hashed_to_fit_the_column(program):
    values = {"location_code": "x" * 200, "transaction_date": "2024-03-05", "reference": "y" * 200, "amount": "1"}
    key = keys.normalise_key(program, "purchase", values)
    assert key.startswith(keys.HASH_PREFIX) and len(key) <= 255
    assert key == keys.normalise_key(program, "purchase", dict(values))


@pytest.mark.parametrize(
    "field, value",
    [
        ("reference", "ABC123"),
        ("reference", "Àbc"),
        ("reference", " a  b "),
        ("reference", "a|b\\c"),
        ("reference", "ＡＢＣ１"),  # full-width: NFKC folds it
        ("amount", Decimal("12.50")),
        ("amount", Decimal("12.5")),
        ("amount", Decimal("1E+2")),
        ("amount", Decimal("-0.00")),
        ("amount", Decimal("0.125")),
        ("amount", "12,5"),
    ],
)
def test_the_shortcuts_give_the_key_of_the_full_normalisation(field, value):
    """Plain text and amounts already in cents skip work; every value must still get the same key part."""
    if field == "amount":
        full = f"{keys.normalise_amount(value):.2f}"
    else:
        full = keys._text(value)
    assert keys._PARTS.get(field, keys._text_part)(value) == full
