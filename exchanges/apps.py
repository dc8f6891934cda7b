"""The exchanges app (seed 004) plugs its booking-engine API and its links, back office, Redemptions tab, grants,
admin and demo into the core."""

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
    "exchanges.approve_casecorrection",
    "exchanges.view_casecorrection",
]


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        from exchanges.api_links import LINKS as API_LINKS
        from exchanges.corrections import CORRECTION_APPROVALS
        from exchanges.demo import seed_exchanges
        from exchanges.operations import GAUGES
        from exchanges.reconciliation import CHECKS as RECONCILIATION
        from exchanges.views import redemptions_tab_context
        from loyalty.lifecycle.decisions import register_policy

        plugins.add_urls("exchanges/", "exchanges.urls_api", api=True)
        plugins.add_urls("exchanges/", "exchanges.urls")
        for link in API_LINKS:
            plugins.add_api_link(link)
        for item in [
            NavItem("Exchanges", "exchanges-operations", "exchanges.view_pointsoperation"),
            NavItem("Manual handling", "exchanges-manual-handling", "exchanges.view_manualhandlingcase"),
            NavItem("Points corrections", "exchanges-corrections", "exchanges.approve_casecorrection"),
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
        register_policy(CORRECTION_APPROVALS)
        for check in RECONCILIATION:
            plugins.add_reconciliation_check(check)
        for gauge in GAUGES:
            plugins.add_business_gauge(gauge)
