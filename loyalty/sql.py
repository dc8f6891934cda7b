"""The loyalty core's hand-written SQL: posting's hot statements and the lifecycle writer's, in one place.

The ORM expresses every other query. These few run on every post, every claim
submission or every batch of a daily job, where compiling a queryset costs more
than running its SQL; each statement is built once per process from the
models' `_meta` (no table or column name is written by hand) and `run()` lets
psycopg prepare it on the server.
"""

from typing import NamedTuple

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.db.transaction import TransactionManagementError
from psycopg.pq import ExecStatus

from loyalty.models import Activity, EarningRule, EarningRuleSet, Location, Tier, TierPeriod

TUPLES_OK = ExecStatus.TUPLES_OK

# --- running statements ------------------------------------------------------------------------


class _LoggedCursor(CursorDebugWrapper):
    """Django's debug cursor (DEBUG, or a test's CaptureQueriesContext), logging the statement with its values.

    Django reads the logged SQL back from psycopg's last query, which is the `$1` text of a server-side
    binding cursor, and None once the statement is prepared: the query log and the benchmarks' replays
    need what ran.
    """

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


def run(sql, params):
    """Execute hand-written SQL through Django's cursor (logged, errors wrapped) and fetch every row.

    The statement goes through a server-side-binding cursor, so psycopg prepares it after a few
    runs and the server stops re-planning it on every post (planning cost about as much as executing).
    """
    # The real connection, resolved once: each attribute read through the thread-local proxy
    # `connection` costs a lookup, and the cursor wrapper reads a dozen per statement.
    conn = connections[DEFAULT_DB_ALIAS]
    # As Django's own cursors do (CONN_HEALTH_CHECKS): a connection kept from an earlier request is checked, and
    # replaced if the server dropped it meanwhile (a restart, a failover), before its first statement. An API
    # request's first statement is its token's read, made here: unchecked, it failed with a 503 instead.
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    wrapper = _LoggedCursor if conn.queries_logged else CursorWrapper
    raw = psycopg.Cursor(conn.connection)
    with wrapper(raw, conn) as cursor:
        cursor.execute(sql, params)
        # Rows or none, told by the result's status: `description` would build a Column for each of the
        # fifty-odd columns a refund's lock reads, on every statement (an eighth of a refund's time).
        return raw.fetchall() if raw.pgresult.status == TUPLES_OK else []


_querysets = {}
# Stand-ins for instances_for's values while its queryset compiles: numbers no row's key takes.
_STAND_INS = range(-7_340_001, -7_340_100, -1)


def instances_of(key, queryset):
    """The instances of a queryset whose SQL and parameters never change (a screen's fixed list of choices),
    read by a prepared statement: compiled once per process under `key`, its rows read afresh every time.

    For plain querysets only (the model's own columns: no select_related, no annotation).
    """
    return instances_for(key, lambda: queryset)


def instances_for(key, make_queryset, *values):
    """As instances_of, for a list that depends on a few integers (a program, the choice a claim already
    holds): `make_queryset(*values)` is compiled once, with stand-ins for the values, which each run puts in.
    """
    found = _querysets.get(key)
    if found is None:
        stand_ins = list(_STAND_INS[: len(values)])
        compiler = make_queryset(*stand_ins).query.get_compiler(DEFAULT_DB_ALIAS)
        statement, params = compiler.as_sql()
        # Each parameter: a constant of the queryset's, or the index of the value it stands for.
        slots = [(stand_ins.index(p), None) if _is_stand_in(p, stand_ins) else (None, p) for p in params]
        if {index for index, _ in slots if index is not None} != set(range(len(values))):
            raise ValueError(f"{key}: every value must reach the SQL as a parameter of its own")
        fields = [column.target for column, _, _ in compiler.select]
        found = _querysets[key] = (statement, slots, row_reader(compiler.query.model, fields, 0))
    statement, slots, read = found
    params = [constant if index is None else values[index] for index, constant in slots]
    conn = connections[DEFAULT_DB_ALIAS]
    return [read(row, conn) for row in run(statement, params)]


def _is_stand_in(param, stand_ins):
    return type(param) is int and param in stand_ins


