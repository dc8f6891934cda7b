"""The exchanges app (seed 004) plugs its booking-engine API, back office, Redemptions tab, grants, admin and demo
into the core."""

from django.apps import AppConfig

from loyalty import plugins
from loyalty.plugins import CSR, SUPERVISOR, DemoStep, NavItem, ProfileLink

CSR_PERMISSIONS = [
    "exchanges.view_manualhandlingcase",
    "exchanges.view_redemption",
    "exchanges.view_pointsoperation",
]
SUPERVISOR_PERMISSIONS = [
    "exchanges.handle_manualhandlingcase",
]


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        from exchanges.demo import seed_exchanges
        from exchanges.views import redemptions_tab_context

        plugins.add_urls("exchanges/", "exchanges.urls_api", api=True)
        plugins.add_urls("exchanges/", "exchanges.urls")
        for item in [
            NavItem("Exchanges", "exchanges-operations", "exchanges.view_pointsoperation"),
            NavItem("Manual handling", "exchanges-manual-handling", "exchanges.view_manualhandlingcase"),
        ]:
            plugins.add_navigation(item)
        plugins.add_profile_tab(
            ProfileLink("redemptions", "Redemptions", "member-profile-tab", "exchanges.view_redemption",
                        "exchanges/partials/tab_redemptions.html", context=redemptions_tab_context, order=60)
        )  # fmt: skip
        plugins.grant(CSR, *CSR_PERMISSIONS)
        plugins.grant(SUPERVISOR, *CSR_PERMISSIONS, *SUPERVISOR_PERMISSIONS)
        plugins.administer("exchanges")
        plugins.add_demo_step(DemoStep("exchanges", seed_exchanges))
