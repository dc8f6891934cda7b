"""The retro app plugs its screens, API and its links, profile tab and badge, grants, demo and approval policy into
the core."""

from django.apps import AppConfig

from loyalty import plugins
from loyalty.plugins import CSR, MEMBER, SUPERVISOR, DemoStep, HeaderIndicator, NavItem, ProfileLink, TabSection

CSR_PERMISSIONS = [
    "retro.view_retroclaim",
    "retro.add_retroclaim",
    "retro.withdraw_retroclaim",
    "retro.view_retrotransaction",
    "retro.add_flightclaim",
    "retro.view_flightclaim",
    "retro.view_flight",
]
SUPERVISOR_PERMISSIONS = [
    "retro.approve_retroclaim",
    "retro.reverse_retroclaim",
    "retro.add_retrotransaction",
    "retro.view_retroimportbatch",
    "retro.approve_flightclaim",
    "retro.add_flight",
]


class RetroConfig(AppConfig):
    name = "retro"
    verbose_name = "Retro claims"

    def ready(self):
        # These read models, which exist only once apps are ready; tasks registers the task names
        # that services queue by name (loyalty.background.queue_task).
        from loyalty.lifecycle.decisions import register_policy
        from retro import selectors, tasks  # noqa: F401
        from retro.api.links import LINKS as API_LINKS
        from retro.decisions import RETRO_CLAIM_APPROVALS
        from retro.demo import seed_retro
        from retro.flights import imports as flight_imports  # noqa: F401 - registers the flights import kind
        from retro.flights import views as flight_views
        from retro.flights.decisions import FLIGHT_CLAIM_APPROVALS
        from retro.flights.demo import seed_flights
        from retro.operations import GAUGES, HEALTH
        from retro.reconciliation import CHECKS as RECONCILIATION

        plugins.add_urls("retro/", "retro.urls")
        plugins.add_urls("portal/", "retro.urls_portal")
        plugins.add_urls("retro/", "retro.urls_api", api=True)
        for link in API_LINKS:
            plugins.add_api_link(link)
        for item in [
            NavItem("Retro claim activity", "retro-claim-activity", "retro.view_retroclaim"),
            NavItem("Retro approvals", "retro-approval-queue", "retro.approve_retroclaim"),
            NavItem("Flights approval", "flight-approval-queue", "retro.approve_flightclaim"),
            NavItem("Import retro transactions", "retro-transaction-import", "retro.add_retrotransaction"),
            NavItem("Import flights", "flight-import", "retro.add_flight"),
            NavItem("My retro claims", "portal-home", "retro.submit_own_retro_claim"),
        ]:
            plugins.add_navigation(item)
        plugins.add_profile_tab(
            ProfileLink("retro-claims", "Retro claims", "member-retro-claims", "retro.view_retroclaim", order=50)
        )
        plugins.add_tab_section(
            TabSection("flights", "flight-claims", "retro/flights/member_tab.html", "retro.view_flightclaim",
                       flight_views.flight_claims_section)
        )  # fmt: skip
        # Seed 000: More > Retro Claim > Airline, beside the other retro claim types; then a flight by hand.
        for action in [
            ProfileLink("retro-claim", "Purchase or stay", "member-retro-claims", "retro.add_retroclaim",
                        group="Retro Claim", order=10),
            ProfileLink("retro-claim-airline", "Airline", "member-flight-claim-wizard", "retro.add_flightclaim",
                        group="Retro Claim", order=11, modal=True),
            ProfileLink("add-flight-activity", "Add flight activity", "member-manual-flight", "retro.add_flightclaim",
                        order=20, modal=True),
        ]:  # fmt: skip
            plugins.add_more_action(action)
        plugins.add_header_indicator(
            HeaderIndicator(
                "open-retro-claims",
                "retro/partials/header_badge.html",
                ("retro.view_retroclaim",),
                selectors.open_retro_claims_badge,
            )
        )
        plugins.grant(CSR, *CSR_PERMISSIONS)
        plugins.grant(SUPERVISOR, *CSR_PERMISSIONS, *SUPERVISOR_PERMISSIONS)
        plugins.grant(MEMBER, "retro.submit_own_retro_claim")
        plugins.administer("retro")
        plugins.add_demo_step(DemoStep("retro", seed_retro))
        plugins.add_demo_step(DemoStep("flights", seed_flights))
        register_policy(RETRO_CLAIM_APPROVALS)
        register_policy(FLIGHT_CLAIM_APPROVALS)
        for check in RECONCILIATION:
            plugins.add_reconciliation_check(check)
        for part in HEALTH:
            plugins.add_health_part(part)
        for gauge in GAUGES:
            plugins.add_business_gauge(gauge)
