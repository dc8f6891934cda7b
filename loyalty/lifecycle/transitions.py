"""The transition writer: the only code that changes a lifecycle's state and records who, when, from, to and why.

Every lifecycle in the product (claims of every kind, manual-handling cases)
is a django-fsm field with `protected=True`. Its
transitions are declared on the model; they are applied here, and only here,
together with their log row (django-fsm-log's StateLog), in one statement:
a state change without its log row, or a log row without its change, cannot
be written.
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django_fsm import ANY_OTHER_STATE, ANY_STATE, State, TransitionNotAllowed
from django_fsm_log.models import StateLog

from loyalty import sql
from loyalty.lifecycle import statements


class TransitionRefused(ValidationError):
    """The lifecycle does not allow this change from the object's current state."""


class NoSignalLogging:
    """django-fsm-log's storage backend, switched off: the writer logs each change itself.

    django-fsm-log would otherwise insert a log row the moment a transition method runs,
    before (or without) the state being saved.
    """

    @staticmethod
    def setup_model(model):
        pass

    @staticmethod
    def pre_transition_callback(*args, **kwargs):
        pass

    @staticmethod
    def post_transition_callback(*args, **kwargs):
        pass


def _method(model, name):
    method = getattr(model, name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        raise ValueError(f"{model.__name__} has no lifecycle transition named {name!r}.")
    return meta


def _user_id(by):
    if by is None or isinstance(by, AnonymousUser):
        return None
    return by.pk


def _state_label(model, state_field, state):
    return str(dict(state_field.flatchoices).get(state, state))


def transition(obj, name, *, by, reason="", fields=(), along=()):
    """Apply the lifecycle transition `name` to `obj` and save its new state, `fields` and the log row.

    The transition method declared on the model decides whether the change is allowed from the
    current state (and runs its conditions); `fields` are the other fields this change set on the
    object, saved in the same statement. Raises TransitionRefused with a readable message when the
    lifecycle does not allow it, or when the row in the database has left the state the object had
    (someone else changed it meanwhile).

    `along`: other writes that go with this change (sql.Along: an operation's row, its lines), made by the
    same statement, one round trip for all, and only when the change is made.
    """
    model = type(obj)
    meta = _method(model, name)
    state_field = meta.field
    source = state_field.get_state(obj)
    try:
        getattr(obj, name)()
    except TransitionNotAllowed:
        raise TransitionRefused(
            f"{model._meta.verbose_name.capitalize()} {obj} is {_state_label(model, state_field, source)}: "
            f"it cannot be changed that way ({name.replace('_', ' ')}).",
            code="transition_refused",
        )
    target = state_field.get_state(obj)
    save_fields = [model._meta.get_field(f) for f in fields if f != state_field.name]
    params = [state_field.get_db_prep_save(target, connection)]
    params += sql.db_values(save_fields, obj, adding=False)
    params += [obj.pk, source]
    params += [
        timezone.now(),
        _user_id(by),
        source,
        target,
        name,
        ContentType.objects.get_for_model(model).pk,
        (reason or "").strip(),
    ]
    statement = statements.transition_statement(
        model, state_field, save_fields, StateLog, tuple((write.sql, write.returns, write.name) for write in along)
    )
    rows = sql.run(statement, params + [value for write in along for value in write.params])
    if rows:
        returned = iter(rows[0][1:])
        for write in along:
            if write.returns:
                write.then(next(returned))
    else:
        state_field.set_state(obj, source)
        raise TransitionRefused(
            f"{model._meta.verbose_name.capitalize()} {obj} was changed by someone else meanwhile; "
            "open it again to see where it stands.",
            code="changed_meanwhile",
        )
    return obj


def static_target(model, name):
    """The source states and single target of a transition that bulk_transition can apply set-based."""
    meta = _method(model, name)
    targets = {t.target for t in meta.transitions.values()}
    if len(targets) != 1 or any(isinstance(t, State) for t in targets):
        raise ValueError(f"{model.__name__}.{name} has no single fixed target: apply it one object at a time.")
    if any(t.conditions for t in meta.transitions.values()):
        raise ValueError(f"{model.__name__}.{name} has conditions: apply it one object at a time.")
    sources = list(meta.transitions)
    if ANY_STATE in sources:
        sources = None
    elif ANY_OTHER_STATE in sources:
        sources = "other"
    return meta.field, sources, targets.pop()


def bulk_transition(queryset_or_ids, name, *, by, reason="", model=None, row_values=None, values=None):
    """Apply the transition `name` to many rows at once: one statement per call, set-based.

    `queryset_or_ids`: a queryset, or ids with `model`. Rows whose state the transition does not
    leave from are left alone: the FSM's rules hold here as they do one object at a time.
    `reason`: one text for all, or {id: text}. `row_values`: {field name: {id: value}} written
    with the state (ids only); `values`: {field name: value} for every row. Returns the ids changed.
    """
    if isinstance(queryset_or_ids, models.QuerySet):
        model = queryset_or_ids.model
        if row_values or isinstance(reason, dict):
            raise ValueError("Per-row values need the ids, not a queryset.")
    elif model is None:
        raise ValueError("Give the model of these ids.")
    state_field, sources, target = static_target(model, name)
    row_values = row_values or {}
    values = values or {}
    row_fields = [model._meta.get_field(f) for f in row_values]
    same_fields = [model._meta.get_field(f) for f in values]
    if isinstance(queryset_or_ids, models.QuerySet):
        ids_sql, params = statements.queryset_rows_sql(queryset_or_ids)
        params = [(reason or "").strip(), *params]
    else:
        ids = list(queryset_or_ids)
        if not ids:
            return []
        reasons = reason if isinstance(reason, dict) else {}
        ids_sql = statements.unnest_rows_sql(model, row_fields)
        params = [ids, [(reasons.get(pk, "") if reasons else (reason or "")).strip() for pk in ids]]
        for field in row_fields:
            by_id = row_values[field.name]
            params.append([field.get_db_prep_save(by_id.get(pk), connection) for pk in ids])
    if sources == "other":
        params.append(target)
    elif sources is not None:
        params.append(sources)
    params.append(target)
    params += [field.get_db_prep_save(values[field.name], connection) for field in same_fields]
    params += [timezone.now(), _user_id(by), target, name, ContentType.objects.get_for_model(model).pk]
    statement = statements.bulk_transition_statement(
        model,
        state_field,
        row_fields=row_fields,
        same_fields=same_fields,
        sources=sources,
        ids_sql=ids_sql,
        log_model=StateLog,
    )
    return [pk for (pk,) in sql.run(statement, params)]
