"""Two kinds for the shared import (retro.imports.kinds): the property systems' stays, and bulk adjustments.

Stays, one per reservation. Columns: property_code, property_reservation_number, arrival_date,
departure_date (YYYY-MM-DD), status (CHECKED OUT, IN HOUSE, NO SHOW, CANCELLED) and, optionally,
central_reservation_number, guest_name, room_revenue, currency, membership_number (the card the
guest gave) and member_number (the guest's profile, when the property knows it). A reservation sent
again replaces the stay until its points are calculated; a card a CSR attached is kept.

Bulk adjustments, one per member. Columns: membership_number, adjustment_code, reason and the values
(base_points, bonus_points, misc_points, total_points, stays, nights, revenue); each row is checked
against its code's thresholds, the file waits for another person's approval, then posts each row once.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from claims import rules
from claims.models import AdjustmentBatch, AdjustmentCode, Stay, StayStatus
from claims.models.adjustments import AdjustmentLine
from loyalty import selectors as loyalty_selectors
from loyalty.models import Location
from retro.imports import limits
from retro.imports.kinds import ImportKind, register
from retro.imports.members import PostedRows
from retro.imports.pipeline import error_entry
from retro.imports.rows import RowRejected

STAYS = "stays"
ADJUSTMENTS = "adjustments"
STAY_REQUIRED = ("property_code", "property_reservation_number", "arrival_date", "departure_date", "status")
STAY_OPTIONAL = ("central_reservation_number", "guest_name", "room_revenue", "currency", "membership_number",
                 "member_number")  # fmt: skip
STATUSES = {
    "checked out": StayStatus.CHECKED_OUT, "checked_out": StayStatus.CHECKED_OUT, "co": StayStatus.CHECKED_OUT,
    "in house": StayStatus.IN_HOUSE, "in_house": StayStatus.IN_HOUSE, "ih": StayStatus.IN_HOUSE,
    "no show": StayStatus.NO_SHOW, "no_show": StayStatus.NO_SHOW, "noshow": StayStatus.NO_SHOW,
    "cancelled": StayStatus.CANCELLED, "canceled": StayStatus.CANCELLED, "cx": StayStatus.CANCELLED,
}  # fmt: skip
_REFERENCE = re.compile(r"[A-Za-z0-9/._-]{1,30}\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_UNSAFE = re.compile(r"[\t\n\r\\\x00]")
EARLIEST = dt.date(2000, 1, 1)
MAX_NIGHTS = 365
MAX_REVENUE = Decimal("1000000")


def _text(value):
    return "" if value is None else str(value).strip()


def _columns_problem(columns, required, optional, what):
    missing = [name for name in required if name not in columns]
    if missing:
        return f"The file lacks the required column(s): {', '.join(missing)}."
    unknown = [name for name in columns if name not in required + optional]
    if unknown:
        return f"The file has column(s) {what} does not have: {', '.join(unknown)}."
    return None


def _date(raw, name, label):
    try:
        day = dt.date.fromisoformat(_text(raw))
    except ValueError:
        raise RowRejected(f"the {label} is written YYYY-MM-DD", name)
    if day < EARLIEST or day > timezone.localdate() + dt.timedelta(days=400):
        raise RowRejected(f"the {label} {day.isoformat()} is out of range", name)
    return day


def _plain(raw, name, label, pattern=None, size=100):
    value = _text(raw)
    if _UNSAFE.search(value) or len(value) > size or (pattern is not None and value and not pattern.match(value)):
        raise RowRejected(f"the {label} is not valid", name)
    return value


class StayRowParser:
    """One property-system row into its COPY line, or RowRejected naming the column at fault."""

    def __init__(self, program):
        self.properties = frozenset(
            Location.objects.filter(program=program, kind=Location.Kind.HOTEL).values_list("code", flat=True)
        )

    def parse(self, raw):
        get = raw.get
        code = _text(get("property_code")).upper()
        if code not in self.properties:
            raise RowRejected(f"{code or 'an empty code'} is not one of the program's properties", "property_code")
        number = _text(get("property_reservation_number"))
        if not _REFERENCE.match(number):
            raise RowRejected("a reservation number has 1 to 30 letters, digits or / . _ -",
                              "property_reservation_number")  # fmt: skip
        central = _plain(get("central_reservation_number"), "central_reservation_number",
                         "central reservation number", _REFERENCE, 30)  # fmt: skip
        arrival = _date(get("arrival_date"), "arrival_date", "arrival date")
        departure = _date(get("departure_date"), "departure_date", "departure date")
        if departure < arrival:
            raise RowRejected("the departure date is before the arrival date", "departure_date")
        if (departure - arrival).days > MAX_NIGHTS:
            raise RowRejected(f"a stay lasts at most {MAX_NIGHTS} nights", "departure_date")
        status = STATUSES.get(" ".join(_text(get("status")).lower().split()))
        if status is None:
            raise RowRejected("the status is CHECKED OUT, IN HOUSE, NO SHOW or CANCELLED", "status")
        revenue_text = _text(get("room_revenue")) or "0"
        try:
            revenue = Decimal(revenue_text)
        except InvalidOperation:
            raise RowRejected("the room revenue is a number such as 245.50", "room_revenue")
        if not revenue.is_finite() or revenue < 0 or revenue >= MAX_REVENUE or revenue != round(revenue, 2):
            raise RowRejected(f"the room revenue is 0 to {MAX_REVENUE:,} with at most 2 decimals", "room_revenue")
        currency = _plain(get("currency"), "currency", "currency (3 capitals, e.g. EUR)", _CURRENCY, 3).upper()
        card = _plain(get("membership_number"), "membership_number", "membership number", _REFERENCE, 30)
        guest = _plain(get("member_number"), "member_number", "member number", _REFERENCE, 20)
        name = _plain(get("guest_name"), "guest_name", "guest name")
        line = "\t".join([code, number, central, name, arrival.isoformat(), departure.isoformat(), status,
                          str(revenue), currency, card, guest])  # fmt: skip
        return {"line": line + "\n"}


STAGING = "claims_stay_staging"
STAGING_COLUMNS = ("property_code", "property_reservation_number", "central_reservation_number", "guest_name",
                   "arrival_date", "departure_date", "status", "room_revenue", "currency", "card_number",
                   "member_number")  # fmt: skip


def stay_statements():
    stay, location = Stay._meta.db_table, Location._meta.db_table
    # The member tables, named through the stay's own links (feature apps read members through loyalty.selectors).
    membership = Stay._meta.get_field("membership").related_model._meta.db_table
    member = Stay._meta.get_field("guest").related_model._meta.db_table
    columns = ", ".join(STAGING_COLUMNS)
    # A card a CSR attached stays; an unchanged row (sent again) updates nothing and counts as a duplicate.
    kept = "{t}.card_attached_at IS NOT NULL"
    return {
        "staging": (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (n bigserial, property_code text, "
            "property_reservation_number text, central_reservation_number text, guest_name text, arrival_date date, "
            "departure_date date, status text, room_revenue numeric(12,2), currency text, card_number text, "
            "member_number text)"
        ),
        "truncate": f"TRUNCATE {STAGING}",
        "copy": f"COPY {STAGING} ({columns}) FROM STDIN",
        "publish": f"""
            INSERT INTO {stay} AS t (program_id, hotel_id, property_reservation_number, central_reservation_number,
                guest_name, arrival_date, departure_date, status, room_revenue, currency, card_number, membership_id,
                guest_id, exception, exception_detail, imported_at)
            SELECT DISTINCT ON (l.id, s.property_reservation_number)
                %(program)s, l.id, s.property_reservation_number, s.central_reservation_number, s.guest_name,
                s.arrival_date, s.departure_date, s.status, s.room_revenue, s.currency, s.card_number, m.id, g.id,
                CASE WHEN s.card_number = '' THEN CASE s.status WHEN 'checked_out' THEN 'no_card' ELSE '' END
                     WHEN m.id IS NULL THEN 'unknown_card'
                     WHEN g.id IS NOT NULL AND m.member_id <> g.id THEN 'other_members_card'
                     ELSE '' END,
                '', %(now)s
            FROM {STAGING} s
            JOIN {location} l ON l.program_id = %(program)s AND l.code = s.property_code
            LEFT JOIN {membership} m ON m.membership_number = s.card_number AND m.program_id = %(program)s
            LEFT JOIN {member} g ON g.member_number = s.member_number
            ORDER BY l.id, s.property_reservation_number, s.n DESC
            ON CONFLICT (program_id, hotel_id, property_reservation_number) DO UPDATE SET
                central_reservation_number = EXCLUDED.central_reservation_number,
                guest_name = EXCLUDED.guest_name, arrival_date = EXCLUDED.arrival_date,
                departure_date = EXCLUDED.departure_date, status = EXCLUDED.status,
                room_revenue = EXCLUDED.room_revenue, currency = EXCLUDED.currency, guest_id = EXCLUDED.guest_id,
                card_number = CASE WHEN {kept.format(t="t")} THEN t.card_number ELSE EXCLUDED.card_number END,
                membership_id = CASE WHEN {kept.format(t="t")} THEN t.membership_id ELSE EXCLUDED.membership_id END,
                exception = CASE WHEN {kept.format(t="t")} THEN t.exception ELSE EXCLUDED.exception END,
                imported_at = EXCLUDED.imported_at
            WHERE t.activity_id IS NULL AND (t.central_reservation_number, t.guest_name, t.arrival_date,
                t.departure_date, t.status, t.room_revenue, t.currency, t.guest_id, t.card_number)
                IS DISTINCT FROM (EXCLUDED.central_reservation_number, EXCLUDED.guest_name, EXCLUDED.arrival_date,
                EXCLUDED.departure_date, EXCLUDED.status, EXCLUDED.room_revenue, EXCLUDED.currency, EXCLUDED.guest_id,
                CASE WHEN {kept.format(t="t")} THEN t.card_number ELSE EXCLUDED.card_number END)
        """,  # noqa: S608 - table names are ours
    }


class StayWriter:
    """COPY a chunk into a staging table, then publish it into the stays in one statement."""

    def __init__(self, batch):
        self.batch = batch
        self.sql = stay_statements()
        self.now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(self.sql["staging"])
            cursor.execute(self.sql["truncate"])

    def prepare(self, rows):
        return len(rows), "".join(row["line"] for row in rows).encode()

    def write(self, prepared):
        _, data = prepared
        with connection.cursor() as cursor:
            cursor.execute(self.sql["truncate"])
            with cursor.cursor.copy(self.sql["copy"]) as copy:
                copy.write(data)
            cursor.execute(self.sql["publish"], {"program": self.batch.program_id, "now": self.now})
            added = cursor.rowcount
            cursor.execute(self.sql["truncate"])
        return added


# Bulk adjustments --------------------------------------------------------------------------------

ADJ_REQUIRED = ("membership_number", "adjustment_code", "reason")
ADJ_VALUES = {  # file column: the claim field whose threshold it meets
    "base_points": "base_points", "bonus_points": "bonus_points", "misc_points": "misc_points",
    "total_points": "total_points", "stays": "total_stays", "nights": "total_nights", "revenue": "total_revenue",
}  # fmt: skip
ADJ_COLUMNS = ADJ_REQUIRED + tuple(ADJ_VALUES)


def adjustment_header_problem(columns):
    problem = _columns_problem(columns, ADJ_REQUIRED, tuple(ADJ_VALUES), "an adjustment")
    if problem is None and not any(name in columns for name in ADJ_VALUES):
        return "The file has no value column: base_points, bonus_points, misc_points, stays, nights or revenue."
    return problem


def _number(raw, column, *, decimal=False):
    text = _text(raw)
    if not text:
        return None
    try:
        value = Decimal(text) if decimal else int(text)
    except (ValueError, InvalidOperation):
        raise RowRejected(f"the {column.replace('_', ' ')} is {'a number' if decimal else 'a whole number'}", column)
    if decimal and (not value.is_finite() or value != round(value, 2) or abs(value) >= MAX_REVENUE):
        raise RowRejected(f"the {column} has at most 2 decimals and stays under {MAX_REVENUE:,}", column)
    if not decimal and abs(value) > 10**9:
        raise RowRejected(f"the {column.replace('_', ' ')} is out of range", column)
    return value


class AdjustmentRowParser:
    """A row checked against its code's thresholds, as the claim screen checks a limited adjustment."""

    def __init__(self, program):
        self.codes = {code.code.upper(): code for code in AdjustmentCode.objects.filter(program=program)}

    def parse(self, raw):
        number = _text(raw.get("membership_number"))
        if not number or not _REFERENCE.match(number):
            raise RowRejected("the membership number is missing or not valid", "membership_number")
        code = self.codes.get(_text(raw.get("adjustment_code")).upper())
        if code is None:
            raise RowRejected("no adjustment code of the program has this name", "adjustment_code")
        reason = _text(raw.get("reason"))
        if not reason:
            raise RowRejected("every adjustment gives its reason", "reason")
        if len(reason) > 200 or _UNSAFE.search(reason):
            raise RowRejected("the reason is one line of at most 200 characters", "reason")
        values = {field: _number(raw.get(column), column, decimal=column == "revenue")
                  for column, field in ADJ_VALUES.items()}  # fmt: skip
        # The file's tier values are totals: their base/bonus split is not asked for, so the total stands alone.
        for part in ("base_stays", "base_nights", "base_revenue"):
            total = part.replace("base_", "total_")
            values[part] = values[total]
        try:
            checked = rules.check_adjustment(code, values)
        except ValidationError as error:
            field, messages = next(iter(error.message_dict.items()))
            column = next((c for c, f in ADJ_VALUES.items() if f == field), field)
            raise RowRejected(messages[0], column)
        return {"membership_number": number, "code": code, "reason": reason, "values": checked}


