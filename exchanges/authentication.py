"""The booking engines' token authentication: the partner client is read with the token, in the same query."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from loyalty.authentication import ExpiringTokenAuthentication


class PartnerTokenAuthentication(ExpiringTokenAuthentication):
    """The API's hashed, expiring token check, joining the user's partner client (every exchanges call needs it)."""

    with_user = ("partner_client",)


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for it: a partner client's token, sent as `Authorization: Token …`."""

    target_class = PartnerTokenAuthentication
    name = "partnerTokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'A partner client\'s token, with the prefix "Token ".'}  # fmt: skip
