"""Idempotency keys: a partner's retried request, or a form posted twice, has its effect once.

A partner write carries an `Idempotency-Key` header. The first request with a key
runs holding a PostgreSQL advisory lock on the key, and its response is stored in
the same transaction as its effect; then the same key and body get that response
again and nothing is done twice; the same key with another body is refused (422);
a key whose first request is still running (its lock held) is refused (409). The
database's unique constraint decides between two requests racing with one key. A form
carries a token rendered with it, used the same way, so a double click or a
re-posted page submits once.
"""

import contextvars
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from loyalty import sql
from loyalty.models import IdempotencyKey
from loyalty.text import storable

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class KeyProblem(Exception):
    """The key cannot be used for this request; `status` and `code` say how to answer."""

    def __init__(self, message, *, status, code):
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class KeptText:
    """A kept answer's body as the database gives it back, JSON text: an API sends it as it is, rather than
    parse it and render it again (respond_once(replay_as_text=True))."""

    text: str

    def data(self):
        return json.loads(self.text)


@dataclass
class Replay:
    """The response the first request with this key got: its status and its body's JSON text."""

    status: int
    text: str

    def answer(self, as_text):
        return self.status, KeptText(self.text) if as_text else json.loads(self.text)


def fingerprint(payload):
    """SHA-256 of the request body, with keys sorted: the same data gives the same fingerprint."""
    text = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _reused(key):
    return KeyProblem(
        f"The {HEADER} {key!r} was already used with a different request body; use a new key for a new request.",
        status=422,
        code="key_reused",
    )


def usable(key):
    return bool(key) and len(key) <= MAX_KEY_LENGTH and key.isprintable()


def _check(key):
    if not usable(key):
        raise KeyProblem(
            f"The {HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.", status=400, code="bad_key"
        )


def _in_flight(key):
    return KeyProblem(
        f"A request with the {HEADER} {key!r} is still being processed; retry in a moment.",
        status=409,
        code="key_in_flight",
    )


# Inside the request's transaction, one statement: take the key's lock, or learn that its first request holds
# it (409); and read the stored response of a finished first request. The lock is PostgreSQL's, held to the
# end of the transaction (also when the process dies: it goes with the connection), so no "in flight" row
# is written and none is ever left behind.
LOCK_ID = "hashtextextended(%(user)s::text || ':' || %(scope)s || ':' || %(key)s, 0)"
HOLD_AND_READ = f"""
    SELECT pg_try_advisory_xact_lock({LOCK_ID}),
           (SELECT ARRAY[fingerprint, response_status::text, response_body::text]
              FROM loyalty_idempotencykey WHERE user_id = %(user)s AND scope = %(scope)s AND key = %(key)s)
"""

READ = """
    SELECT fingerprint, response_status, response_body::text
      FROM loyalty_idempotencykey WHERE user_id = %(user)s AND scope = %(scope)s AND key = %(key)s
"""

# The same answer read along with another statement (the API token's: loyalty.authentication), one round trip
# fewer for every keyed write: a LEFT JOIN on the user's id column, its parameters the scope and the key, and
# the column to select, None when no answer is kept for the key.
KEPT_JOIN = (
    "LEFT JOIN loyalty_idempotencykey kept ON kept.user_id = {user} AND kept.scope = %s AND kept.key = %s"
)
KEPT_COLUMN = (
    "CASE WHEN kept.id IS NOT NULL"
    " THEN ARRAY[kept.fingerprint, kept.response_status::text, kept.response_body::text] END"
)
UNREAD = object()  # respond_once's `kept`: the answer kept for the key has not been read


def _replay(key, print_, stored):
    first_print, status, body = stored
    if first_print != print_:
        raise _reused(key)
    return Replay(int(status), body)


def _stored(params, print_):
    """The Replay of the finished first request with this key, or None: one prepared read, no lock taken."""
    rows = sql.run(READ, params)
    return _replay(params["key"], print_, rows[0]) if rows else None


def _hold(params, print_):
    """Take the key's lock, in the transaction of the effect: the Replay of a first request that finished
    meanwhile, or None (the effect is ours to run). KeyProblem 409 while another request holds the key."""
    ((held, stored),) = sql.run(HOLD_AND_READ, params)
    if not held:
        raise _in_flight(params["key"])
    return None if stored is None else _replay(params["key"], print_, stored)


# The key's answer. Its JSON is made here, once: a model's JSONField would dump the body a second time.
KEEP = """
    INSERT INTO loyalty_idempotencykey (user_id, scope, key, fingerprint, response_status, response_body, created_at)
    VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)
"""