class AdjustmentLines:
    """Rows naming a membership: checked against the program's members, then kept as the file's lines."""

    def __init__(self, batch):
        self.import_batch = batch
        self.adjustments = None

    def post(self, rows):
        outcome = PostedRows()
        if not rows:
            return outcome
        memberships = loyalty_selectors.memberships_by_number(values["membership_number"] for _, values, _ in rows)
        lines = []
        for number, values, original in rows:
            membership = memberships.get(values["membership_number"])
            if membership is None or membership.program_id != self.import_batch.program_id:
                reason = f"no membership of {self.import_batch.program} has the number {values['membership_number']}"
                outcome.errors.append(error_entry(number, reason, original, "membership_number"))
                continue
            checked = values["values"]
            lines.append(AdjustmentLine(
                row=number, membership=membership, adjustment_code=values["code"], reason=values["reason"],
                base_points=checked["base_points"], bonus_points=checked["bonus_points"],
                misc_points=checked["misc_points"], total_points=checked["total_points"],
                total_stays=checked["total_stays"], total_nights=checked["total_nights"],
                total_revenue=checked["total_revenue"],
            ))  # fmt: skip
        if lines:
            adjustments = self._adjustments()
            for line in lines:
                line.batch = adjustments
            AdjustmentLine.objects.bulk_create(lines)
            adjustments.lines_count += len(lines)
            adjustments.points_value += sum(abs(line.total_points) for line in lines)
            adjustments.save(update_fields=["lines_count", "points_value"])
            # Counted as imported by the shared import's report: the rows are in the file waiting for approval.
            outcome.posted = len(lines)
        return outcome

    def _adjustments(self):
        if self.adjustments is None:
            batch = self.import_batch
            self.adjustments = AdjustmentBatch.objects.create(
                program_id=batch.program_id, import_batch=batch, submitted_by=batch.started_by,
                submitted_at=timezone.now(),
            )  # fmt: skip
        return self.adjustments


