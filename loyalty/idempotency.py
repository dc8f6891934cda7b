"""Idempotency keys: a partner's retried request, or a form posted twice, has its effect once.

A partner write carries an `Idempotency-Key` header. The first request with a key
is recorded (in flight) before it runs and its response stored in the same
transaction as its effect; then the same key and body get that response again
and nothing is done twice; the same key with another body is refused (422); a
key whose first request is still running is refused (409). The database's
unique constraint decides between two requests racing with one key. A form
carries a token rendered with it, used the same way, so a double click or a
re-posted page submits once.
"""

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.models import IdempotencyKey
from loyalty.text import storable

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A first request that has run this long without finishing is taken as lost (its process died):
# its transaction rolled back, so a retry may do the work.
ABANDONED_AFTER = dt.timedelta(minutes=2)


class KeyProblem(Exception):
    """The key cannot be used for this request; `status` and `code` say how to answer."""

    def __init__(self, message, *, status, code):
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class Replay:
    """The response the first request with this key got."""

    status: int
    body: object


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


def begin(*, user, scope, key, payload):
    """Record the first request with `key`, or answer a repeat: returns the in-flight record or a Replay."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise KeyProblem(
            f"The {HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.", status=400, code="bad_key"
        )
    print_ = fingerprint(payload)
    # A repeat of a finished request (the usual retry) is answered by one read: a done record never changes
    # again, so it needs neither the failed INSERT nor the row lock and commit below.
    done = IdempotencyKey.objects.filter(user=user, scope=scope, key=key, state=IdempotencyKey.State.DONE)
    for first_print, status, body in done.values_list("fingerprint", "response_status", "response_body")[:1]:
        if first_print != print_:
            raise _reused(key)
        return Replay(status, body)
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, scope=scope, key=key, fingerprint=print_)
    except IntegrityError:
        pass
    with transaction.atomic():
        first = IdempotencyKey.objects.select_for_update().get(user=user, scope=scope, key=key)
        if first.fingerprint != print_:
            raise _reused(key)
        if first.state == IdempotencyKey.State.DONE:
            return Replay(first.response_status, first.response_body)
        if timezone.now() - first.created_at < ABANDONED_AFTER:
            raise KeyProblem(
                f"A request with the {HEADER} {key!r} is still being processed; retry in a moment.",
                status=409,
                code="key_in_flight",
            )
        first.created_at = timezone.now()  # taken over: its first request was lost
        first.save(update_fields=["created_at"])
        return first


def finish(record, *, status, body):
    """Keep the response; call inside the transaction that made the request's effect."""
    record.state = IdempotencyKey.State.DONE
    record.response_status = status
    # A refusal may quote what was sent (a key named with a NUL): jsonb could not store it as it is.
    record.response_body = storable(json.loads(json.dumps(body, cls=DjangoJSONEncoder)))
    record.save(update_fields=["state", "response_status", "response_body"])


def abandon(record):
    """The request failed without effect: a retry with the key may try again."""
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_FLIGHT).delete()


def respond_once(*, user, scope, key, payload, respond, keep_refusals=True):
    """Run `respond()` -> (status, body) once per key; a repeat gets the first (status, body) back.

    Without a key, `respond()` simply runs. Raises KeyProblem for a key that cannot be used.
    keep_refusals=False: a 4xx is not kept, so the key may be used again (a form corrected and re-sent).
    """
    if key is None:
        return respond()
    outcome = begin(user=user, scope=scope, key=key, payload=payload)
    if isinstance(outcome, Replay):
        return outcome.status, outcome.body
    try:
        with transaction.atomic():
            status, body = respond()
            if status < 400 or keep_refusals:
                finish(outcome, status=status, body=body)
            else:
                abandon(outcome)
    except BaseException:
        abandon(outcome)
        raise
    return status, body


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
