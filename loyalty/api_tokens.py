"""API tokens (django-rest-knox): only a hash is stored, every token expires, and a new one replaces the old.

A token is shown once, when it is issued: the database keeps its SHA-512 digest (knox's `digest`, the primary
key) and its first 15 characters (knox's `token_key`, to find the row), never the token itself. A token past its
`expiry` is refused (401). Issuing a new one (`issue_token`) either revokes the user's other tokens at once (a
leaked token), lets them work a little longer (a planned switch without downtime: the partner deploys the new
token, then the old one lapses), or leaves them as they are.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS


def token_ttl(days=None):
    """How long a new token is valid: `days`, or API_TOKEN_TTL_DAYS."""
    return dt.timedelta(days=settings.API_TOKEN_TTL_DAYS if days is None else days)


def rotation_overlap():
    """How long a planned rotation lets the old tokens work (API_TOKEN_ROTATION_OVERLAP_DAYS)."""
    return dt.timedelta(days=settings.API_TOKEN_ROTATION_OVERLAP_DAYS)


def stored_fields(token):
    """What the database keeps of a token: its digest and its lookup prefix (knox's own scheme)."""
    return {"digest": hash_token(token), "token_key": token[: CONSTANTS.TOKEN_KEY_LENGTH]}


@transaction.atomic
def issue_token(user, *, days=None, old_tokens_for=None):
    """A new token for `user`, valid `days` (API_TOKEN_TTL_DAYS): (its row, the token, to be shown once).

    The user's other tokens: with `old_tokens_for` None, left as they are; timedelta(0), revoked now; a longer
    duration, they stop working that long from now at the latest. Expired ones are deleted in any case.
    """
    now = timezone.now()
    others = AuthToken.objects.filter(user=user)
    others.filter(expiry__lte=now).delete()
    if old_tokens_for is not None:
        if old_tokens_for <= dt.timedelta(0):
            others.delete()
        else:
            until = now + old_tokens_for
            others.filter(Q(expiry__isnull=True) | Q(expiry__gt=until)).update(expiry=until)
    return AuthToken.objects.create(user=user, expiry=token_ttl(days))


def store_known_token(user, token, *, days=None):
    """Store a token whose text is already known (the demo's), hashed like any other, valid `days` from now.

    For the demo only: a token anyone can read is no secret. Storing it again renews its expiry.
    """
    fields = stored_fields(token)
    row, _ = AuthToken.objects.update_or_create(
        digest=fields["digest"],
        defaults={"user": user, "token_key": fields["token_key"], "expiry": timezone.now() + token_ttl(days)},
    )
    return row

