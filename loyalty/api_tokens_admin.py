"""Django admin for the partners' API tokens: knox's, with an expiry that is required and proposed."""

from django.contrib import admin
from django.utils import timezone
from knox.admin import AuthTokenAdmin, AuthTokenCreateForm
from knox.models import AuthToken

from loyalty.api_tokens import token_ttl


class ApiTokenCreateForm(AuthTokenCreateForm):
    """knox's form (the token is shown once after saving), with an expiry that is required and proposed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expiry = self.fields["expiry"]
        expiry.required = True
        expiry.initial = timezone.now() + token_ttl()
        expiry.help_text = "The token is refused after this (UTC). Proposed: API_TOKEN_TTL_DAYS from now."


# knox's admin (its app "Knox", model "Auth tokens": digests and dates only), with that form.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(AuthTokenAdmin):
    add_form = ApiTokenCreateForm
    list_display = ["user", "created", "expiry", "digest"]
    list_select_related = ["user"]
    ordering = ["-created"]

    def get_readonly_fields(self, request, obj=None):
        # A stored token: only its expiry changes (to cut it short); delete it to revoke it.
        return ["user", "token_key", "digest", "created"] if obj else []
