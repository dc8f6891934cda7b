"""The airline's departure-control feed through the shared import (retro.imports.kinds): one coupon per row.

Columns: ticket_number, coupon_number, pnr, operating_carrier, marketing_carrier, flight_number,
flight_date (YYYY-MM-DD, local to the origin), origin, destination (IATA codes, the program's
airports when it has any), cabin, booking_class, passenger_name (SURNAME/GIVENNAMES TITLE),
distance (miles), flown (yes/no, default yes). A coupon already in the feed counts as a duplicate.
"""

import datetime as dt
import re

from django.db import connection, transaction
from django.utils import timezone
from psycopg.errors import UniqueViolation

from retro.imports import limits
from retro.imports.kinds import ImportKind, register
from retro.imports.rows import RowRejected
from retro.models.flights import MAX_COUPONS
from retro.selectors import program_locations
from retro.sql import flight_import_statements

FLIGHTS = "flights"
REQUIRED = ("ticket_number", "coupon_number", "operating_carrier", "flight_number", "flight_date", "origin",
            "destination", "distance")  # fmt: skip
OPTIONAL = ("pnr", "marketing_carrier", "cabin", "booking_class", "passenger_name", "flown")
EARLIEST = dt.date(1990, 1, 1)
MAX_DISTANCE = 12_500  # the longest scheduled flights are about 9,500 miles
_TICKET = re.compile(r"[0-9]{13}\Z")
# The columns in retro.sql.FLIGHT_ROW_FIELDS order, and the shape of a clean row of them joined by U+001F.
_FAST_COLUMNS = (
    "ticket_number coupon_number pnr operating_carrier marketing_carrier flight_number flight_date origin "
    "destination cabin booking_class passenger_name distance flown"
).split()
_FAST_PARTS = [
    "[0-9]{13}", "[1-4]", "[A-Z0-9]{0,6}", "[A-Z0-9]{2,3}", "(?:[A-Z0-9]{2,3})?", "[1-9][0-9]{0,3}[A-Z]?",
    "[0-9]{4}-[0-9]{2}-[0-9]{2}", "[A-Z]{3}", "[A-Z]{3}", "[A-Za-z]{0,12}", "[A-Z]{0,2}",
    "[A-Z/.'-](?:[A-Z /.'-]{0,58}[A-Z/.'-])?|", "[1-9][0-9]{0,4}", "yes|no|y|n|true|false|1|0|",
]  # fmt: skip
_FAST = re.compile("\x1f".join(f"(?:{part})" for part in _FAST_PARTS) + r"\Z")
_COUPONS = frozenset(str(n) for n in range(1, MAX_COUPONS + 1))
_DISTANCE = re.compile(r"[1-9][0-9]{0,4}\Z")
_BOOKING_CLASS = re.compile(r"[A-Z]{0,2}\Z")
_CABIN = re.compile(r"[^\t\n\r\\]{0,12}\Z")
_CARRIER = re.compile(r"[A-Z0-9]{2,3}\Z")
_FLIGHT_NUMBER = re.compile(r"[0-9]{1,4}[A-Z]?\Z")
_AIRPORT = re.compile(r"[A-Z]{3}\Z")
_PNR = re.compile(r"[A-Z0-9]{0,6}\Z")
_NAME = re.compile(r"[A-Z /.'-]{0,60}\Z")
_YES = {"", "y", "yes", "true", "1", "flown"}
_NO = {"n", "no", "false", "0", "not flown", "no-show", "noshow"}


def header_problem(columns):
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        return f"The file lacks the required column(s): {', '.join(missing)}."
    unknown = [name for name in columns if name not in REQUIRED + OPTIONAL]
    if unknown:
        return f"The file has column(s) a flight does not have: {', '.join(unknown)}."
    return None


