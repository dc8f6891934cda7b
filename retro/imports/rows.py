"""Parse and validate one incoming retro transaction row (CSV line or API object) into model field values."""

import datetime as dt
import json
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from retro import bounds, keys
from retro.imports import limits
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
    "membership_number",
)
ATTRIBUTE_PREFIX = "attr_"
# Lengths come from the model so a row that passes here always fits its column.
_MAX_LENGTHS = {
    name: RetroTransaction._meta.get_field(name).max_length
    for name in ("transaction_type", "source_id", "location_code", "reference", "register_id")
}
# loyalty.Membership.membership_number (read through loyalty.selectors, so not from the model here).
MAX_MEMBERSHIP_NUMBER = 30
_TEXT_FIELDS = tuple(_MAX_LENGTHS)
_PLAIN_TEXT_COLUMNS = ("program", *_TEXT_FIELDS, "membership_number", "currency", "card_last_four")
# An amount already written the way it is stored (digits, a point, cents): no clean-up or rounding to do.
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}\Z")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_UTC = dt.UTC
_MIDNIGHT = dt.time()
_MAX_COLUMNS = limits.MAX_COLUMNS
_ZERO = Decimal(0)  # Decimal against Decimal: faster than against an int, once per row


class RowRejected(ValueError):
    """A row that cannot be imported; `reason` is what the error report shows, `field` the column at fault."""

    def __init__(self, reason, field=""):
        super().__init__(reason)
        self.reason = reason
        self.field = field


def missing_columns(header):
    """The required columns a file header lacks (empty when the header is usable)."""
    names = {name.strip().lower() for name in header}
    missing = []
    if "source_id" not in names:
        missing.append("source_id")
    if "transaction_date" not in names and "occurred_at" not in names:
        missing.append("transaction_date (or occurred_at)")
    return missing


def attribute_columns_problem(columns):
    """Why these attr_<name> columns cannot be imported (too many, a bad name), or None."""
    names = [c[len(ATTRIBUTE_PREFIX) :] for c in columns]
    if len(names) > limits.MAX_ATTRIBUTES:
        return f"{len(names)} extra attributes (attr_ columns); at most {limits.MAX_ATTRIBUTES} are kept"
    for column, name in zip(columns, names, strict=True):
        if len(name) > limits.MAX_ATTRIBUTE_NAME or not _ATTRIBUTE_NAME.match(name):
            return (
                f"{unstorable_free(column)!r} is not an attribute name: letters, digits, - and _, "
                f"at most {limits.MAX_ATTRIBUTE_NAME} after attr_"
            )
    return None


def retro_settings_values(program):
    """(transaction lifetime in days, largest amount) of the program's retro settings, or the model defaults."""
    found = (
        RetroSettings.objects.filter(program=program)
        .values_list("transaction_lifetime_days", "max_transaction_amount")
        .first()
    )
    if found is None:
        meta = RetroSettings._meta
        found = (meta.get_field("transaction_lifetime_days").default, meta.get_field("max_transaction_amount").default)
    return found


def transaction_lifetime_days(program):
    """RetroSettings.transaction_lifetime_days, or the model default when the program has no settings."""
    return retro_settings_values(program)[0]


