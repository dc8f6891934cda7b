"""The membership claims app (seed 002): its profile tab and its claims lamp in the member-profile header."""

from django.apps import AppConfig

from loyalty import plugins
from loyalty.plugins import HeaderIndicator, ProfileLink


def claims_lamp(user, member, membership):
    # Lit while the member has a claim that is not CLOSED; membership claims are not built yet, so it stays off.
    return {"lit": False, "title": "No open claims"}


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Membership claims"

    def ready(self):
        # The member's membership claims (seed 002), a tab the core serves from this app's template.
        plugins.add_profile_tab(
            ProfileLink(
                "claims", "Claims", "member-profile-tab", "loyalty.view_member", "claims/partials/tab_claims.html",
                order=40,
            )
        )
        plugins.add_header_indicator(
            HeaderIndicator("claims-lamp", "claims/partials/lamp.html", ("loyalty.view_member",), claims_lamp)
        )
        plugins.administer("claims")
