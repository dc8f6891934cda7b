"""Parse and validate one incoming retro transaction row (CSV line or API object) into model field values."""

import datetime as dt
import json
import re
from decimal import Decimal

from django.core.exceptions import ValidationError

from retro import keys
from retro.models import RetroClaimKey, RetroSettings, RetroTransaction

DEFAULT_TRANSACTION_TYPE = "purchase"
STANDARD_COLUMNS = (
    "program",
    "transaction_type",
    "source_id",
    "location_code",
    "transaction_date",
    "transaction_time",
    "occurred_at",
    "reference",
    "amount",
    "currency",
    "register_id",
    "card_last_four",
)
ATTRIBUTE_PREFIX = "attr_"
# Lengths come from the model so a row that passes here always fits its column.
_MAX_LENGTHS = {
    name: RetroTransaction._meta.get_field(name).max_length
    for name in ("transaction_type", "source_id", "location_code", "reference", "register_id")
}
# An amount already written the way it is stored (digits, a point, cents): no clean-up or rounding to do.
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}\Z")
_UTC = dt.UTC
_MIDNIGHT = dt.time()
_MAX_AMOUNT = 10**12


class RowRejected(ValueError):
    """A row that cannot be imported; `reason` is what the error report shows."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def missing_columns(header):
    """The required columns a file header lacks (empty when the header is usable)."""
    names = {name.strip().lower() for name in header}
    missing = []
    if "source_id" not in names:
        missing.append("source_id")
    if "transaction_date" not in names and "occurred_at" not in names:
        missing.append("transaction_date (or occurred_at)")
    return missing


def transaction_lifetime_days(program):
    """RetroSettings.transaction_lifetime_days, or the model default when the program has no settings."""
    days = RetroSettings.objects.filter(program=program).values_list("transaction_lifetime_days", flat=True).first()
    if days is None:
        days = RetroSettings._meta.get_field("transaction_lifetime_days").default
    return days


def _text(value):
    if value is None:
        return ""
    if value.__class__ is str:
        return value.strip()
    if isinstance(value, bool | dict | list):
        raise RowRejected(f"{json.dumps(value)} is not a text or number value")
    return str(value).strip()


class RowParser:
    """Turns rows of one program into RetroTransaction field values; keeps per-program lookups cached.

    Everything it needs from the database is loaded in __init__, so parse() may run in another thread.
    """

    def __init__(self, program):
        self.program = program
        self.tz = program.tz
        self.lifetime = dt.timedelta(days=transaction_lifetime_days(program))
        types = RetroClaimKey.objects.filter(program=program).values_list("transaction_type", flat=True)
        self._key_builders = {kind: keys.key_builder(keys.key_fields_for(program, kind)) for kind in types}
        self._no_key = keys.key_builder([])
        self._day_offsets = {}
        self._attribute_cache = {}

    def parse(self, raw):
        """Field values for one row (a dict of column -> value); raises RowRejected with a readable reason."""
        get = raw.get
        program_code = get("program")
        if program_code and _text(program_code) not in ("", self.program.code):
            raise RowRejected(f"program {_text(program_code)!r} is not this import's program ({self.program.code})")

        transaction_type = _text(get("transaction_type")).lower() or DEFAULT_TRANSACTION_TYPE
        source_id = _text(get("source_id"))
        if not source_id:
            raise RowRejected("source_id is required")
        location_code = _text(get("location_code"))
        reference = _text(get("reference"))
        register_id = _text(get("register_id"))
        values = {
            "transaction_type": transaction_type,
            "source_id": source_id,
            "location_code": location_code,
            "reference": reference,
            "register_id": register_id,
        }
        if len(source_id) > 64 or len(location_code) > 20 or len(reference) > 64 or len(register_id) > 20:
            for name, limit in _MAX_LENGTHS.items():
                if len(values[name]) > limit:
                    raise RowRejected(f"{name} is longer than {limit} characters")
        if len(transaction_type) > _MAX_LENGTHS["transaction_type"]:
            raise RowRejected(f"transaction_type is longer than {_MAX_LENGTHS['transaction_type']} characters")

        occurred_at, occurred_on = self._occurred(get)
        values["occurred_at"] = occurred_at
        values["occurred_on"] = occurred_on
        values["expires_on"] = occurred_on + self.lifetime

        amount = get("amount")
        if amount.__class__ is str and _PLAIN_AMOUNT.match(amount):
            amount = Decimal(amount)
        elif amount is None or (amount.__class__ is str and not amount.strip()):
            amount = None
        else:
            if isinstance(amount, bool):
                raise RowRejected("amount: Enter an amount such as 12.50.")
            try:
                amount = keys.normalise_amount(amount)
            except ValidationError as exc:
                raise RowRejected(f"amount: {exc.messages[0]}")
            if abs(amount) >= _MAX_AMOUNT:
                raise RowRejected("amount is too large")
        values["amount"] = amount

        currency = _text(get("currency"))
        # Three ASCII letters / four ASCII digits: str tests, cheaper than a regular expression per row.
        if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise RowRejected("currency: Enter a three-letter currency code such as EUR.")
        currency = currency.upper()
        values["currency"] = currency
        card = _text(get("card_last_four"))
        if card and not (len(card) == 4 and card.isascii() and card.isdigit()):
            raise RowRejected("card_last_four: Enter the last four digits of the card.")
        values["card_last_four"] = card

        # The key reads its values by their form names: the row's own values, with the date under
        # its key name and the attributes as attr_<name> (removed again before the row is returned).
        values["transaction_date"] = occurred_on
        attributes = {}
        for column in self._attribute_columns(raw):
            text = _text(raw[column])
            if text:
                attributes[column[len(ATTRIBUTE_PREFIX) :]] = text
                values[column] = text
        try:
            values["match_key"] = self._key_builders.get(transaction_type, self._no_key)(values)
        except ValidationError as exc:
            raise RowRejected(_key_reason(exc, transaction_type))
        del values["transaction_date"]
        for name in attributes:
            del values[ATTRIBUTE_PREFIX + name]
        values["attributes"] = attributes
        return values

    def _attribute_columns(self, raw):
        """The attr_<name> columns of a row; cached per column set, as every line of a file shares its header."""
        columns = tuple(raw)
        found = self._attribute_cache.get(columns)
        if found is None:
            found = [c for c in columns if c and c.startswith(ATTRIBUTE_PREFIX) and len(c) > len(ATTRIBUTE_PREFIX)]
            if len(self._attribute_cache) < 1000:
                self._attribute_cache[columns] = found
        return found

    def _occurred(self, get):
        """(aware UTC datetime, program-local date) from occurred_at, or transaction_date + transaction_time."""
        combined = get("occurred_at")
        combined = _text(combined) if combined else ""
        if combined:
            try:
                moment = dt.datetime.fromisoformat(combined)
            except ValueError:
                raise RowRejected("occurred_at: Enter a date and time as YYYY-MM-DD HH:MM[:SS].")
        else:
            date_text = _text(get("transaction_date"))
            if not date_text:
                raise RowRejected("transaction_date is required")
            try:
                day = dt.date.fromisoformat(date_text)
            except ValueError:
                raise RowRejected("transaction_date: Enter a date as YYYY-MM-DD.")
            time_text = _text(get("transaction_time"))
            try:
                clock = dt.time.fromisoformat(time_text) if time_text else _MIDNIGHT
            except ValueError:
                raise RowRejected("transaction_time: Enter a time as HH:MM or HH:MM:SS.")
            moment = dt.datetime.combine(day, clock.replace(tzinfo=None))
        if moment.tzinfo is not None:
            utc = moment.astimezone(_UTC)
            return utc, utc.astimezone(self.tz).date()
        # Feeds give the shop's wall-clock time: it is local to the program, and its date is the local date.
        day = moment.date()
        offset = self._day_offsets.get(day)
        if offset is None:
            offset = self._day_offset(day)
        if offset is False:  # a day with a clock change: let zoneinfo decide this very minute
            return moment.replace(tzinfo=self.tz).astimezone(_UTC), day
        return (moment - offset).replace(tzinfo=_UTC), day

    def _day_offset(self, day):
        """The UTC offset of a whole local day, or False when the clocks change that day."""
        start = dt.datetime.combine(day, _MIDNIGHT, tzinfo=self.tz).utcoffset()
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.tz).utcoffset()
        offset = start if start == end else False
        if len(self._day_offsets) < 100_000:
            self._day_offsets[day] = offset
        return offset


def _key_reason(exc, transaction_type):
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return f"{' '.join(exc.messages)} (transaction type {transaction_type!r})"
