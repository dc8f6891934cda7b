"""The API's token check: django-rest-knox's hashed, expiring tokens, read in one query.

knox's TokenAuthentication reads the token row with its user, then every token of that user (to delete the
expired ones) on each request. This one reads the token row with its user (and whatever `related` adds) in one
query and writes nothing: an expired token is refused, and expired rows are deleted when the user is next
issued a token (loyalty.api_tokens.issue_token). The header is unchanged: `Authorization: Token <token>`.
"""

import binascii
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from loyalty import idempotency, sql


class ExpiringTokenAuthentication(auth.TokenAuthentication):
    """knox's hashed tokens, one query per request; a token past its expiry answers 401."""

    # What a subclass's views read of the user, read with the token: reverse one-to-one links of the user
    # (exchanges: its partner client), cached on the user (None when it has none).
    with_user = ()
    # A keyed write (a view naming its `idempotency_scope`, with an Idempotency-Key) has the answer already kept
    # for its key read with the token: `auth_token.kept` = ((scope, key), KEPT_COLUMN's value), for
    # loyalty.idempotency.respond_once(kept=…). One round trip fewer on every keyed write, first or repeat.
    kept_for = None

    def authenticate(self, request):
        scope = getattr((getattr(request, "parser_context", None) or {}).get("view"), "idempotency_scope", None)
        key = request.headers.get(idempotency.HEADER) if scope else None
        self.kept_for = (scope, key) if key is not None and idempotency.usable(key) else None
        return super().authenticate(request)

    def authenticate_credentials(self, token):
        invalid = _("Invalid token.")
        try:
            token = token.decode("utf-8") if isinstance(token, bytes) else token
            digest = hash_token(token)
        except (TypeError, UnicodeError, binascii.Error):
            raise exceptions.AuthenticationFailed(invalid) from None
        for auth_token in tokens_with_user(token[: CONSTANTS.TOKEN_KEY_LENGTH], type(self).with_user, self.kept_for):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry <= timezone.now():
                raise exceptions.AuthenticationFailed(_("Token expired."))
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(invalid)


_statements = {}


def _tokens_statement(with_user, with_kept):
    """The tokens of a key with their user and the user's `with_user` links (and, `with_kept`, the answer kept
    for an idempotency key, last): SQL and row readers, built once."""
    found = _statements.get((with_user, with_kept))
    if found is not None:
        return found
    token_model, user_model = get_token_model(), get_user_model()
    links = [user_model._meta.get_field(name) for name in with_user]
    parts = [("t", token_model), ("u", user_model), *((f"r{n}", link.related_model) for n, link in enumerate(links))]
    columns, readers = sql.joined_columns(parts)
    t, u = sql.Names(token_model), sql.Names(user_model)
    joins = [f"JOIN {u.table} u ON u.{u.pk} = t.{t.user}"]
    for n, link in enumerate(links):
        other = sql.Names(link.related_model)
        joins.append(f"LEFT JOIN {other.table} r{n} ON r{n}.{getattr(other, link.field.name)} = u.{u.pk}")
    if with_kept:
        columns.append(idempotency.KEPT_COLUMN)
        joins.append(idempotency.KEPT_JOIN.format(user=f"u.{u.pk}"))
    statement = f"SELECT {', '.join(columns)} FROM {t.table} t {' '.join(joins)} WHERE t.{t.token_key} = %s"
    found = _statements[(with_user, with_kept)] = (statement, readers, links)
    return found


def tokens_with_user(token_key, with_user=(), kept_for=None):
    """The tokens whose key is `token_key`, each with its user (and the user's `with_user` links) read in one
    prepared statement: every API request runs it, where compiling the queryset cost more than the query.
    `kept_for`: (scope, idempotency key) whose kept answer is read too (ExpiringTokenAuthentication.kept_for)."""
    statement, (read_token, read_user, *read_links), links = _tokens_statement(tuple(with_user), bool(kept_for))
    token_model = get_token_model()
    tokens = []
    for row in sql.run(statement, [*(kept_for or ()), token_key]):
        auth_token, user = read_token(row), read_user(row)
        if kept_for:
            auth_token.kept = (kept_for, row[-1])
        token_model._meta.get_field("user").set_cached_value(auth_token, user)
        for link, read in zip(links, read_links, strict=True):
            link.set_cached_value(user, read(row))
        tokens.append(auth_token)
    return tokens


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The schema keeps REST framework's name and description for it: tokenAuth, `Authorization: Token …`."""

    target_class = ExpiringTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'Token-based authentication with required prefix "Token"'}  # fmt: skip