class NoPoolWriter:
    """Every adjustment row names a membership, so none reaches the pool writer."""

    def __init__(self, batch):
        pass

    def prepare(self, rows):
        return rows

    def write(self, prepared):
        return 0


register(
    ImportKind(
        key=STAYS,
        label="stays",
        header_problem=lambda columns: _columns_problem(columns, STAY_REQUIRED, STAY_OPTIONAL, "a stay"),
        parser=StayRowParser,
        writer=StayWriter,
        permission="claims.add_stay",
        title="Import stays",
        file_help=(
            f"UTF-8 CSV of at most {limits.MAX_UPLOAD_LABEL}: one reservation per line from the property systems. "
            "The file is deleted once imported."
        ),
        format_template="claims/import_format_stays.html",
    )
)
register(
    ImportKind(
        key=ADJUSTMENTS,
        label="adjustments",
        header_problem=adjustment_header_problem,
        parser=AdjustmentRowParser,
        writer=NoPoolWriter,
        members=AdjustmentLines,
        permission="claims.add_adjustmentbatch",
        title="Bulk adjustments",
        file_help=(
            f"UTF-8 CSV of at most {limits.MAX_UPLOAD_LABEL}: one adjustment per line. Rows outside their code's "
            "thresholds are reported; the others wait for another person's approval."
        ),
        format_template="claims/import_format_adjustments.html",
    )
)