def unstorable(text):
    """Why PostgreSQL cannot store this text (a NUL, a lone surrogate from a JSON escape), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a broken character (a lone UTF-16 surrogate)"
    return None


def unstorable_free(value):
    """The text with what cannot be stored or shown (NUL, lone surrogates) replaced by U+FFFD."""
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text or (not text.isascii() and unstorable(text)):
        text = text.replace("\x00", "\ufffd").encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _text(value):
    if value is None:
        return ""
    if value.__class__ is str:
        return value.strip()
    if isinstance(value, bool | dict | list):
        raise RowRejected(f"{json.dumps(value)[:100]} is not a text or number value")
    return str(value).strip()


def _field_text(raw, name):
    """_text() of one column, with the column at fault when it is refused."""
    try:
        return _text(raw.get(name))
    except RowRejected as exc:
        exc.field = name
        raise


def _nested_column(raw, names):
    """The first of these columns whose value is not text or a number (what _text refused)."""
    return next((name for name in names if isinstance(raw.get(name), bool | dict | list)), "")


class RowParser:
    """Turns rows of one program into RetroTransaction field values; keeps per-program lookups cached.

    Everything it needs from the database is loaded in __init__, so parse() may run in another thread.
    A row with a membership number comes back with it (and no match key): it is posted to that member,
    not put in the pool.
    """

    def __init__(self, program, *, now=None):
        self.program = program
        self.tz = program.tz
        lifetime_days, self.max_amount = retro_settings_values(program)
        self.lifetime = dt.timedelta(days=lifetime_days)
        # One clock for the whole file: "in the future" means the same thing on its first and last row.
        self.now = now or timezone.now()
        self.latest_day = bounds.today_with_tolerance(program, self.now)
        self._latest_moment = self.now + bounds.CLOCK_TOLERANCE
        self._earliest_day = bounds.EARLIEST_DATE
        types = RetroClaimKey.objects.filter(program=program).values_list("transaction_type", flat=True)
        self._key_builders = {kind: keys.key_builder(keys.key_fields_for(program, kind)) for kind in types}
        self._no_key = keys.key_builder([])
        self._day_offsets = {}
        self._attribute_cache = {}

    def parse(self, raw):
        """Field values for one row (a dict of column -> value); raises RowRejected with a readable reason."""
        if len(raw) > _MAX_COLUMNS:
            raise RowRejected(f"the row has {len(raw)} columns; at most {_MAX_COLUMNS} are read")
        get = raw.get
        # Absent columns (most files have no program or membership_number) cost a dict lookup, no call.
        program_code = get("program")
        membership_number = get("membership_number")
        try:
            if program_code:
                program_code = _text(program_code)
            if membership_number:
                membership_number = _text(membership_number)
            transaction_type = _text(get("transaction_type")).lower() or DEFAULT_TRANSACTION_TYPE
            source_id = _text(get("source_id"))
            location_code = _text(get("location_code"))
            reference = _text(get("reference"))
            register_id = _text(get("register_id"))
            currency = _text(get("currency"))
            card = _text(get("card_last_four"))
        except RowRejected as exc:
            exc.field = _nested_column(raw, _PLAIN_TEXT_COLUMNS)
            raise
        if program_code and program_code != self.program.code:
            raise RowRejected(
                f"program {unstorable_free(program_code)[:40]!r} is not this import's program ({self.program.code})",
                field="program",
            )
        if not source_id:
            raise RowRejected("source_id is required", field="source_id")
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
                    raise RowRejected(f"{name} is longer than {limit} characters", field=name)
        if len(transaction_type) > _MAX_LENGTHS["transaction_type"]:
            limit = _MAX_LENGTHS["transaction_type"]
            raise RowRejected(f"transaction_type is longer than {limit} characters", field="transaction_type")
        # One look at the five texts together: a NUL or a lone surrogate (possible in JSON) cannot be stored.
        probe = transaction_type + source_id + location_code + reference + register_id
        if "\x00" in probe or not probe.isascii():
            for name in _TEXT_FIELDS:
                problem = unstorable(values[name])
                if problem:
                    raise RowRejected(f"{name} {problem}", field=name)

        occurred_at, occurred_on = self._occurred(get)
        values["occurred_at"] = occurred_at
        values["occurred_on"] = occurred_on
        values["expires_on"] = occurred_on + self.lifetime
        amount = get("amount")
        if amount.__class__ is str and _PLAIN_AMOUNT.match(amount):
            amount = Decimal(amount)
            # Inside the bounds, as nearly every amount is: no call. Otherwise bounds.amount_problem says why.
            if not (_ZERO < amount <= self.max_amount):
                amount = self._amount(amount)
        else:
            amount = self._amount(amount)
        values["amount"] = amount

        # Three ASCII letters / four ASCII digits: str tests, cheaper than a regular expression per row.
        if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise RowRejected("currency: Enter a three-letter currency code such as EUR.", field="currency")
        currency = currency.upper()
        values["currency"] = currency
        if card and not (len(card) == 4 and card.isascii() and card.isdigit()):
            raise RowRejected("card_last_four: Enter the last four digits of the card.", field="card_last_four")
        values["card_last_four"] = card

        attributes = {}
        for column in self._attribute_columns(raw):
            value = raw[column]
            if isinstance(value, bool | dict | list):
                raise RowRejected(f"{column}: {json.dumps(value)[:100]} is not a text or number value", field=column)
            text = _text(value)
            if text:
                if len(text) > limits.MAX_ATTRIBUTE_VALUE:
                    reason = f"{column} is longer than {limits.MAX_ATTRIBUTE_VALUE} characters"
                    raise RowRejected(reason, field=column)
                problem = unstorable(text)
                if problem:
                    raise RowRejected(f"{column} {problem}", field=column)
                attributes[column[len(ATTRIBUTE_PREFIX) :]] = text

        if membership_number:
            # The member's own transaction: posted to that membership, so it needs no retro key.
            if len(membership_number) > MAX_MEMBERSHIP_NUMBER:
                reason = f"membership_number is longer than {MAX_MEMBERSHIP_NUMBER} characters"
                raise RowRejected(reason, field="membership_number")
            problem = unstorable(membership_number)
            if problem:
                raise RowRejected(f"membership_number {problem}", field="membership_number")
            values["attributes"] = attributes
            values["membership_number"] = membership_number
            return values

        # The key reads its values by their form names: the row's own values, with the date under
        # its key name and the attributes as attr_<name> (removed again before the row is returned).
        values["transaction_date"] = occurred_on
        for name, text in attributes.items():
            values[ATTRIBUTE_PREFIX + name] = text
        try:
            values["match_key"] = self._key_builders.get(transaction_type, self._no_key)(values)
        except ValidationError as exc:
            raise RowRejected(_key_reason(exc, transaction_type), field=_key_field(exc))
        del values["transaction_date"]
        for name in attributes:
            del values[ATTRIBUTE_PREFIX + name]
        values["attributes"] = attributes
        return values

    def _amount(self, amount):
        """The row's amount as stored (None when there is none), inside the program's bounds."""
        if amount is None or (amount.__class__ is str and not amount.strip()):
            return None
        if isinstance(amount, bool | dict | list):
            raise RowRejected("amount: Enter an amount such as 12.50.", field="amount")
        try:
            amount = keys.normalise_amount(amount)  # at once for a Decimal already in cents
        except ValidationError as exc:
            raise RowRejected(f"amount: {exc.messages[0]}", field="amount")
        problem = bounds.amount_problem(amount, max_amount=self.max_amount)
        if problem:
            raise RowRejected(f"amount: {problem}", field="amount")
        return amount

    def _attribute_columns(self, raw):
        """The attr_<name> columns of a row; cached per column set, as every line of a file shares its header."""
        columns = tuple(raw)
        found = self._attribute_cache.get(columns)
        if found is None:
            found = [c for c in columns if c and c.startswith(ATTRIBUTE_PREFIX)]
            problem = attribute_columns_problem(found)
            if problem:
                found = RowRejected(problem, field=ATTRIBUTE_PREFIX)
            if len(self._attribute_cache) < 1000:
                self._attribute_cache[columns] = found
        if isinstance(found, RowRejected):
            raise RowRejected(found.reason, field=found.field)
        return found

    def _occurred(self, get):
        """(aware UTC datetime, program-local date) from occurred_at, or transaction_date + transaction_time.

        Both inside the bounds of retro.bounds: not before 1990, not in the future beyond the clocks' tolerance.
        """
        combined = get("occurred_at")
        combined = _text(combined) if combined else ""
        field = "occurred_at" if combined else "transaction_date"
        if combined:
            try:
                moment = dt.datetime.fromisoformat(combined)
            except ValueError:
                raise RowRejected("occurred_at: Enter a date and time as YYYY-MM-DD HH:MM[:SS].", field=field)
        else:
            date_text = _text(get("transaction_date"))
            if not date_text:
                raise RowRejected("transaction_date is required", field=field)
            try:
                day = dt.date.fromisoformat(date_text)
            except ValueError:
                raise RowRejected("transaction_date: Enter a date as YYYY-MM-DD.", field=field)
            time_text = _text(get("transaction_time"))
            try:
                clock = dt.time.fromisoformat(time_text) if time_text else _MIDNIGHT
            except ValueError:
                raise RowRejected("transaction_time: Enter a time as HH:MM or HH:MM:SS.", field="transaction_time")
            moment = dt.datetime.combine(day, clock.replace(tzinfo=None))
        try:
            if moment.tzinfo is not None:
                utc = moment.astimezone(_UTC)
                day = utc.astimezone(self.tz).date()
            else:
                # Feeds give the shop's wall-clock time: local to the program, and its date is the local date.
                day = moment.date()
                offset = self._day_offsets.get(day)
                if offset is None:
                    offset = self._day_offset(day)
                if offset is False:  # a day with a clock change: let zoneinfo decide this very minute
                    utc = moment.replace(tzinfo=self.tz).astimezone(_UTC)
                else:
                    utc = (moment - offset).replace(tzinfo=_UTC)
        except OverflowError:
            # 9999-12-31 23:59 west of Greenwich, 0001-01-01 east of it: past the calendar's ends.
            utc, day = None, moment.date()
        # Well inside the bounds, as nearly every row is: no call. Otherwise retro.bounds decides and says why.
        if utc is None or not (self._earliest_day < day <= self.latest_day and utc <= self._latest_moment):
            problem = bounds.date_problem(day, today=self.latest_day)
            if problem is None and day > bounds.EARLIEST_DATE:
                problem = bounds.moment_problem(utc, now=self.now) if utc else "The date is out of range."
            if problem:
                raise RowRejected(f"{field}: {problem}", field=field)
        return utc, day

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


def _key_field(exc):
    return next(iter(exc.error_dict), "") if hasattr(exc, "error_dict") else "transaction_type"
