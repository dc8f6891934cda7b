"""The booking engines' token authentication: the partner client is read with the token, in the same query."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class PartnerTokenAuthentication(authentication.TokenAuthentication):
    """REST framework's token check, joining the user's partner client (every exchanges call needs it)."""

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user__partner_client").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for it: a partner client's token, sent as `Authorization: Token …`."""

    target_class = PartnerTokenAuthentication
    name = "partnerTokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'A partner client\'s token, with the prefix "Token ".'}  # fmt: skip
