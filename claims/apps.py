"""The membership claims app (seed 002): its claims lamp in the member-profile header."""

from django.apps import AppConfig

from loyalty import plugins
from loyalty.plugins import HeaderIndicator


def claims_lamp(user, member, membership):
    # Lit while the member has a claim that is not CLOSED; membership claims are not built yet, so it stays off.
    return {"lit": False, "title": "No open claims"}


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Membership claims"

    def ready(self):
        plugins.add_header_indicator(
            HeaderIndicator("claims-lamp", "claims/partials/lamp.html", ("loyalty.view_member",), claims_lamp)
        )
        plugins.administer("claims")
