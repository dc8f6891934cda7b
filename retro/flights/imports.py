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
from retro.sql import FLIGHT_ROW_FIELDS, flight_import_statements

FLIGHTS = "flights"
REQUIRED = ("ticket_number", "coupon_number", "operating_carrier", "flight_number", "flight_date", "origin",
            "destination", "distance")  # fmt: skip
OPTIONAL = ("pnr", "marketing_carrier", "cabin", "booking_class", "passenger_name", "flown")
EARLIEST = dt.date(1990, 1, 1)
MAX_DISTANCE = 12_500  # the longest scheduled flights are about 9,500 miles
_TICKET = re.compile(r"[0-9]{13}\Z")
_CARRIER = re.compile(r"[A-Z0-9]{2,3}\Z")
_FLIGHT_NUMBER = re.compile(r"[0-9]{1,4}[A-Z]?\Z")
_AIRPORT = re.compile(r"[A-Z]{3}\Z")
_PNR = re.compile(r"[A-Z0-9]{0,6}\Z")
_NAME = re.compile(r"[A-Z /.'-]{0,60}\Z")
_YES = {"", "y", "yes", "true", "1", "flown"}
_NO = {"n", "no", "false", "0", "not flown", "no-show", "noshow"}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def header_problem(columns):
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        return f"The file lacks the required column(s): {', '.join(missing)}."
    unknown = [name for name in columns if name not in REQUIRED + OPTIONAL]
    if unknown:
        return f"The file has column(s) a flight does not have: {', '.join(unknown)}."
    return None


class FlightRowParser:
    """One feed row into Flight field values, or RowRejected saying which column is wrong and why."""

    def __init__(self, program):
        self.airports = {location.code.upper() for location in program_locations(program)}
        self.latest = timezone.localdate() + dt.timedelta(days=1)  # a flight flown today in a zone ahead of ours

    def parse(self, raw):
        def text(name):
            value = raw.get(name)
            return "" if value is None else str(value).strip()

        ticket = text("ticket_number").replace(" ", "").replace("-", "")
        if not _TICKET.match(ticket):
            raise RowRejected("a ticket number has 13 digits (the 3-digit airline code and 10 more)", "ticket_number")
        coupon = self._number(text("coupon_number"), "coupon_number", 1, MAX_COUPONS, "a coupon number is 1 to 4")
        carrier = text("operating_carrier").upper()
        if not _CARRIER.match(carrier):
            raise RowRejected("a carrier code has 2 or 3 letters or digits", "operating_carrier")
        marketing = text("marketing_carrier").upper() or carrier
        if not _CARRIER.match(marketing):
            raise RowRejected("a carrier code has 2 or 3 letters or digits", "marketing_carrier")
        flight_number = text("flight_number").upper().lstrip("0") or "0"
        if not _FLIGHT_NUMBER.match(flight_number):
            raise RowRejected("a flight number has 1 to 4 digits and perhaps a letter", "flight_number")
        day = self._date(text("flight_date"))
        origin, destination = self._airport(text("origin"), "origin"), self._airport(text("destination"), "destination")
        if origin == destination:
            raise RowRejected("the destination is the origin", "destination")
        distance = self._number(
            text("distance"), "distance", 1, MAX_DISTANCE, f"a distance is 1 to {MAX_DISTANCE:,} miles"
        )
        pnr, name = text("pnr").upper(), text("passenger_name").upper()
        if not _PNR.match(pnr):
            raise RowRejected("a PNR locator has up to 6 letters or digits", "pnr")
        if not _NAME.match(name):
            raise RowRejected(
                "a passenger name is SURNAME/GIVENNAMES TITLE in plain capitals (60 at most)", "passenger_name"
            )
        flown = text("flown").lower()
        if flown not in _YES and flown not in _NO:
            raise RowRejected("flown is yes or no", "flown")
        booking_class = text("booking_class").upper()
        if len(booking_class) > 2 or not booking_class.isalpha() and booking_class:
            raise RowRejected("a booking class is one letter", "booking_class")
        cabin = text("cabin")
        if len(cabin) > 12:
            raise RowRejected("a cabin name has 12 characters at most", "cabin")
        return {
            "ticket_number": ticket, "coupon_number": coupon, "pnr": pnr, "operating_carrier": carrier,
            "marketing_carrier": marketing, "flight_number": flight_number, "flight_date": day, "origin": origin,
            "destination": destination, "cabin": cabin, "booking_class": booking_class, "passenger_name": name,
            "distance": distance, "flown": flown not in _NO,
        }  # fmt: skip

    @staticmethod
    def _number(text, field, low, high, message):
        try:
            value = int(text)
        except ValueError:
            raise RowRejected(message, field)
        if not low <= value <= high:
            raise RowRejected(message, field)
        return value

    def _date(self, text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise RowRejected("a flight date is written YYYY-MM-DD", "flight_date")
        if day > self.latest:
            raise RowRejected("the flight date is in the future", "flight_date")
        if day < EARLIEST:
            raise RowRejected("the flight date is before 1990", "flight_date")
        return day

    def _airport(self, text, field):
        code = text.upper()
        if not _AIRPORT.match(code):
            raise RowRejected("an airport code has 3 letters (IATA)", field)
        if self.airports and code not in self.airports:
            raise RowRejected(f"{code} is not one of the program's airports", field)
        return code


class FlightCopyWriter:
    """COPY a chunk's coupons into the feed; through a staging table (ON CONFLICT DO NOTHING) when some are known."""

    def __init__(self, batch):
        self.batch = batch
        self._sql = flight_import_statements()
        self._staged = False  # a file whose coupons clash with the feed's goes through staging from then on
        with connection.cursor() as cursor:
            cursor.execute(self._sql["staging"])

    def prepare(self, rows):
        return [_copy_line(row) for row in rows]

    def write(self, lines):
        with connection.cursor() as cursor:
            if not self._staged:
                prefix = f"{self.batch.program_id}\t{timezone.now().isoformat(' ')}\t"
                try:
                    with transaction.atomic(), cursor.cursor.copy(self._sql["copy_direct"]) as copy:
                        copy.write((prefix + prefix.join(lines)).encode())
                    return len(lines)
                except UniqueViolation:
                    self._staged = True
            cursor.execute(self._sql["truncate"])
            with cursor.cursor.copy(self._sql["copy_staging"]) as copy:
                copy.write("".join(lines).encode())
            cursor.execute(self._sql["insert_staged"], [self.batch.program_id, timezone.now()])
            added = cursor.rowcount
            cursor.execute(self._sql["truncate"])
            return added


def _copy_line(row):
    fields = []
    for name in FLIGHT_ROW_FIELDS:
        value = row[name]
        if isinstance(value, bool):
            value = "t" if value else "f"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        fields.append(str(value).translate(_ESCAPES))
    return "\t".join(fields) + "\n"


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
