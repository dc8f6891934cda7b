"""The API's token check: django-rest-knox's hashed, expiring tokens, read in one query.

knox's TokenAuthentication reads the token row with its user, then every token of that user (to delete the
expired ones) on each request. This one reads the token row with its user (and whatever `related` adds) in one
query and writes nothing: an expired token is refused, and expired rows are deleted when the user is next
issued a token (loyalty.api_tokens.issue_token). The header is unchanged: `Authorization: Token <token>`.
"""

import binascii
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions


class ExpiringTokenAuthentication(auth.TokenAuthentication):
    """knox's hashed tokens, one query per request; a token past its expiry answers 401."""

    related = ("user",)

    def authenticate_credentials(self, token):
        invalid = _("Invalid token.")
        try:
            token = token.decode("utf-8") if isinstance(token, bytes) else token
            digest = hash_token(token)
        except (TypeError, UnicodeError, binascii.Error):
            raise exceptions.AuthenticationFailed(invalid) from None
        candidates = get_token_model().objects.select_related(*self.related)
        for auth_token in candidates.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry <= timezone.now():
                raise exceptions.AuthenticationFailed(_("Token expired."))
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(invalid)


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The schema keeps REST framework's name and description for it: tokenAuth, `Authorization: Token …`."""

    target_class = ExpiringTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'Token-based authentication with required prefix "Token"'}  # fmt: skip