def _keep(*, user, scope, key, print_, status, body, commit=False):  # user: a user's id
    # Every partner write pays for this INSERT: with `commit`, the COMMIT goes with it, one round trip.
    text = json.dumps(body, cls=DjangoJSONEncoder)
    if "\\u" in text:
        # Only a body with an escaped character may quote a NUL or a lone surrogate that was sent (a key named
        # with a NUL): jsonb could not store those as they are.
        text = json.dumps(storable(json.loads(text)))
    params = [user, scope, key, print_, status, text, timezone.now()]
    (sql.run_and_commit if commit else sql.run)(KEEP, params)
    return text


_refusals_roll_back = contextvars.ContextVar("refusals_roll_back", default=False)


def effect_savepoint():
    """Should a service's transaction.atomic open a savepoint? Not when it is the effect respond_once runs:
    a refusal then rolls back the key's whole transaction (two round trips fewer on every call), and
    respond_once keeps the refusal after. Anywhere else, yes: a caller may catch the refusal and go on."""
    return not _refusals_roll_back.get()


def respond_once(*, user, scope, key, payload, respond, keep_refusals=True, kept=UNREAD, as_text=False):
    """Run `respond()` -> (status, body) once per key; a repeat gets the first (status, body) back.

    The key's response is stored in the transaction of the request's effect, so both are kept or neither.
    Without a key, `respond()` simply runs. Raises KeyProblem for a key that cannot be used (400 bad_key,
    409 key_in_flight while the first request runs, 422 key_reused with another body).
    keep_refusals=False: a 4xx is not kept, so the key may be used again (a form corrected and re-sent).
    `kept`: the answer kept for this key as KEPT_COLUMN read it along with another statement (None: none);
    by default it is read here. `as_text`: a kept answer's body is its KeptText, the first request's (the
    JSON just kept) as a repeat's.
    """
    if key is None:
        return respond()
    _check(key)
    print_ = fingerprint(payload)
    params = {"user": user.pk, "scope": scope, "key": key}
    # A repeat usually comes after its first request finished: one read answers it, with no transaction.
    if kept is UNREAD:
        replay = _stored(params, print_)
    else:
        replay = None if kept is None else _replay(key, print_, kept)
    if replay is not None:
        return replay.answer(as_text)
    try:
        with transaction.atomic():
            replay = _hold(params, print_)
            if replay is not None:
                return replay.answer(as_text)
            token = _refusals_roll_back.set(True)
            try:
                status, body = respond()
            finally:
                _refusals_roll_back.reset(token)
            keep = status < 400 or keep_refusals
            # A service that opened no savepoint of its own (effect_savepoint) marked the whole transaction for
            # rollback when it refused: its refusal is kept after that rollback, in a transaction of its own.
            rolled_back = transaction.get_rollback()
            if rolled_back and status < 400:
                raise TransactionManagementError(f"{scope} answered {status} but its transaction was rolled back.")
            if keep and not rolled_back:
                # The key's answer is the transaction's last write: it takes the COMMIT along when this block
                # is the outermost (not inside a caller's transaction, nor a test's).
                text = _keep(**params, print_=print_, status=status, body=body, commit=sql.last_in_transaction())
        if keep and rolled_back:
            with transaction.atomic():
                replay = _hold(params, print_)
                if replay is not None:
                    return replay.answer(as_text)
                text = _keep(**params, print_=print_, status=status, body=body)
    except IntegrityError as error:
        # The first request with the key finished between this one's read and its lock (the database's
        # unique constraint caught it): everything this one did is rolled back; answer as a repeat.
        diagnosis = getattr(error.__cause__, "diag", None)
        if getattr(diagnosis, "constraint_name", "") != "one_request_per_idempotency_key":
            raise
        replay = _stored(params, print_)
        if replay is None:
            raise
        return replay.answer(as_text)
    return status, KeptText(text) if as_text and keep else body


def retention():
    """How long a key is kept (IDEMPOTENCY_KEY_RETENTION_HOURS, at least 24 hours)."""
    return dt.timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)


def purge_expired(*, now=None, batch=5_000):
    """Forget the keys older than the retention, a batch at a time (short locks); returns how many."""
    cutoff = (now or timezone.now()) - retention()
    purged = 0
    while True:
        ids = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return purged
        purged += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]


def new_form_token():
    """A token rendered into a form: posting the form twice with it submits once."""
    return uuid.uuid4().hex
