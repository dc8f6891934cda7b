"""Hand-written SQL on the hot paths: run it (prepared on PostgreSQL) and turn rows into model instances.

The ORM rebuilds SQL on every call, which on posting and matching costs more
than running it; rows are turned into instances with Django's own field
converters, so values are exactly what a queryset would give.
"""

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


def run(sql, params):
    """Execute hand-written SQL through Django's cursor (logged, errors wrapped) and fetch every row.

    On PostgreSQL the statement goes through a server-side-binding cursor, so
    psycopg prepares it after a few runs and the server stops re-planning it
    on every post (planning cost about as much as executing).
    """
    # The real connection, resolved once: each attribute read through the thread-local proxy
    # `connection` costs a lookup, and the cursor wrapper reads a dozen per statement.
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "postgresql":
        import psycopg

        conn.ensure_connection()
        wrapper = CursorDebugWrapper if conn.queries_logged else CursorWrapper
        with wrapper(psycopg.Cursor(conn.connection), conn) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def row_reader(model, fields, offset):
    """A function turning this model's slice of a row into an instance (None for an empty LEFT JOIN)."""
    columns = [field.get_col(model._meta.db_table) for field in fields]
    converters = [connection.ops.get_db_converters(column) + column.get_db_converters(connection) for column in columns]
    names = [field.attname for field in fields]
    pk_index = next(i for i, field in enumerate(fields) if field.primary_key)

    def read(row, conn=None):
        # `conn` is the real connection, best resolved once per query by the caller:
        # the thread-local proxy `connection` costs a lookup on every attribute access.
        conn = conn or connections[DEFAULT_DB_ALIAS]
        values = list(row[offset : offset + len(fields)])
        if values[pk_index] is None:
            return None
        for i, chain in enumerate(converters):
            for convert in chain:
                values[i] = convert(values[i], columns[i], conn)
        return model.from_db(conn.alias, names, values)

    return read
