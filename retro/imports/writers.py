"""Write validated rows into the pool with PostgreSQL COPY, straight in or through a staging table (retro.sql)."""

import json
from datetime import UTC

from django.db import connection, transaction
from django.utils import timezone
from psycopg.errors import UniqueViolation

from retro.sql import ROW_FIELDS, import_statements


class CopyChunk:
    """A chunk ready for COPY: its rows as staging-format lines (in match_key order) and their source_ids."""

    __slots__ = ("lines", "source_ids", "distinct")

    def __init__(self, lines, source_ids):
        self.lines, self.source_ids = lines, source_ids
        self.distinct = len(set(source_ids)) == len(source_ids)


class CopyWriter:
    """PostgreSQL path: COPY the chunk's new rows straight into the pool, or through a staging table when needed.

    Every chunk of a file goes into one transaction, the caller's: the rows are published when it
    commits, all together, and a failure anywhere rolls all of them back.

    The direct path drops the rows whose source_id the program already has (looked up once a chunk
    clashed with one) and COPYs the rest into the table: no staging copy, no INSERT … SELECT. It falls
    back to the staging table and INSERT … ON CONFLICT DO NOTHING when the chunk repeats a source_id
    (which row wins is then the INSERT's business, as before) or when a concurrent import inserted one
    of the rows since the look-up.
    """

    def __init__(self, batch):
        self.batch = batch
        self._sql = import_statements()
        # A new file's rows are mostly new: COPY without looking them up first (about 5 % of the
        # database's time) until a chunk clashes with rows already there.
        self._look_up = False
        with connection.cursor() as cursor:
            cursor.execute(self._sql["staging"])

    def prepare(self, rows):
        """The chunk as COPY lines: pure Python, so it runs in the parsing thread while the database works."""
        # Key order (C collation = code point order): the COPY walks the match_key index in order.
        rows.sort(key=_match_key)
        return CopyChunk([_copy_line(row) for row in rows], [row["source_id"] for row in rows])

    def write(self, prepared):
        """COPY one chunk into the pool inside the caller's transaction (the whole file's); returns rows added."""
        with connection.cursor() as cursor:
            if prepared.distinct:
                added = self._write_direct(cursor, prepared)
                if added is not None:
                    return added
            return self._write_staged(cursor, prepared)

    def _write_direct(self, cursor, prepared):
        """COPY the rows whose source_id is new into the table; None when a concurrent insert got in first."""
        lines = prepared.lines
        looked_up = self._look_up
        if looked_up:
            cursor.execute(self._sql["existing"], [self.batch.program_id, prepared.source_ids])
            if cursor.rowcount:
                known = {source_id for (source_id,) in cursor.fetchall()}
                lines = [line for line, sid in zip(lines, prepared.source_ids, strict=True) if sid not in known]
            if not lines:
                return 0
        prefix = f"{self.batch.program_id}\t{self.batch.pk}\t{_copy_moment(timezone.now())}\t"
        try:
            # A savepoint, so a clash leaves the file's transaction usable.
            with transaction.atomic(), cursor.cursor.copy(self._sql["copy_direct"]) as copy:
                copy.write((prefix + prefix.join(lines)).encode())
        except UniqueViolation:
            if looked_up:
                return None  # a concurrent import inserted one of these rows since the look-up
            # The file repeats known rows after all: look them up from now on (this chunk included).
            self._look_up = True
            return self._write_direct(cursor, prepared)
        return len(lines)

    def _write_staged(self, cursor, prepared):
        cursor.execute(self._sql["truncate"])
        with cursor.cursor.copy(self._sql["copy_staging"]) as copy:
            copy.write("".join(prepared.lines).encode())
        cursor.execute(self._sql["insert_staged"], [self.batch.program_id, self.batch.pk, timezone.now()])
        added = cursor.rowcount
        cursor.execute(self._sql["truncate"])
        return added


def _match_key(row):
    return row["match_key"]


def _copy_moment(moment):
    # A naive ISO text plus "+00" is what PostgreSQL reads as UTC; cheaper than formatting an aware value.
    return moment.replace(tzinfo=None).isoformat(" ") + "+00" if moment.tzinfo is UTC else str(moment)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"
_TABS = len(ROW_FIELDS) - 1


def _copy_text(value):
    return value.translate(_ESCAPES)


def _copy_line(row):
    """One row in COPY's text format (tab-separated, \\N for NULL, backslash escapes)."""
    attributes = row["attributes"]
    amount = row["amount"]
    fields = [
        row["transaction_type"],
        row["source_id"],
        row["location_code"],
        # An aware datetime's text ("2023-05-20 12:33:00+00:00") is what PostgreSQL reads back exactly.
        row["occurred_at"].isoformat(" "),
        row["occurred_on"].isoformat(),
        row["reference"],
        "" if amount is None else str(amount),
        row["currency"],
        row["register_id"],
        row["card_last_four"],
        json.dumps(attributes, ensure_ascii=False) if attributes else "{}",
        row["match_key"],
        row["expires_on"].isoformat(),
    ]
    line = "\t".join(fields)
    # One look at the whole line instead of one per field: only text values can carry these.
    if line.count("\t") != _TABS or "\\" in line or "\n" in line or "\r" in line:
        fields = [_copy_text(field) for field in fields]
        line = "\t".join(fields)
    if amount is None:
        fields[6] = _NULL
        line = "\t".join(fields)
    return line + "\n"
