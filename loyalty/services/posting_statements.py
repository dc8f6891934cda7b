"""Posting's hot writes (loyalty.services.posting and .batch): an activity with its ledger entries in one
statement, and a batch's ids, COPY and already-posted references. Built from the models' `_meta`, run
through loyalty.sql."""

from django.db import connection

from loyalty.models import Activity, LedgerEntry
from loyalty.sql import column, table

ACTIVITY_FIELDS = [f for f in Activity._meta.concrete_fields if not f.primary_key]
_activity_inserts = {}


def insert_activity_statement(entry_count):
    """One statement inserting an activity with `entry_count` ledger entries (atomic on its own);
    no row back when the activity's reference was already posted.

    Parameters: the ACTIVITY_FIELDS values, then membership, created_at and (metric, quantity) pairs.
    """
    found = _activity_inserts.get(entry_count)
    if found is None:
        sql = f"WITH a AS ({_activity_insert('VALUES')})"
        if entry_count:
            sql += f", e AS ({_entries_insert(entry_count, 'a')})"
        found = _activity_inserts[entry_count] = sql + " SELECT id FROM a"
    return found


POSTED_ALONG = "posted_activity"  # the name of the activity's write along another statement (its id: "id")
_activity_alongs = {}


def activity_along_statements(entry_count):
    """insert_activity_statement's two writes, for another statement to make along with its change
    (loyalty.sql.Along): the activity, named POSTED_ALONG, only when `changed` has a row; then its entries.
    Parameters as insert_activity_statement's, the activity's then the entries'."""
    found = _activity_alongs.get(entry_count)
    if found is None:
        found = _activity_alongs[entry_count] = (
            _activity_insert("FROM changed"), _entries_insert(entry_count, POSTED_ALONG) if entry_count else None
        )  # fmt: skip
    return found


def _activity_insert(values_from):
    """The activity's INSERT, its values a VALUES list or selected FROM a row set (another write's)."""
    qn = connection.ops.quote_name
    a = Activity
    values = ", ".join(["%s"] * len(ACTIVITY_FIELDS))
    values = f"VALUES ({values})" if values_from == "VALUES" else f"SELECT {values} {values_from}"
    # A reference already posted inserts nothing (and no entries) instead of failing: the caller's
    # transaction stays usable without a savepoint, two round trips fewer on every post.
    return (
        f"INSERT INTO {table(a)} ({', '.join(qn(f.column) for f in ACTIVITY_FIELDS)}) {values}"
        f" ON CONFLICT ({column(a, 'membership')}, {column(a, 'source')}, {column(a, 'external_reference')})"
        f" WHERE {column(a, 'external_reference')} <> '' DO NOTHING RETURNING {column(a, 'id')} AS id"
    )


def _entries_insert(entry_count, activity):
    """The entries' INSERT, for the activity the write named `activity` returns."""
    e = LedgerEntry
    return (
        f"INSERT INTO {table(e)} ({column(e, 'activity')}, {column(e, 'membership')},"
        f" {column(e, 'metric')}, {column(e, 'quantity')}, {column(e, 'created_at')})"
        f" SELECT {activity}.id, %s, v.metric, v.quantity, %s FROM {activity}, (VALUES "
        + ", ".join(["(%s, %s::numeric)"] * entry_count)
        + ") AS v(metric, quantity)"
    )


def take_activity_ids(count):
    """`count` fresh activity ids from the table's sequence (a batch knows its ids before its COPY)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Activity._meta.db_table, Activity._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_activities(rows, entries):
    """COPY a batch's activities (rows of every concrete field's value, pk first) and then its entries.

    COPY skips bulk_create's per-value array escaping of the JSON explanations.
    """
    qn = connection.ops.quote_name
    activity_columns = ", ".join(qn(f.column) for f in Activity._meta.concrete_fields)
    e = LedgerEntry
    names = ("activity", "membership", "metric", "quantity", "created_at")
    entry_columns = ", ".join(column(e, name) for name in names)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table(Activity)} ({activity_columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with cursor.cursor.copy(f"COPY {table(e)} ({entry_columns}) FROM STDIN") as copy:
            for row in entries:
                copy.write_row(row)


def activities_by_reference(keys):
    """Activities already posted under these (membership, source, reference) keys: one index probe per key."""
    members, sources, references = (list(values) for values in zip(*keys, strict=True))
    a = Activity
    return a.objects.raw(
        f"SELECT a.* FROM {table(a)} a"
        " JOIN unnest(%s::bigint[], %s::text[], %s::text[]) AS k(membership_id, source, reference)"
        f" ON a.{column(a, 'membership')} = k.membership_id AND a.{column(a, 'source')} = k.source"
        f" AND a.{column(a, 'external_reference')} = k.reference"
        f" WHERE a.{column(a, 'external_reference')} <> ''",
        [members, sources, references],
    )
