"""The lifecycle writer's hand-written SQL (loyalty.lifecycle.transitions): a state change and its log row in
one statement, for one row or a whole batch; built from the models' `_meta`, run by loyalty.sql.run."""

from django.db import connection

from loyalty import sql


def _log_insert(log_model):
    names = ("timestamp", "by", "source_state", "state", "transition", "content_type", "object_id", "description")
    return f"INSERT INTO {sql.table(log_model)} ({', '.join(sql.column(log_model, name) for name in names)})"


_transitions = {}


def transition_statement(model, state_field, fields, log_model, along=()):
    """transition_statement_for's statement, built once per process for each model, set of fields and writes
    along (their SQL and what they return: sql.Along)."""
    key = (model, state_field.name, tuple(field.name for field in fields), log_model, along)
    found = _transitions.get(key)
    if found is None:
        found = _transitions[key] = transition_statement_for(model, state_field, fields, log_model, along)
    return found


def transition_statement_for(model, state_field, fields, log_model, along=()):
    """One statement: the row's new state and `fields` (only while the row is still in the source state),
    its log row, and the writes `along` ((SQL, column returned or "", CTE name or "") each: data-modifying
    statements that read `changed`, or a named write before them, so they write only with the change).
    Returns a row when the change was made: 1, then the column each write along returns; none when the row had
    left the source state.

    Parameters: target, *values of fields, pk, source, then timestamp, by, source, target, transition name,
    content type, description, then those of the writes along, in order.
    """
    qn = connection.ops.quote_name
    assignments = ", ".join([f"{qn(state_field.column)} = %s", *(f"{qn(f.column)} = %s" for f in fields)])
    pk, state = qn(model._meta.pk.column), qn(state_field.column)
    names = [name or f"along_{i}" for i, (_, _, name) in enumerate(along)]
    writes = "".join(f", {name} AS ({statement})" for name, (statement, _, _) in zip(names, along, strict=True))
    returned = "".join(
        f", (SELECT {column} FROM {name})" for name, (_, column, _) in zip(names, along, strict=True) if column
    )
    return (
        f"WITH changed AS (UPDATE {sql.table(model)} SET {assignments} WHERE {pk} = %s AND {state} = %s"
        f" RETURNING {pk} AS id), logged AS ({_log_insert(log_model)}"
        f" SELECT %s, %s, %s, %s, %s, %s, changed.id, %s FROM changed RETURNING 1){writes}"
        f" SELECT 1{returned} FROM logged"
    )


def bulk_transition_statement(model, state_field, *, row_fields, same_fields, sources, ids_sql, log_model):
    """One statement for a whole batch: lock the rows still in a source state, set their state and fields,
    log each one. Rows in another state are left alone. Returns the ids changed.

    `ids_sql` yields (id, reason, *row_fields values) rows as `u`; parameters after its own: the source states
    (when `sources` is a list), target, *values of same_fields, then timestamp, by, target, transition name,
    content type.
    """
    qn = connection.ops.quote_name
    state, pk = qn(state_field.column), qn(model._meta.pk.column)
    if sources is None:  # the transition leaves from any state
        source_check = "TRUE"
    elif sources == "other":  # from any state but its target
        source_check = f"t.{state} <> %s"
    else:
        source_check = f"t.{state} = ANY(%s)"
    assignments = [f"{state} = %s"]
    assignments += [f"{qn(f.column)} = u.{qn('v_' + f.column)}" for f in row_fields]
    assignments += [f"{qn(f.column)} = %s" for f in same_fields]
    # The rows are locked by primary key ("= ANY(ARRAY(…))"): joined to the id list instead, whose
    # size the planner cannot know, it read the whole table for every batch.
    return (
        f"WITH u AS ({ids_sql}),"
        f" locked AS (SELECT t.{pk} AS id, t.{state} AS source FROM {sql.table(model)} t"
        f" WHERE t.{pk} = ANY(ARRAY(SELECT id FROM u)) AND {source_check} FOR UPDATE OF t),"
        f" changed AS (UPDATE {sql.table(model)} t SET {', '.join(assignments)} FROM locked JOIN u ON u.id = locked.id"
        f" WHERE t.{pk} = locked.id RETURNING t.{pk} AS id, locked.source, u.reason)"
        f" {_log_insert(log_model)} SELECT %s, %s, changed.source, %s, %s, %s, changed.id, changed.reason"
        f" FROM changed RETURNING {sql.column(log_model, 'object_id')}"
    )


def unnest_rows_sql(model, row_fields):
    """`u` for bulk_transition_statement from arrays: ids, reasons, then one array per row field."""
    qn = connection.ops.quote_name
    arrays = [f"%s::{model._meta.pk.rel_db_type(connection)}[]", "%s::text[]"]
    arrays += [f"%s::{f.rel_db_type(connection) if f.is_relation else f.db_type(connection)}[]" for f in row_fields]
    names = ["id", "reason", *(qn("v_" + f.column) for f in row_fields)]
    return f"SELECT * FROM unnest({', '.join(arrays)}) AS u({', '.join(names)})"


def queryset_rows_sql(queryset):
    """`u` for bulk_transition_statement from a queryset's ids and one reason for all; and its parameters."""
    sql, params = queryset.order_by().values_list("pk", flat=True).query.sql_with_params()
    return f"SELECT q.id, %s::text AS reason FROM ({sql}) AS q(id)", list(params)