def row_reader(model, fields, offset):
    """A function turning this model's slice of a row into an instance (None for an empty LEFT JOIN)."""
    columns = [field.get_col(model._meta.db_table) for field in fields]
    converters = [connection.ops.get_db_converters(column) + column.get_db_converters(connection) for column in columns]
    converting = [(i, chain, columns[i]) for i, chain in enumerate(converters) if chain]
    names = [field.attname for field in fields]
    pk_index = next(i for i, field in enumerate(fields) if field.primary_key)
    plain = _built_plainly(model)

    def read(row, conn=None):
        # `conn` is the real connection, best resolved once per query by the caller, and only when a
        # value needs converting: each lookup through the thread-local `connections` costs a few µs.
        values = list(row[offset : offset + len(fields)])
        if values[pk_index] is None:
            return None
        if converting:
            conn = conn or connections[DEFAULT_DB_ALIAS]
            for i, chain, column in converting:
                for convert in chain:
                    values[i] = convert(values[i], column, conn)
        if not plain:
            return model.from_db(DEFAULT_DB_ALIAS, names, values)
        # What Model.__init__ and from_db leave, without their generic argument handling (a search page
        # builds some three hundred instances: its options and its rows).
        instance = object.__new__(model)
        instance.__dict__.update(zip(names, values, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, DEFAULT_DB_ALIAS
        return instance

    return read


def _built_plainly(model):
    """True when an instance is nothing but its field values and its state: Django's own __init__, and no
    pre_init or post_init receiver (which row_reader's instances would otherwise skip)."""
    return (
        model.__init__ is Model.__init__
        and not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
    )


def joined_columns(parts):
    """The SELECT list and a row reader per model, for (alias, model) parts read side by side in one row;
    a part (alias, model, field names) reads only those fields of its model."""
    qn = connection.ops.quote_name
    columns, readers, offset = [], [], 0
    for alias, model, *names in parts:
        fields = [model._meta.get_field(name) for name in names[0]] if names else list(model._meta.concrete_fields)
        columns += [f"{alias}.{qn(field.column)}" for field in fields]
        readers.append(row_reader(model, fields, offset))
        offset += len(fields)
    return columns, readers


def table(model):
    return connection.ops.quote_name(model._meta.db_table)


def column(model, name):
    return connection.ops.quote_name(model._meta.get_field(name).column)


def db_values(fields, instance, *, adding):
    """The instance's values of `fields` as the database takes them (auto_now and the like applied)."""
    conn = connections[DEFAULT_DB_ALIAS]
    return [f.get_db_prep_save(f.pre_save(instance, adding), conn) for f in fields]


_inserts = {}


def _insert_statement(model, *, from_changed=False, expressions=()):
    """(INSERT statement, fields given as parameters): `expressions` ((field name, SQL), …) are written by
    that SQL instead of a parameter (a value another write of the statement makes)."""
    key = (model, from_changed, expressions)
    found = _inserts.get(key)
    if found is None:
        qn = connection.ops.quote_name
        written = dict(expressions)
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        values = ", ".join(written.get(f.name, "%s") for f in fields)
        statement = (
            f"INSERT INTO {table(model)} ({', '.join(qn(f.column) for f in fields)})"
            + (f" SELECT {values} FROM changed" if from_changed else f" VALUES ({values})")
            + f" RETURNING {qn(model._meta.pk.column)}"
        )
        found = _inserts[key] = (statement, [f for f in fields if f.name not in written])
    return found


def _inserted(instance, pk):
    instance.pk = pk
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    return instance


def insert(instance):
    """INSERT a new instance with one prepared statement and set its primary key: a hot path's create()
    without compiling an INSERT each time. Sends no save signals: only for models nothing listens to.
    """
    statement, fields = _insert_statement(type(instance))
    ((pk,),) = run(statement, db_values(fields, instance, adding=True))
    return _inserted(instance, pk)


class Along(NamedTuple):
    """A write made by another write's statement, only when that one is made (lifecycle.transition's
    `along`): a data-modifying statement that reads the changed row from `changed`; `then` is given the
    value of its `returns` column. Named (`name`), the writes after it may read what it returns."""

    sql: str
    params: list
    returns: str = ""
    then: object = None
    name: str = ""


def insert_along(instance, expressions=None):
    """An Along inserting the new `instance` (its primary key set once made). `expressions`: {field name:
    SQL} for values another write along makes (a posted activity's id, read from its named write)."""
    statement, fields = _insert_statement(
        type(instance), from_changed=True, expressions=tuple(sorted((expressions or {}).items()))
    )
    return Along(statement, db_values(fields, instance, adding=True), returns=connection.ops.quote_name(
        type(instance)._meta.pk.column), then=lambda pk: _inserted(instance, pk))  # fmt: skip


def last_in_transaction():
    """True inside the outermost atomic block, in a transaction nothing has marked for rollback: a write
    made now may carry the COMMIT along (run_and_commit)."""
    conn = connections[DEFAULT_DB_ALIAS]
    return len(conn.atomic_blocks) == 1 and not conn.savepoint_ids and not conn.needs_rollback


def run_and_commit(statement, params):
    """Run one write statement and the COMMIT in one round trip, as the last write of the outermost atomic
    block (last_in_transaction); its rows.

    A multi-statement query, bound on the client: the extended protocol a prepared statement uses takes one
    statement at a time, and a round trip costs more than parsing the statement. The transaction is committed
    on return: the atomic block then finds nothing to commit (psycopg knows the connection idle) and runs
    its on_commit callbacks as usual. On an error the server skips the rest, and the block rolls back.
    """
    if not last_in_transaction():
        raise TransactionManagementError("run_and_commit is the last write of the outermost atomic block.")
    conn = connections[DEFAULT_DB_ALIAS]
    wrapper = _LoggedCursor if conn.queries_logged else CursorWrapper
    raw = psycopg.ClientCursor(conn.connection)
    with wrapper(raw, conn) as cursor:
        cursor.execute(f"{statement}; COMMIT", params)
        return raw.fetchall() if raw.pgresult.status == TUPLES_OK else []


# --- posting: what a post reads ----------------------------------------------------------------


class PostingStatement(NamedTuple):
    sql: str
    readers: list
    rules_end: int  # columns before this one describe the rules (with set, tier, location)
    member_tier: slice  # the columns of the member's tier on the day


# (alias, model) in the order their columns are selected.
_POSTING_PARTS = [("r", EarningRule), ("rs", EarningRuleSet), ("t", Tier), ("l", Location), ("mt", Tier)]
_posting = {}


def posting_context_statement(*, with_reference):
    """The rules in force on a day (with set, tier, location), the member's tier then, an existing post.

    Parameters: membership, day, day, [membership, source, reference,] program, day, day.
    """
    found = _posting.get(with_reference)
    if found is not None:
        return found
    qn = connection.ops.quote_name
    columns, readers, offset, starts = [], [], 0, []
    for alias, model in _POSTING_PARTS:
        fields = list(model._meta.concrete_fields)
        columns += [f"{alias}.{qn(field.column)}" for field in fields]
        readers.append(row_reader(model, fields, offset))
        starts.append(offset)
        offset += len(fields)
    tp, rs, r = TierPeriod, EarningRuleSet, EarningRule
    period = (
        f"SELECT {column(tp, 'tier')} AS tier_id FROM {table(tp)} WHERE {column(tp, 'membership')} = %s"
        f" AND {column(tp, 'valid_from')} <= %s"
        f" AND ({column(tp, 'valid_to')} IS NULL OR {column(tp, 'valid_to')} >= %s)"
        " LIMIT 1"
    )
    joins = [
        f"JOIN {table(rs)} rs ON rs.{column(rs, 'id')} = r.{column(r, 'rule_set')}",
        f"LEFT JOIN {table(Tier)} t ON t.{column(Tier, 'id')} = r.{column(r, 'tier')}",
        f"LEFT JOIN {table(Location)} l ON l.{column(Location, 'id')} = r.{column(r, 'location')}",
        f"LEFT JOIN ({period}) mp ON 1 = 1",
        f"LEFT JOIN {table(Tier)} mt ON mt.{column(Tier, 'id')} = mp.tier_id",
    ]
    if with_reference:
        a = Activity
        already = (
            f"SELECT {column(a, 'id')} AS id FROM {table(a)} WHERE {column(a, 'membership')} = %s"
            f" AND {column(a, 'source')} = %s AND {column(a, 'external_reference')} = %s LIMIT 1"
        )
        joins.append(f"LEFT JOIN ({already}) ex ON 1 = 1")
        columns.append("ex.id")
    sql = (
        f"SELECT {', '.join(columns)} FROM {table(r)} r {' '.join(joins)}"
        f" WHERE rs.{column(rs, 'program')} = %s AND rs.{column(rs, 'valid_from')} <= %s"
        f" AND (rs.{column(rs, 'valid_to')} IS NULL OR rs.{column(rs, 'valid_to')} >= %s)"
        f" ORDER BY r.{column(r, 'id')}"
    )
    found = _posting[with_reference] = PostingStatement(
        sql, readers, rules_end=starts[-1], member_tier=slice(starts[-1], offset)
    )
    return found


class Names:
    """A model's quoted table and column names for hand-written SQL: `N.table`, `N.program` (its column)."""

    def __init__(self, model):
        self.model = model
        self.table = table(model)
        self.pk = connection.ops.quote_name(model._meta.pk.column)

    def __getattr__(self, name):
        return column(self.model, name)