class FlightRowParser:
    """One feed row into its COPY line, or RowRejected saying which column is wrong and why.

    A million rows go through here per feed file: each check is a set look-up or one compiled
    pattern, and the validated texts become the COPY line as they are (every value is checked to
    hold nothing COPY would need escaped), so nothing is parsed twice.
    """

    def __init__(self, program):
        self.airports = frozenset(location.code.upper() for location in program_locations(program))
        latest = timezone.localdate() + dt.timedelta(days=1)  # flown today in a zone ahead of ours
        self.days = frozenset(
            (EARLIEST + dt.timedelta(days=n)).isoformat() for n in range((latest - EARLIEST).days + 1)
        )
        self.latest = latest.isoformat()

    def parse(self, raw):
        # The usual row, as a feed writes it (clean capitals, no spaces): one pattern checks every column's shape.
        values = [raw.get(name, "") for name in _FAST_COLUMNS]
        try:
            fast = _FAST.match("\x1f".join(values))
        except TypeError:  # a value that is not text (an API's number): the careful path
            fast = None
        if fast is not None:
            day, origin, destination, distance = values[6], values[7], values[8], values[12]
            if (
                day in self.days
                and origin != destination
                and (not self.airports or (origin in self.airports and destination in self.airports))
                and int(distance) <= MAX_DISTANCE
            ):
                marketing = values[4] or values[3]
                flown = "f" if values[13] in _NO else "t"
                return {
                    "line": f"{values[0]}\t{values[1]}\t{values[2]}\t{values[3]}\t{marketing}\t{values[5]}\t{day}\t"
                    f"{origin}\t{destination}\t{values[9]}\t{values[10]}\t{values[11]}\t{distance}\t{flown}\n"
                }
        return self._parse_carefully(raw)

    def _parse_carefully(self, raw):
        """Every column cleaned and checked on its own, so a rejected row says which column and why."""
        get = raw.get
        ticket = _text(get("ticket_number"))
        if not _TICKET.match(ticket):
            ticket = ticket.replace(" ", "").replace("-", "")
            if not _TICKET.match(ticket):
                raise RowRejected(
                    "a ticket number has 13 digits (the 3-digit airline code and 10 more)", "ticket_number"
                )
        coupon = _text(get("coupon_number"))
        if coupon not in _COUPONS:
            raise RowRejected("a coupon number is 1 to 4", "coupon_number")
        carrier = _text(get("operating_carrier")).upper()
        if not _CARRIER.match(carrier):
            raise RowRejected("a carrier code has 2 or 3 letters or digits", "operating_carrier")
        marketing = _text(get("marketing_carrier")).upper() or carrier
        if marketing is not carrier and not _CARRIER.match(marketing):
            raise RowRejected("a carrier code has 2 or 3 letters or digits", "marketing_carrier")
        flight_number = _text(get("flight_number")).upper().lstrip("0") or "0"
        if not _FLIGHT_NUMBER.match(flight_number):
            raise RowRejected("a flight number has 1 to 4 digits and perhaps a letter", "flight_number")
        day = _text(get("flight_date"))
        if day not in self.days:
            raise RowRejected(self._date_problem(day), "flight_date")
        origin = self._airport(_text(get("origin")).upper(), "origin")
        destination = self._airport(_text(get("destination")).upper(), "destination")
        if origin == destination:
            raise RowRejected("the destination is the origin", "destination")
        distance = _text(get("distance"))
        if not _DISTANCE.match(distance) or int(distance) > MAX_DISTANCE:
            raise RowRejected(f"a distance is 1 to {MAX_DISTANCE:,} miles", "distance")
        pnr = _text(get("pnr")).upper()
        if not _PNR.match(pnr):
            raise RowRejected("a PNR locator has up to 6 letters or digits", "pnr")
        name = _text(get("passenger_name")).upper()
        if not _NAME.match(name):
            raise RowRejected(
                "a passenger name is SURNAME/GIVENNAMES TITLE in plain capitals (60 at most)", "passenger_name"
            )
        flown = _text(get("flown")).lower()
        if flown in _YES:
            flown = "t"
        elif flown in _NO:
            flown = "f"
        else:
            raise RowRejected("flown is yes or no", "flown")
        booking_class = _text(get("booking_class")).upper()
        if not _BOOKING_CLASS.match(booking_class):
            raise RowRejected("a booking class is one or two letters", "booking_class")
        cabin = _text(get("cabin"))
        if not _CABIN.match(cabin):
            raise RowRejected("a cabin is a word of 12 characters at most", "cabin")
        # In retro.sql.FLIGHT_ROW_FIELDS order; no value holds a tab, newline or backslash (checked above).
        return {
            "line": f"{ticket}\t{coupon}\t{pnr}\t{carrier}\t{marketing}\t{flight_number}\t{day}\t{origin}\t"
            f"{destination}\t{cabin}\t{booking_class}\t{name}\t{int(distance)}\t{flown}\n"
        }

    def _date_problem(self, text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return "a flight date is written YYYY-MM-DD"
        return "the flight date is before 1990" if day < EARLIEST else "the flight date is in the future"

    def _airport(self, code, field):
        if code in self.airports:
            return code
        if not _AIRPORT.match(code):
            raise RowRejected("an airport code has 3 letters (IATA)", field)
        if self.airports:
            raise RowRejected(f"{code} is not one of the program's airports", field)
        return code


def _text(value):
    if value.__class__ is str:
        return value.strip()
    return "" if value is None else str(value).strip()


class FlightCopyWriter:
    """COPY a chunk's coupons into the feed; through a staging table (ON CONFLICT DO NOTHING) when some are known."""

    def __init__(self, batch):
        self.batch = batch
        self._sql = flight_import_statements()
        self._staged = False  # a file whose coupons clash with the feed's goes through staging from then on
        # One import time for the whole file, so the parsing thread can build each chunk's COPY data.
        self._imported_at = timezone.now()
        self._prefix = f"{batch.program_id}\t{self._imported_at.isoformat(' ')}\t"
        with connection.cursor() as cursor:
            cursor.execute(self._sql["staging"])

    def prepare(self, rows):
        """The chunk's COPY data, built in the parsing thread while the database writes the previous chunk."""
        lines = [row["line"] for row in rows]
        return lines, (self._prefix + self._prefix.join(lines)).encode()

    def write(self, prepared):
        lines, data = prepared
        with connection.cursor() as cursor:
            if not self._staged:
                try:
                    with transaction.atomic(), cursor.cursor.copy(self._sql["copy_direct"]) as copy:
                        copy.write(data)
                    return len(lines)
                except UniqueViolation:
                    self._staged = True
            cursor.execute(self._sql["truncate"])
            with cursor.cursor.copy(self._sql["copy_staging"]) as copy:
                copy.write("".join(lines).encode())
            cursor.execute(self._sql["insert_staged"], [self.batch.program_id, self._imported_at])
            added = cursor.rowcount
            cursor.execute(self._sql["truncate"])
            return added


register(
    ImportKind(
        key=FLIGHTS,
        label="flights",
        header_problem=header_problem,
        parser=FlightRowParser,
        writer=FlightCopyWriter,
        permission="retro.add_flight",
        title="Import flights",
        file_help=(
            f"UTF-8 CSV of at most {limits.MAX_UPLOAD_LABEL}: one flown coupon per line from the departure-control "
            "feed. The file is deleted once imported."
        ),
        format_template="retro/flights/import_format.html",
        url_name="flight-import",
    )
)
